"""The content service in this process: Rasa's NLG protocol, the version and bundle
the bot polls (and the bot rendering exactly what the service renders), the login
wall, saves refused by the checks, rollback, and the report of unanswered messages;
the Spanish version of each answer: rendered for a Spanish conversation, edited,
checked, saved and reviewed on its own."""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import yaml
from conftest import ROOT

from common.settings import placeholders
from editor.accounts import Sessions, set_password
from editor.checks import load_rules
from editor.report import Report
from editor.service import ContentService, make_handler
from editor.store import FileContentStore, dump_answer, fill, normalise

TOKEN = "content-test-token"
EDITOR = ("nurse.kim", "a-long-password")


def spanish_stand_in(name, answer):
    """A Spanish version that passes every check, for an answer that has none yet in
    content/answers/ (the translations are written there separately): short sentences
    with the placeholders and words the checks want, and the English buttons and custom
    parts. Tests that save an answer need one: an answer without Spanish is refused."""
    rules = load_rules()
    spanish = {"reviewed_by": None, "reviewed_on": None}
    for form in ["sms"] if answer.get("sms_only") else ["web", "sms"]:
        part = answer.get(form) or {}
        if not part.get("text"):
            continue
        sentences = ["Texto de prueba."]
        sentences += [f"Dato: {{{token}}}." for token in sorted(set(re.findall(r"\{([a-z_]+)\}", part["text"])))]
        for word in rules["required_es"].get(name) or []:
            sentences.append(f"{word[0] if isinstance(word, list) else word}.")
        spanish[form] = dict(
            copy.deepcopy({key: part[key] for key in ("buttons", "custom") if key in part}), text=" ".join(sentences)
        )
    return spanish


def add_missing_spanish(content: Path) -> None:
    """Gives every answer file under `content` without a Spanish version a stand-in one."""
    for path in sorted((content / "answers").glob("*/*.yml")):
        answer = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not answer.get("es"):
            answer["es"] = spanish_stand_in(answer["response"], answer)
            path.write_text(dump_answer(normalise(answer)), encoding="utf-8")


@pytest.fixture()
def service(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    add_missing_spanish(tmp_path / "content")
    monkeypatch.setenv("HSG_EDITORS_FILE", str(tmp_path / "editors.json"))
    set_password(*EDITOR)
    content = ContentService(
        FileContentStore(tmp_path / "content"),
        TOKEN,
        Sessions("secret"),
        Report(tmp_path / "report.sqlite3", retention_days=30, low_confidence=0.6),
    )
    content.requests = Counter()  # (method, path) -> how many the service received

    class CountingHandler(make_handler(content)):
        def parse_request(self) -> bool:
            parsed = super().parse_request()
            if parsed:
                content.requests[(self.command, urlparse(self.path).path)] += 1
            return parsed

    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    content.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield content
    server.shutdown()
    server.server_close()


def nlg_request(
    response,
    channel="rest",
    slots=None,
    arguments=None,
    text="what is an hsg",
    intent="faq",
    confidence=0.95,
    message_id="m1",
):
    return {
        "response": response,
        "arguments": arguments or {},
        "channel": {"name": channel},
        "tracker": {
            "sender_id": "patient-1",
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "message_id": message_id,
                "intent": {"name": intent, "confidence": confidence},
                "intent_ranking": [{"name": intent, "confidence": confidence}],
            },
        },
    }


def login(service, name=EDITOR[0], password=EDITOR[1]):
    session = requests.Session()
    response = session.post(
        service.url + "/editor/login", data={"name": name, "password": password}, allow_redirects=False
    )
    return session, response


# --- NLG endpoint -----------------------------------------------------------------
def test_nlg_renders_the_web_and_the_sms_form_with_the_clinic_filled_in(service, settings):
    ask = lambda name, channel: requests.post(  # noqa: E731
        service.url + "/nlg",
        params={"token": TOKEN},
        json=nlg_request(name, channel=channel),
    ).json()
    answer = service.store.answers()["utter_faq/what_is_hsg"]
    assert ask("utter_faq/what_is_hsg", "rest")["text"] == answer["web"]["text"]
    assert ask("utter_faq/what_is_hsg", "twilio")["text"] == answer["sms"]["text"] != answer["web"]["text"]
    handoff = ask("utter_handoff", "rest")["text"]
    assert settings["clinic_phone"] in handoff and settings["booking_url"] in handoff and "{" not in handoff


def test_nlg_fills_slots_and_action_arguments(service):
    reply = requests.post(
        service.url + "/nlg",
        params={"token": TOKEN},
        json=nlg_request("utter_readback_period_start", arguments={"date_text": "Friday, November 20"}),
    ).json()
    assert "Friday, November 20" in reply["text"] and "{date_text}" not in reply["text"]


@pytest.mark.parametrize(
    "params,body,status",
    [
        ({}, nlg_request("utter_greet"), 401),
        ({"token": "wrong"}, nlg_request("utter_greet"), 401),
        ({"token": TOKEN}, b"{not json", 400),
        ({"token": TOKEN}, {"no": "response"}, 400),
        ({"token": TOKEN}, nlg_request("utter_no_such_thing"), 404),
    ],
)
def test_nlg_refuses_bad_requests(service, params, body, status):
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    assert requests.post(service.url + "/nlg", params=params, **kwargs).status_code == status
    assert requests.post(service.url + "/nlg", params={"token": TOKEN}, json=nlg_request("utter_greet")).ok


def test_a_saved_change_is_the_next_nlg_answer(service):
    session, _ = login(service)
    answer = service.store.answers()["utter_faq/duration"]
    answer["web"]["text"] = "The exam takes about 15 minutes. Plan for an hour at the clinic."
    assert session.post(service.url + "/editor/api/answers/utter_faq/duration", json={"answer": answer}).ok
    reply = requests.post(service.url + "/nlg", params={"token": TOKEN}, json=nlg_request("utter_faq/duration")).json()
    assert reply["text"] == "The exam takes about 15 minutes. Plan for an hour at the clinic."
    bundle = requests.get(service.url + "/nlg/bundle", params={"token": TOKEN}).json()
    assert bundle["responses"]["utter_faq/duration"][0]["text"] == reply["text"]
    assert requests.get(service.url + "/nlg/bundle").status_code == 401


def test_the_version_changes_with_a_save_and_needs_the_token(service):
    version = requests.get(service.url + "/nlg/version", params={"token": TOKEN}).json()
    bundle = requests.get(service.url + "/nlg/bundle", params={"token": TOKEN}).json()
    assert bundle["version"] == version["version"]
    assert (
        version["report"]
        == bundle["report"]
        == {
            "responses": [
                "utter_clarify_topic",
                "utter_default",
                "utter_fallback",
                "utter_guided_one",
                "utter_guided_three",
                "utter_out_of_scope",
            ],
            "low_confidence": 0.6,
        }
    )
    session, _ = login(service)
    answer = service.store.answers()["utter_faq/duration"]
    answer["web"]["text"] = "The exam takes about 15 minutes."
    assert session.post(service.url + "/editor/api/answers/utter_faq/duration", json={"answer": answer}).ok
    changed = requests.get(service.url + "/nlg/version", params={"token": TOKEN}).json()["version"]
    assert changed != version["version"]
    assert requests.get(service.url + "/nlg/bundle", params={"token": TOKEN}).json()["version"] == changed
    for params in ({}, {"token": "wrong"}):
        response = requests.get(service.url + "/nlg/version", params=params)
        assert response.status_code == 401 and "version" not in response.json()


def test_rendering_matches_rasas_own_templated_generator(service, settings):
    """editor/render.py must send what Rasa itself would send from the same responses."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    responses = service.responses()
    rasa_nlg = TemplatedNaturalLanguageGenerator(responses)
    slots = {"period_start": "2026-11-20", "cycle_length": None}
    arguments = {
        "date_text": "Friday, November 20",
        "start_text": "Monday, November 23",
        "end_text": "Friday, Nov 27",
        "start_day": 4,
        "end_day": 8,
        "start_iso": "2026-11-23",
        "end_iso": "2026-11-27",
    }
    from editor.render import render

    for name in responses:
        for language in (None, "en", "es"):
            for channel in ("rest", "twilio", "socketio"):
                with_language = dict(slots, language=language)
                ours = render(responses, name, channel, with_language, arguments)
                theirs = rasa_nlg.generate_from_slots(name, with_language, channel, **arguments)
                assert ours == theirs, (name, language, channel)


PARITY_SLOTS = {
    "period_start": "2026-11-20",
    "bleeding_end": "2026-11-24",
    "still_bleeding": False,
    "cycle_length": 30.0,
    "device_placed": "2026-08-27",
    "faq_mode": None,
}
PARITY_ARGUMENTS = {  # every {placeholder} the answers use, as the actions send them
    "date_text": "Friday, November 20",
    "start_text": "Monday, November 23",
    "end_text": "Friday, Nov 27",
    "start_day": 4,
    "end_day": 8,
    "start_iso": "2026-11-23",
    "end_iso": "2026-11-27",
    "today_iso": "2026-11-27",
    "bleeding_end_iso": "2026-11-24",
    "cycle_start_iso": "2026-11-20",
    "cycle_start_text": "Friday, November 20",
    "placed_text": "August 27",
    "check_text": "November 27",
    "topic_a": "the pain",
    "topic_b": "the results",
    "topic_a_key": "pain",
    "topic_b_key": "results",
    "topic_a_button": "Pain",
    "topic_b_button": "Results",
    "topic_c": "when to book",
    "topic_c_key": "timing",
    "topic_c_button": "When to book",
    "topic_a_payload": "/faq/pain",
    "topic_b_payload": "/faq/results",
    "topic_c_payload": "/timing",
    "group_name": "Dates",
    # what Rasa passes on from an action server's message besides the response name
    "text": None,
    "buttons": [],
    "elements": [],
    "custom": {},
    "template": None,
    "image": None,
    "attachment": None,
}


def test_the_bot_renders_every_answer_exactly_as_the_services_nlg_endpoint(service, tmp_path, monkeypatch, settings):
    """components/content_nlg.py renders from its copy with Rasa's templated generator;
    for every answer, on the web (rest) and SMS (twilio) channels, in an English and a
    Spanish conversation, with the same slots and action arguments (and with none), the
    result is what POST /nlg sends."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from components.content_nlg import ContentNLG

    domain = Domain.load(str(ROOT / "build" / "domain.yml"))
    session, _ = login(service)  # an edited answer too, so the copy is the service's and not the model's
    answer = service.store.answers()["utter_faq/duration"]
    answer["web"]["text"] = "The X-ray part takes about 15 minutes. Plan on an hour at the clinic."
    assert session.post(service.url + "/editor/api/answers/utter_faq/duration", json={"answer": answer}).ok
    monkeypatch.setenv("HSG_CONTENT_TOKEN", TOKEN)
    monkeypatch.setenv("HSG_CONTENT_LKG", str(tmp_path / "lkg.json"))
    nlg = ContentNLG(EndpointConfig(url=service.url + "/nlg", timeout=5, poll_seconds=60), domain)
    events = [SlotSet(name, value) for name, value in PARITY_SLOTS.items()]
    trackers = [
        DialogueStateTracker.from_events(
            "patient-1",
            events
            + language
            + [UserUttered("when is my window", intent={"name": "timing", "confidence": 0.99}, message_id="m1")],
            slots=domain.slots,
        )
        for language in ([], [SlotSet("language", "es")])
    ]
    assert trackers[0].current_state()["slots"]["period_start"] == "2026-11-20"
    assert trackers[1].current_state()["slots"]["language"] == "es"
    values_es = placeholders(settings, "es")
    responses = service.responses()
    assert set(responses) == set(domain.responses)
    assert (
        responses["utter_faq/duration"][0]["text"]
        == answer["web"]["text"]
        != domain.responses["utter_faq/duration"][0]["text"]
    )

    async def compare() -> int:
        compared, spanish = 0, 0
        for name in sorted(responses):
            for tracker in trackers:
                state = tracker.current_state()
                for channel in ("rest", "twilio"):
                    for arguments in (PARITY_ARGUMENTS, {}):
                        ours = await nlg.generate(
                            name, tracker, channel, domain_responses=domain.responses, **dict(arguments)
                        )
                        body = {
                            "response": name,
                            "arguments": arguments,
                            "tracker": state,
                            "channel": {"name": channel},
                        }
                        theirs = await asyncio.to_thread(
                            lambda body=body: requests.post(
                                service.url + "/nlg", params={"token": TOKEN}, json=body
                            ).json()
                        )
                        assert ours == theirs, (name, channel, arguments == {}, state["slots"].get("language"))
                        compared += 1
                        if tracker is trackers[1] and channel == "rest" and not arguments:
                            es = service.store.answers()[name]["es"]
                            assert ours["text"] == fill((es.get("web") or es["sms"])["text"], values_es), name
                            spanish += 1
        await nlg.close()
        assert spanish == len(responses)  # the Spanish conversation got the Spanish forms
        return compared

    assert asyncio.run(compare()) == len(responses) * 8
    assert nlg.copy_version == service.store.version()  # the service's answers, not the model's
    assert service.requests[("GET", "/nlg/bundle")] == 1


# --- login wall ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/editor"),
        ("get", "/editor/report"),
        ("get", "/editor/api/answers"),
        ("get", "/editor/api/report"),
        ("get", "/editor/api/answers/utter_greet"),
        ("post", "/editor/api/answers/utter_greet"),
        ("post", "/editor/api/answers/utter_greet/rollback"),
    ],
)
def test_the_editor_and_the_report_refuse_requests_without_a_login(service, method, path):
    response = getattr(requests, method)(service.url + path, json={}, allow_redirects=False)
    assert response.status_code in (303, 401)
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/editor/login")
    assert "utter_greet" not in response.text and "text" not in response.text


def test_a_wrong_password_a_tampered_cookie_and_an_unknown_editor_get_no_session(service):
    session, response = login(service, password="not-the-password")
    assert (
        "error=bad" in response.headers["Location"] and session.get(service.url + "/editor/api/me").status_code == 401
    )
    _, response = login(service, name="nobody")
    assert "error=bad" in response.headers["Location"]
    session, response = login(service)
    assert response.headers["Location"] == "/editor"
    assert session.get(service.url + "/editor/api/me").json()["editor"] == EDITOR[0]
    cookie = session.cookies.get("hsg_editor")
    assert EDITOR[0] not in cookie  # the cookie carries only a random session id (and its HMAC)
    session_id, signature = cookie.split(".")
    for tampered in (
        session_id[:-1] + ("A" if session_id[-1] != "A" else "B") + "." + signature,
        session_id + "." + "0" * len(signature),
        EDITOR[0] + "|9999999999|" + signature,
    ):
        forged = requests.Session()
        forged.cookies.set("hsg_editor", tampered)
        assert forged.get(service.url + "/editor/api/me").status_code == 401


def test_repeated_wrong_passwords_pause_logins_for_that_name_without_locking_it_out(service):
    for _ in range(3):
        login(service, password="wrong-password")
    _, response = login(service)  # even the right password waits now
    assert response.status_code == 429 and "Too many tries" in response.text
    time.sleep(int(response.headers["Retry-After"]))
    session, response = login(service)  # a pause, not a lock-out
    assert response.status_code == 303 and response.headers["Location"] == "/editor"
    assert session.get(service.url + "/editor/api/me").json()["editor"] == EDITOR[0]


def test_writes_from_another_site_or_without_json_are_refused(service):
    session, _ = login(service)
    answer = service.store.answers()["utter_greet"]
    url = service.url + "/editor/api/answers/utter_greet"
    assert session.post(url, json={"answer": answer}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert session.post(url, data="answer=x").status_code == 415
    assert session.post(url, data=b"{broken", headers={"Content-Type": "application/json"}).status_code == 400
    assert session.post(url, json=["not", "an", "object"]).status_code == 400
    assert session.post(service.url + "/editor/api/answers/utter_nothing", json={"answer": answer}).status_code == 404
    assert session.post(url, json={"answer": answer}).ok


# --- saves refused by the checks, history and rollback --------------------------------
@pytest.mark.parametrize(
    "change,words,language",
    [
        (
            lambda a: a["web"].update(
                text="Notwithstanding considerable interindividual variability, procedural "
                "discomfort predominantly manifests as transient uterine contractility."
            ),
            "reading grade",
            "en",
        ),
        (lambda a: a["sms"].update(text="Cramps fade. " * 26), "SMS segments", "en"),
        (lambda a: a.update(source=""), "does not name its source", "en"),
        (lambda a: a["web"].update(text="Call {clinic_fone} today."), "{clinic_fone}", "en"),
        (lambda a: a["web"].update(text="An HSG is guaranteed to help you get pregnant."), "promises an outcome", "en"),
        # the Spanish version: each reason names it ("(Spanish web)", "(Spanish sms)")
        (
            lambda a: a["es"]["web"].update(text="La HSG le garantiza un embarazo."),
            "(Spanish web): it promises an outcome",
            "es",
        ),
        (lambda a: a["es"]["sms"].update(text="Los cólicos pasan pronto. " * 11), "more than 4", "es"),
        (
            lambda a: a["es"]["web"].update(
                text="No obstante la considerable variabilidad interindividual, la incomodidad "
                "procedimental se manifiesta predominantemente como contractilidad "
                "uterina transitoria."
            ),
            "reading ease",
            "es",
        ),
        (lambda a: a["es"]["sms"].update(text="Llame al {clinic_fone}."), "{clinic_fone}", "es"),
        (lambda a: a.pop("es"), "there is no Spanish version", "es"),
    ],
)
def test_a_save_that_fails_a_check_is_refused_with_the_reason(service, change, words, language):
    session, _ = login(service)
    answer = service.store.answers()["utter_faq/pain"]
    before = service.store.path_of("utter_faq/pain").read_text()
    change(answer)
    response = session.post(service.url + "/editor/api/answers/utter_faq/pain", json={"answer": answer})
    assert response.status_code == 422
    named = [m for m in response.json()["messages"] if words in m and ("(Spanish" in m) == (language == "es")]
    assert named, response.json()["messages"]
    assert service.store.path_of("utter_faq/pain").read_text() == before  # nothing was written
    check = session.post(service.url + "/editor/api/answers/utter_faq/pain/check", json={"answer": answer}).json()
    assert any(words in message for message in check["messages"])


def test_history_and_one_click_rollback_through_the_api(service):
    session, _ = login(service)
    url = service.url + "/editor/api/answers/utter_faq/duration"
    original = session.get(url).json()
    assert original["version"] == 1 and original["previews"]["sms"]["segments"] <= 2
    answer = dict(original["answer"])
    answer["web"] = dict(answer["web"], text="It takes about 15 minutes.")
    saved = session.post(url, json={"answer": answer, "note": "shorter", "reviewed": True, "base_version": 1}).json()
    assert saved["version"] == 2
    now = session.get(url).json()
    assert now["answer"]["reviewed_by"] == EDITOR[0] and now["answer"]["reviewed_on"] == time.strftime("%Y-%m-%d")
    assert [(h["version"], h["by"], h["note"]) for h in now["history"]][-1] == (2, EDITOR[0], "shorter")
    stale = session.post(url, json={"answer": answer, "base_version": 1})
    assert stale.status_code == 409 and "changed by" in stale.json()["error"]
    back = session.post(url + "/rollback", json={"version": 1, "base_version": 2}).json()
    assert back["version"] == 3
    assert session.get(url).json()["answer"] == original["answer"]
    assert session.post(url + "/rollback", json={"version": "one", "base_version": 3}).status_code == 400
    assert session.post(url + "/rollback", json={"version": 1}).status_code == 400  # no base version


# --- report of unanswered messages ------------------------------------------------------------
def test_the_report_endpoint_records_what_the_report_keeps_and_needs_the_token(service):
    url = service.url + "/nlg/report"
    fallback = nlg_request(
        "utter_fallback", text="can my husband come in", intent="nlu_fallback", confidence=0.45, message_id="r1"
    )
    assert requests.post(url, json=fallback).status_code == 401
    assert requests.post(url, params={"token": "wrong"}, json=fallback).status_code == 401
    assert requests.post(url, params={"token": TOKEN}, data=b"{not json").status_code == 400
    assert service.report.groups() == []
    assert requests.post(url, params={"token": TOKEN}, json=fallback).json() == {"recorded": True}
    confident = nlg_request("utter_faq/pain", text="does it hurt", confidence=0.97, message_id="r2")
    assert requests.post(url, params={"token": TOKEN}, json=confident).json() == {"recorded": False}
    assert [g["text"] for g in service.report.groups()] == ["can my husband come in"]


def test_the_report_groups_fallbacks_and_unsure_answers_and_forgets_old_ones(service):
    post = lambda **kw: requests.post(  # noqa: E731
        service.url + "/nlg",
        params={"token": TOKEN},
        json=nlg_request(**kw),
    ).raise_for_status()
    post(
        response="utter_fallback",
        text="Can my husband come in?",
        intent="nlu_fallback",
        confidence=0.45,
        message_id="a",
    )
    post(
        response="utter_fallback", text="can my husband come in", intent="nlu_fallback", confidence=0.45, message_id="b"
    )
    post(
        response="utter_fallback", text="can my husband come in", intent="nlu_fallback", confidence=0.45, message_id="b"
    )  # the same message again (a second reply to it): counted once
    post(response="utter_faq/pain", text="is it sore", intent="faq", confidence=0.5, message_id="c")
    post(
        response="utter_out_of_scope", text="what is the weather", intent="out_of_scope", confidence=0.9, message_id="d"
    )
    post(response="utter_faq/pain", text="does it hurt", intent="faq", confidence=0.97, message_id="e")
    post(response="utter_greet", text="/greet", intent="greet", confidence=1.0, message_id="f")
    session, _ = login(service)
    groups = session.get(service.url + "/editor/api/report").json()["groups"]
    assert [(g["count"], g["kinds"]) for g in groups][0] == (2, {"not understood": 2})
    texts = {g["text"] for g in groups}
    assert "is it sore" in texts and "what is the weather" in texts
    assert "does it hurt" not in texts and "/greet" not in texts
    assert "patient-1" not in str(groups)  # no sender ids
    # Retention: a month and a day later, everything is gone.
    assert service.report.groups(now=time.time() + 31 * 86400) == []
    assert service.report.groups() == []


# --- the Spanish version -----------------------------------------------------------------------
def nlg_text(service, name, channel="rest", language=None):
    slots = {"language": language} if language else {}
    return requests.post(
        service.url + "/nlg", params={"token": TOKEN}, json=nlg_request(name, channel=channel, slots=slots)
    ).json()["text"]


def test_a_spanish_conversation_gets_the_spanish_forms_with_the_clinics_spanish_words(service, settings):
    values_es = placeholders(settings, "es")
    for name in ("utter_faq/results", "utter_faq/what_is_hsg", "utter_sms_help"):
        answer = service.store.answers()[name]
        spanish = answer["es"]
        web_es = (spanish.get("web") or spanish["sms"])["text"]
        assert nlg_text(service, name, "rest", "es") == fill(web_es, values_es)
        assert nlg_text(service, name, "twilio", "es") == fill(spanish["sms"]["text"], values_es)
        english = (answer.get("web") or answer["sms"])["text"]
        for language in ("en", None):
            assert nlg_text(service, name, "rest", language) == fill(english, placeholders(settings))
    results = nlg_text(service, "utter_faq/results", "rest", "es")
    if "{results_days}" in service.store.answers()["utter_faq/results"]["es"]["web"]["text"]:
        assert settings["results_days_es"] in results and settings["results_days"] not in results
    bundle = requests.get(service.url + "/nlg/bundle", params={"token": TOKEN}).json()["responses"]
    spanish_condition = [{"type": "slot", "name": "language", "value": "es"}]
    for name, variants in bundle.items():
        assert [v.get("channel") for v in variants if v.get("condition") == spanish_condition] == (
            [None] if service.store.answers()[name].get("sms_only") else [None, "twilio"]
        ), name


def test_the_editor_shows_the_spanish_forms_with_their_own_numbers(service):
    session, _ = login(service)
    data = session.get(service.url + "/editor/api/answers/utter_faq/pain").json()
    assert data["answer"]["es"]["web"]["text"] and data["answer"]["es"]["sms"]["text"]
    previews = data["previews"]
    assert previews["es_web"]["text"] and previews["es_web"]["ease"] >= 65 and "grade" not in previews["es_web"]
    assert previews["es_sms"]["segments"] <= 4 and previews["es_sms"]["encoding"] in ("GSM-7", "UCS-2")
    assert previews["web"]["grade"] <= 8 and "ease" not in previews["web"]
    assert data["limits"]["min_reading_ease_es"] == 65 and data["limits"]["max_sms_segments_es"] == 4
    listing = session.get(service.url + "/editor/api/answers").json()
    assert "utter_faq/pain" in listing["spanish_unreviewed"] and listing["median_reading_ease_es"] >= 70
    row = next(r for r in listing["answers"] if r["answer"] == "utter_faq/pain")
    assert row["has_spanish"] and row["spanish_unreviewed"] and row["es_sms_segments"] <= 4


def test_an_editor_saves_the_spanish_text_and_a_spanish_conversation_gets_it_next(service):
    session, _ = login(service)
    url = service.url + "/editor/api/answers/utter_faq/duration"
    original = session.get(url).json()
    answer = copy.deepcopy(original["answer"])
    answer["es"]["web"]["text"] = "El examen dura unos 15 minutos. Cuente con una hora en la clínica."
    answer["es"]["sms"]["text"] = "El examen dura unos 15 minutos."
    check = session.post(url + "/check", json={"answer": answer}).json()
    assert check["problems"] == [] and check["previews"]["es_sms"]["text"] == "El examen dura unos 15 minutos."
    saved = session.post(url, json={"answer": answer, "note": "español", "base_version": original["version"]}).json()
    assert saved["version"] == original["version"] + 1
    assert nlg_text(service, "utter_faq/duration", "rest", "es") == answer["es"]["web"]["text"]
    assert nlg_text(service, "utter_faq/duration", "twilio", "es") == "El examen dura unos 15 minutos."
    assert nlg_text(service, "utter_faq/duration", "rest") == original["answer"]["web"]["text"]  # English unchanged
    text = service.store.path_of("utter_faq/duration").read_text(encoding="utf-8")
    assert "Cuente con una hora en la clínica." in text and list(yaml.safe_load(text))[-1] == "es"
    history = session.get(url).json()["history"]
    assert history[-1]["note"] == "español"
    assert history[-1]["answer"]["es"]["sms"]["text"] == answer["es"]["sms"]["text"]
    back = session.post(url + "/rollback", json={"version": original["version"], "base_version": saved["version"]})
    assert back.ok and nlg_text(service, "utter_faq/duration", "rest", "es") == original["answer"]["es"]["web"]["text"]


def test_the_spanish_version_is_reviewed_on_its_own(service):
    session, _ = login(service)
    url = service.url + "/editor/api/answers/utter_faq/duration"
    original = session.get(url).json()
    assert not original["answer"]["es"].get("reviewed_by")
    saved = session.post(url, json={"answer": original["answer"], "reviewed_es": True, "base_version": 1}).json()
    now = session.get(url).json()["answer"]
    assert saved["version"] == 2 and now["es"]["reviewed_by"] == EDITOR[0]
    assert now["es"]["reviewed_on"] == time.strftime("%Y-%m-%d")
    assert now["reviewed_by"] == original["answer"]["reviewed_by"]  # the English review is another matter
    assert "utter_faq/duration" not in session.get(service.url + "/editor/api/answers").json()["spanish_unreviewed"]
    english_only = session.post(url, json={"answer": now, "reviewed": True, "base_version": 2}).json()
    again = session.get(url).json()["answer"]
    assert english_only["version"] == 3 and again["reviewed_by"] == EDITOR[0] and again["es"] == now["es"]
    without = dict(again, es=None)
    response = session.post(url, json={"answer": without, "reviewed_es": True, "base_version": 3})
    assert response.status_code == 400 and "no Spanish version" in response.json()["error"]


def test_an_sms_only_answer_keeps_only_a_spanish_sms_form(service):
    session, _ = login(service)
    url = service.url + "/editor/api/answers/utter_sms_help"
    answer = session.get(url).json()["answer"]
    answer["es"]["web"] = {"text": "No debería guardarse."}
    assert session.post(url, json={"answer": answer}).ok
    assert "web" not in service.store.answers()["utter_sms_help"]["es"]


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.labels = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.fields.append(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])


def test_the_editor_page_has_labelled_spanish_fields_marked_as_spanish():
    page = (ROOT / "editor" / "static" / "editor.html").read_text(encoding="utf-8")
    parser = _Fields()
    parser.feed(page)
    ids = {field.get("id"): field for field in parser.fields}
    for name in ("es-web-text", "es-sms-text"):
        assert ids[name].get("lang") == "es" and name in parser.labels, name
    for field in parser.fields:  # every field has a label: <label for>, a wrapping <label>, or aria-label
        assert (
            field.get("id") in parser.labels
            or field.get("aria-label")
            or re.search(r'<label[^>]*>\s*<input[^>]*id="' + re.escape(field.get("id", "")) + '"', page)
        ), field
    assert 'id="reviewed-es"' in page and "bilingual clinician" in page and 'id="spanish-filter"' in page
    script = (ROOT / "editor" / "static" / "editor.js").read_text(encoding="utf-8")
    assert 'title.lang = "es"' in script and 'reviewed_es: $("reviewed-es").checked' in script
    assert "spanishUnreviewed" in script and "answer.es = {" in script
