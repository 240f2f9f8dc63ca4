"""The staff's first text (editor/first_text.py, editor/staff_texts.py): numbers normalised
with phonenumbers, the request's checks and the text from the content store without a bot;
then at the running services, the staff API and the staff page send it in English and
Spanish through the Twilio mock, the patient's reply goes on in that conversation with its
context, an opted-out number is refused, and a bad number gets a 400 naming the problem."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
import yaml
from conftest import CLINIC_NUMBER, STAFF_TOKEN, TODAY
from test_sms import Phone
from test_web import browser  # noqa: F401 - a fixture

from common.settings import fill, load_settings, placeholders
from common.sms_segments import segments
from common.sms_store import SmsStore, number_key
from editor.first_text import REASONS, Refused, normalise_number, read_request, spoken_date

ROOT = Path(__file__).resolve().parent.parent


# --- numbers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, e164",
    [
        ("(720) 555-0123", "+17205550123"),
        ("720.555.0123", "+17205550123"),
        ("1-720-555-0123", "+17205550123"),
        ("+1 720 555 0123", "+17205550123"),
        (" +52 55 1234 5678 ", "+525512345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+34 612 34 56 78", "+34612345678"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, e164):
    assert normalise_number(raw, "US") == e164


@pytest.mark.parametrize(
    "raw, region, problem",
    [
        ("", "US", "the mobile number is missing"),
        ("call me", "US", "not a phone number"),
        ("555-0123", "US", "not a valid mobile number"),
        ("(720) 555-01234", "US", "not a valid mobile number"),
        ("7911 123456", "US", "for another country, start with + and its code"),
        ("7205550123", "", "missing +country code"),
        ("+999 720 555 0123", "US", "missing +country code (or an unknown one)"),
        ("+1 800 555 0123", "US", "not a mobile number"),
        ("+44 20 7946 0958", "US", "not a mobile number"),
        ("1", "US", "not a phone number"),
    ],
)
def test_a_bad_number_is_refused_naming_the_problem(raw, region, problem):
    with pytest.raises(Refused) as refused:
        normalise_number(raw, region)
    assert refused.value.status == 400
    assert problem in refused.value.message


def test_the_region_setting_reads_numbers_without_a_plus(monkeypatch):
    monkeypatch.setenv("HSG_PHONE_REGION", "mx")
    assert normalise_number("55 1234 5678") == "+525512345678"
    monkeypatch.setenv("HSG_PHONE_REGION", "")
    with pytest.raises(Refused, match="missing \\+country code"):
        normalise_number("720 555 0123")


# --- the request and the text -----------------------------------------------------------
@pytest.mark.parametrize(
    "data, problem",
    [
        ([], "JSON object"),
        ({"mobile": "7205550123", "reason": "book_hsg"}, "language must be en or es"),
        ({"mobile": "7205550123", "language": "fr", "reason": "book_hsg"}, "language must be en or es"),
        ({"mobile": "7205550123", "language": "en", "reason": "hello"}, "reason must be one of"),
        ({"mobile": "7205550123", "language": "en", "reason": "hsg_booked"}, "hsg_date (YYYY-MM-DD) is needed"),
        ({"mobile": "7205550123", "language": "en", "reason": "hsg_booked", "hsg_date": "12/4"}, "hsg_date"),
        ({"mobile": "7205550123", "language": "en", "reason": "hsg_booked", "hsg_date": "2026-11-26"}, "past"),
        ({"mobile": "7205550123", "language": "en", "reason": "hsg_booked", "hsg_date": "2028-11-26"}, "a year"),
        ({"mobile": "72055", "language": "en", "reason": "book_hsg"}, "not a valid mobile number"),
    ],
)
def test_a_bad_request_is_refused_naming_the_problem(data, problem):
    with pytest.raises(Refused) as refused:
        read_request(data, TODAY)
    assert refused.value.status == 400 and problem in refused.value.message


def test_dates_are_spoken_in_the_patients_language():
    assert spoken_date(date(2026, 12, 4), TODAY, "en") == "Friday, December 4"
    assert spoken_date(date(2026, 12, 4), TODAY, "es") == "viernes, 4 de diciembre"
    assert spoken_date(date(2027, 1, 6), TODAY, "en") == "Wednesday, January 6, 2027"
    assert spoken_date(date(2027, 1, 6), TODAY, "es") == "miércoles, 6 de enero de 2027"


def expected_text(content_dir: Path, reason: str, language: str, date_text: str = "") -> str:
    """The first text as the content files and clinic settings make it."""
    answer = yaml.safe_load((content_dir / "answers" / "first_text" / f"{reason}.yml").read_text(encoding="utf-8"))
    form = answer["es"]["sms"] if language == "es" else answer["sms"]
    values = dict(placeholders(load_settings(), language), date_text=date_text)
    return fill(form["text"], values)


@pytest.mark.parametrize("reason", REASONS)
@pytest.mark.parametrize("language", ["en", "es"])
def test_each_first_text_says_who_we_are_that_it_is_automated_and_stop(reason, language):
    text = expected_text(ROOT / "content", reason, language, "miércoles, 30 de septiembre de 2027")
    settings = load_settings()
    assert settings["clinic_name"] in text and "STOP" in text
    assert ("automated" if language == "en" else "automático") in text
    assert "{" not in text
    _, count = segments(text)
    assert count <= (2 if language == "en" else 4)


# --- at the running services --------------------------------------------------------------
def new_number() -> str:
    return "+1720555" + str(uuid.uuid4().int)[:4]


def api(bot, data, token=STAFF_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(bot.content_url + "/staff/api/first-text", json=data, headers=headers, timeout=60)


def sent_to(twilio_mock, number):
    return [m for m in twilio_mock.messages() if m["to"] == number]


def sms_key(bot, number):
    return number_key(bot.env["HSG_SMS_HASH_KEY"], number)


def test_staff_send_a_first_text_in_english_and_the_reply_goes_on_in_that_conversation(bot, twilio_mock):
    number = new_number()
    local = f"({number[2:5]}) {number[5:8]}-{number[8:]}"  # as staff type it
    answer = api(bot, {"mobile": local, "language": "en", "reason": "book_hsg"})
    assert answer.status_code == 201, answer.text
    [message] = sent_to(twilio_mock, number)
    expected = expected_text(Path(bot.env["HSG_CONTENT_DIR"]), "book_hsg", "en")
    assert message["body"] == expected == answer.json()["text"]
    assert (message["from"], message["sid"], answer.json()["to"]) == (CLINIC_NUMBER, answer.json()["sid"], number)
    assert message["status_callback"] == bot.env["TWILIO_STATUS_CALLBACK_URL"]
    store = SmsStore(Path(bot.env["HSG_SMS_DB"]))
    assert store.sent_status(message["sid"])["kind"] == "first_text"
    key = sms_key(bot, number)
    tracker = bot.tracker(key)
    assert (tracker["slots"]["language"], tracker["slots"]["staff_reason"]) == ("en", "book_hsg")
    assert [e["text"] for e in tracker["events"] if e["event"] == "bot"] == [expected]
    replies = Phone(bot, number).text("Does it hurt?")
    assert replies and "discomfort" in " ".join(replies).lower()
    after = bot.tracker(key)
    assert (after["slots"]["language"], after["slots"]["staff_reason"]) == ("en", "book_hsg")
    assert [e["text"] for e in after["events"] if e["event"] == "bot"][0] == expected  # one conversation
    assert twilio_mock.report_status(message["sid"], "delivered") == 204
    assert store.sent_status(message["sid"])["status"] == "delivered"
    logs = bot.logs()
    assert number not in logs and number[2:] not in logs and expected not in logs


def test_staff_send_a_first_text_in_spanish_and_the_reply_keeps_spanish_and_the_date(bot, twilio_mock):
    number = new_number()
    answer = api(bot, {"mobile": number, "language": "es", "reason": "hsg_booked", "hsg_date": "2026-12-04"})
    assert answer.status_code == 201, answer.text
    [message] = sent_to(twilio_mock, number)
    expected = expected_text(Path(bot.env["HSG_CONTENT_DIR"]), "hsg_booked", "es", "viernes, 4 de diciembre")
    assert message["body"] == expected and "viernes, 4 de diciembre" in expected
    key = sms_key(bot, number)
    phone = Phone(bot, number)
    phone.text("ok")  # a short reply keeps the conversation's language
    slots = bot.tracker(key)["slots"]
    assert (slots["language"], slots["staff_reason"], slots["hsg_date"]) == ("es", "hsg_booked", "2026-12-04")
    replies = " ".join(phone.text("¿Duele mucho?")).lower()
    assert any(word in replies for word in ("molestia", "dolor", "cólico")), replies
    slots = bot.tracker(key)["slots"]
    assert (slots["language"], slots["hsg_date"]) == ("es", "2026-12-04")


def test_an_opted_out_number_is_never_texted(bot, twilio_mock):
    number = new_number()
    phone = Phone(bot, number)
    phone.text("STOP")
    answer = api(bot, {"mobile": number, "language": "en", "reason": "device_check"})
    assert answer.status_code == 409 and "opted out" in answer.json()["error"]
    assert sent_to(twilio_mock, number) == []
    phone.text("START")
    assert api(bot, {"mobile": number, "language": "en", "reason": "device_check"}).status_code == 201
    assert len(sent_to(twilio_mock, number)) == 1


def test_a_number_twilio_says_opted_out_is_refused_and_remembered(bot, twilio_mock):
    number = new_number()
    twilio_mock.fail(1, status=400, code=21610)
    answer = api(bot, {"mobile": number, "language": "en", "reason": "book_hsg"})
    assert answer.status_code == 409
    assert SmsStore(Path(bot.env["HSG_SMS_DB"])).is_opted_out(sms_key(bot, number))
    assert api(bot, {"mobile": number, "language": "en", "reason": "book_hsg"}).status_code == 409
    assert sent_to(twilio_mock, number) == []


def test_twilio_down_is_a_503_and_the_next_request_works(bot, twilio_mock):
    number = new_number()
    twilio_mock.fail(1, status=503)
    answer = api(bot, {"mobile": number, "language": "en", "reason": "book_hsg"})
    assert answer.status_code == 503 and "try again" in answer.json()["error"]
    assert api(bot, {"mobile": number, "language": "en", "reason": "book_hsg"}).status_code == 201


@pytest.mark.parametrize(
    "mobile, problem",
    [("555-0123", "not a valid mobile number"), ("", "missing"), ("+1 800 555 0123", "not a mobile number")],
)
def test_a_bad_number_gets_a_400_naming_the_problem(bot, twilio_mock, mobile, problem):
    before = len(twilio_mock.messages())
    answer = api(bot, {"mobile": mobile, "language": "en", "reason": "book_hsg"})
    assert answer.status_code == 400 and problem in answer.json()["error"]
    assert len(twilio_mock.messages()) == before


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_the_api_needs_the_staff_token(bot, twilio_mock, token):
    before = len(twilio_mock.messages())
    answer = api(bot, {"mobile": new_number(), "language": "en", "reason": "book_hsg"}, token=token)
    assert answer.status_code == 401
    assert len(twilio_mock.messages()) == before


def test_a_malformed_body_is_a_4xx_and_the_next_request_works(bot):
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}", "Content-Type": "application/json"}
    url = bot.content_url + "/staff/api/first-text"
    assert requests.post(url, data=b"{not json", headers=headers, timeout=30).status_code == 400
    assert requests.post(url, data=b"[1, 2]", headers=headers, timeout=30).status_code == 400
    assert requests.post(url, data=b"x" * 20000, headers=headers, timeout=30).status_code == 413
    assert api(bot, {"mobile": new_number(), "language": "en", "reason": "book_hsg"}).status_code == 201


# --- the staff page ------------------------------------------------------------------
def logged_in(bot, role):
    from editor.accounts import set_password

    name, password = f"test.{role}.{uuid.uuid4().hex[:6]}", "a-long-test-password"
    set_password(name, password, Path(bot.env["HSG_EDITORS_FILE"]), role=role)
    session = requests.Session()
    session.post(
        bot.content_url + "/editor/login", data={"name": name, "password": password}, allow_redirects=False, timeout=30
    )
    return session


def test_the_staff_page_sends_a_first_text_for_staff_and_admins_only(bot, twilio_mock):
    page = bot.content_url + "/editor/staff"
    assert requests.get(page, allow_redirects=False, timeout=30).headers["Location"].startswith("/editor/login")
    origin = {"Origin": bot.content_url}
    for role in ("staff", "admin"):
        session = logged_in(bot, role)
        shown = session.get(page, timeout=30)
        assert shown.status_code == 200 and "Mobile number" in shown.text
        number = new_number()
        data = {"mobile": number, "language": "es", "reason": "device_check"}
        sent = session.post(bot.content_url + "/editor/api/first-text", json=data, headers=origin, timeout=60)
        assert sent.status_code == 201, sent.text
        assert sent_to(twilio_mock, number)[0]["body"] == sent.json()["text"]
    editor = logged_in(bot, "editor")
    assert editor.get(page, timeout=30).status_code == 403
    data = {"mobile": new_number(), "language": "en", "reason": "book_hsg"}
    refused = editor.post(bot.content_url + "/editor/api/first-text", json=data, headers=origin, timeout=30)
    assert refused.status_code == 403
    staff = logged_in(bot, "staff")
    landing = staff.get(bot.content_url + "/editor", allow_redirects=False, timeout=30)
    assert landing.headers["Location"] == "/editor/staff"  # staff land on the texting page
    assert editor.get(bot.content_url + "/editor", allow_redirects=False, timeout=30).status_code == 200
    other_site = {"Origin": "https://evil.example.org"}
    refused = staff.post(bot.content_url + "/editor/api/first-text", json=data, headers=other_site, timeout=30)
    assert refused.status_code == 403
    assert sent_to(twilio_mock, data["mobile"]) == []


def a_day_ago(db_path, sender):
    """Moves a conversation's events a day into the past, as Rasa reads them (their JSON)."""
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(db_path)) as connection, connection:
        connection.execute(
            "UPDATE events SET timestamp = timestamp - 86400, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - 86400) WHERE sender_id = ?",
            (sender,),
        )


def test_the_context_is_kept_when_she_replies_days_later_and_in_later_sessions(bot, twilio_mock):
    """Rasa ends a session an hour after the patient's last message, so her first reply,
    however late, goes on in the session the first text began; a session after that keeps
    her language, the reason and the date (actions/session.py CARRIED_SLOTS)."""
    number = new_number()
    data = {"mobile": number, "language": "es", "reason": "hsg_booked", "hsg_date": "2026-12-09"}
    sent = api(bot, data)
    assert sent.status_code == 201
    key, phone = sms_key(bot, number), Phone(bot, number)
    a_day_ago(bot.env["HSG_TRACKER_DB"], key)
    phone.text("ok")
    sessions = lambda: [e["event"] for e in bot.tracker(key)["events"]].count("session_started")  # noqa: E731
    assert sessions() == 1  # the same session
    a_day_ago(bot.env["HSG_TRACKER_DB"], key)
    phone.text("ok")
    assert sessions() == 2  # a new session
    slots = bot.tracker(key)["slots"]
    assert (slots["language"], slots["staff_reason"], slots["hsg_date"]) == ("es", "hsg_booked", "2026-12-09")


def test_staff_send_a_first_text_from_the_page_in_a_browser(bot, twilio_mock, browser):
    """The page in Chromium: log in as staff, fill the form (a booked HSG shows the date
    field), send, and the page shows the text that went out; a bad number shows the problem."""
    from editor.accounts import set_password

    name, password = f"test.browser.{uuid.uuid4().hex[:6]}", "a-long-test-password"
    set_password(name, password, Path(bot.env["HSG_EDITORS_FILE"]), role="staff")
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto(bot.content_url + "/editor/staff")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Text a patient").wait_for()
    number = new_number()
    assert not page.get_by_label("Date of her HSG").is_visible()
    page.get_by_label("Mobile number").fill(f"({number[2:5]}) {number[5:8]}-{number[8:]}")
    page.get_by_label("Her language").select_option("es")
    page.get_by_label("Why we text her").select_option("hsg_booked")
    page.get_by_label("Date of her HSG").fill("2026-12-04")
    page.get_by_role("button", name="Send the first text").click()
    page.get_by_text("Sent to " + number).wait_for()
    assert "viernes, 4 de diciembre" in sent_to(twilio_mock, number)[0]["body"]
    page.get_by_label("Mobile number").fill("555-0123")
    page.get_by_role("button", name="Send the first text").click()
    page.get_by_text("Not sent: not a valid mobile number").wait_for()
    context.close()
