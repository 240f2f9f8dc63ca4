"""SMS on the clinic's Twilio number, against the running bot: requests signed the
way Twilio signs them (twilio's RequestValidator), TwiML replies, keywords.

The last part runs the channel's webhook alone, on its own Sanic server on loopback
with a stand-in for Rasa: the signature checked against the public URL behind a TLS
proxy, the warning for a refused signature, a failed answer left to Twilio's retry,
and the purge of the SMS store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import sqlite3
import subprocess
import time
import uuid
import xml.etree.ElementTree as ElementTree

import pytest
import requests
from conftest import ROOT, SMS_HASH_KEY, TWILIO_TOKEN
from twilio.request_validator import RequestValidator

from common.sms_segments import segments
from components.sms_store import number_key


class Phone:
    """One patient's phone texting the clinic's number."""

    def __init__(self, bot, number=None):
        self.bot = bot
        self.number = number or "+1720555" + str(uuid.uuid4().int)[:4]
        self.url = f"{bot.url}/webhooks/twilio/webhook"

    def post(self, body, sid=None, signature=True, token=TWILIO_TOKEN):
        params = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+13035550142",
            "Body": body,
            "NumSegments": "1",
        }
        headers = {}
        if signature:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(self.url, params)
        return requests.post(self.url, data=params, headers=headers, timeout=60)

    def text(self, body, **kwargs):
        response = self.post(body, **kwargs)
        assert response.status_code == 200, response.text
        return [node.text or "" for node in ElementTree.fromstring(response.content).iter("Message")]


def sms_variant(domain, name):
    return next(v for v in domain["responses"][name] if v.get("channel") == "twilio")


def test_a_question_gets_a_short_twiml_answer(bot, domain):
    replies = Phone(bot).text("does the hsg hurt?")
    assert replies and replies[0].startswith(sms_variant(domain, "utter_faq/pain")["text"][:40])
    assert all(segments(reply)[1] <= 2 for reply in replies)
    assert not any(re.search(r"[*_#<>]", reply) for reply in replies)


@pytest.mark.parametrize("signature,token", [(False, TWILIO_TOKEN), (True, "someone-elses-token")])
def test_unsigned_or_wrongly_signed_requests_get_403_and_no_reply(bot, signature, token):
    phone = Phone(bot)
    response = phone.post("what is an hsg", signature=signature, token=token)
    assert response.status_code == 403 and "<Message>" not in response.text
    tracker = bot.tracker(number_key(SMS_HASH_KEY, phone.number))
    assert not [e for e in tracker["events"] if e["event"] == "user"]


def test_stop_help_start(bot, settings):
    phone = Phone(bot)
    stopped = phone.text("STOP")
    assert len(stopped) == 1 and "START" in stopped[0]
    assert phone.text("Stop") == []  # confirmed once only
    assert phone.text("what is an hsg") == []  # nothing while opted out
    helped = phone.text("help")
    assert settings["clinic_phone"] in helped[0] and "STOP" in helped[0]
    started = phone.text("start")
    assert len(started) == 1 and "STOP" in started[0]
    assert phone.text("what is an hsg")  # answers again after START


def test_numbered_reply_picks_the_button(bot, domain):
    phone = Phone(bot)
    first = phone.text("does the hsg hurt?")
    buttons = sms_variant(domain, "utter_faq/pain")["buttons"]
    assert f"Reply 1 for {buttons[0]['title']}" in first[-1]
    picked = phone.text("1")
    assert picked and picked[0] != first[0]


def test_a_body_over_64_kb_gets_413_and_the_next_text_is_answered(bot):
    phone = Phone(bot)
    response = phone.post("x" * 70000)  # signed, but too big to be read at all
    assert response.status_code == 413
    assert phone.text("what is an hsg")


def test_a_duplicate_message_sid_is_answered_once(bot):
    phone = Phone(bot)
    sid = "SM" + uuid.uuid4().hex
    assert phone.text("what is an hsg", sid=sid)
    assert phone.text("what is an hsg", sid=sid) == []


def test_timing_window_over_sms(bot):
    phone = Phone(bot)
    first = " ".join(phone.text("My period started Nov 20, when can I have the HSG?"))
    assert "November 20" in first
    second = " ".join(phone.text("it stopped on the 24th"))
    assert "November 27" in second and "November 29" in second
    slots = bot.tracker(number_key(SMS_HASH_KEY, phone.number))["slots"]
    assert (slots["hsg_window_start"], slots["hsg_window_end"]) == ("2026-11-27", "2026-11-29")


def test_no_phone_number_in_the_tracker_store_or_logs(bot):
    phone = Phone(bot, number="+17205550199")
    phone.text("what is an hsg")
    tracker = json.dumps(bot.tracker(number_key(SMS_HASH_KEY, phone.number)))
    logs = bot.logs()
    for form in ("+17205550199", "7205550199"):
        assert form not in tracker and form not in logs


def test_opt_out_survives_a_restart(tmp_path):
    """STOP on one run of the servers still holds on the next run (same SMS store)."""
    from scripts.servers import start_bot

    env = {
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HSG_SMS_HASH_KEY": SMS_HASH_KEY,
        "HSG_SMS_DB": str(tmp_path / "sms.sqlite3"),
    }
    number = "+17205550123"
    first = start_bot(tmp_path / "first", 5405, 5455, "restart-test", extra_env=env, web_port=8405)
    try:
        assert Phone(first, number).text("STOP")
    finally:
        first.stop()
    second = start_bot(tmp_path / "second", 5405, 5455, "restart-test", extra_env=env, web_port=8405)
    try:
        phone = Phone(second, number)
        assert phone.text("what is an hsg") == []
        assert phone.text("START") and phone.text("what is an hsg")
    finally:
        second.stop()


# The webhook alone, on its own server (no Rasa): see the module's docstring.

WEBHOOK_PATH = "/webhooks/twilio/webhook"
PUBLIC_URL = "https://public.example" + WEBHOOK_PATH  # what Twilio calls, through a TLS proxy
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}
NUMBER = "+17205550177"


def sms_form(sid=None, body="what is an hsg"):
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": NUMBER,
        "To": "+13035550142",
        "Body": body,
        "NumSegments": "1",
    }


def make_channel(tmp_path, trusted_proxies="127.0.0.1", public_url=""):
    from components.twilio_sms import TwilioSmsInput

    return TwilioSmsInput(
        auth_token=TWILIO_TOKEN,
        hash_key=SMS_HASH_KEY,
        public_url=public_url,
        store_path=str(tmp_path / "sms.sqlite3"),
        trusted_proxies=trusted_proxies,
    )


async def answer(message):
    """A stand-in for Rasa: one reply to every message."""
    await message.output_channel.send_text_message(message.sender_id, "An answer.")


@contextlib.asynccontextmanager
async def webhook(channel, on_new_message=answer, agent=None, prefix="/webhooks/twilio"):
    """The channel's blueprint on a Sanic server on 127.0.0.1 (the peer address of every
    request in these tests); yields the server's base URL."""
    from sanic import Sanic

    Sanic.test_mode = True
    app = Sanic("webhook_" + uuid.uuid4().hex[:8])
    app.ctx.agent = agent
    app.blueprint(channel.blueprint(on_new_message), url_prefix=prefix)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)  # listening
    await server.startup()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
        for connection in list(server.connections):
            connection.close_if_idle()
        for _ in range(50):  # let the connections' tasks end with the test's event loop still open
            if not server.connections:
                break
            await asyncio.sleep(0.02)


async def post(base, form, signed_url=PUBLIC_URL, headers=PROXY_HEADERS, token=TWILIO_TOKEN):
    """(status, [message bodies]) of a signed POST to the webhook."""
    import aiohttp

    signature = RequestValidator(token).compute_signature(signed_url, form)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            base + WEBHOOK_PATH, data=form, headers=dict(headers, **{"X-Twilio-Signature": signature})
        ) as response,
    ):
        text = await response.text()
    messages = (
        [node.text or "" for node in ElementTree.fromstring(text).iter("Message")] if response.status == 200 else []
    )
    return response.status, messages


def warnings_of(caplog):
    return [
        record
        for record in caplog.records
        if record.name == "components.twilio_sms" and record.levelno == logging.WARNING
    ]


def test_forwarded_headers_are_ignored_from_an_address_not_configured_as_a_proxy(bot):
    """The embedded profile trusts no proxy unless HSG_TRUSTED_PROXIES says so: a request
    signed for the public URL a proxy would forward gets 403 when sent straight to Rasa."""
    form = sms_form()
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "public.example",
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL, form),
    }
    response = requests.post(f"{bot.url}{WEBHOOK_PATH}", data=form, headers=headers, timeout=60)
    assert response.status_code == 403 and "<Message>" not in response.text


async def test_signature_checked_against_the_public_url_forwarded_by_a_trusted_proxy(tmp_path):
    async with webhook(make_channel(tmp_path, trusted_proxies="127.0.0.1")) as base:
        assert await post(base, sms_form()) == (200, ["An answer."])


async def test_forwarded_headers_from_an_untrusted_address_are_ignored(tmp_path):
    async with webhook(make_channel(tmp_path, trusted_proxies="192.0.2.10")) as base:
        assert (await post(base, sms_form()))[0] == 403
        # Signed for the URL this server itself sees, the same request is accepted.
        assert (await post(base, sms_form(), signed_url=base + WEBHOOK_PATH))[0] == 200
    async with webhook(make_channel(tmp_path, trusted_proxies="")) as base:  # the embedded default
        assert (await post(base, sms_form()))[0] == 403


async def test_twilio_webhook_url_takes_priority_over_forwarded_headers(tmp_path):
    configured = "https://configured.example/sms" + WEBHOOK_PATH
    async with webhook(make_channel(tmp_path, public_url=configured)) as base:
        assert await post(base, sms_form(), signed_url=configured) == (200, ["An answer."])
        assert (await post(base, sms_form()))[0] == 403


async def test_a_bad_signature_gets_403_and_one_warning_naming_the_url_not_the_number(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="components.twilio_sms")
    called = []

    async def record(message):
        called.append(message)

    async with webhook(make_channel(tmp_path), record) as base:
        form = sms_form()
        assert await post(base, form, token="someone-elses-token") == (403, [])
        found = warnings_of(caplog)
        assert len(found) == 1, [record.getMessage() for record in found]
        line = found[0].getMessage()
        assert PUBLIC_URL in line
        bad_signature = RequestValidator("someone-elses-token").compute_signature(PUBLIC_URL, form)
        for secret in (NUMBER, NUMBER[2:], bad_signature, form["Body"], form["MessageSid"]):
            assert secret not in caplog.text
        # More refusals for the same URL add no warning (no flood), and Rasa saw nothing.
        for _ in range(3):
            assert (await post(base, sms_form(), token="someone-elses-token"))[0] == 403
        assert len(warnings_of(caplog)) == 1 and not called


async def test_a_failed_answer_is_not_recorded_and_twilios_retry_is_answered(tmp_path, caplog):
    channel = make_channel(tmp_path)
    calls = []

    async def fails_once(message):
        calls.append(message.text)
        if len(calls) == 1:
            raise RuntimeError("the bot failed")
        await answer(message)

    async with webhook(channel, fails_once) as base:
        form = sms_form()
        status, messages = await post(base, form)
        assert status == 500 and messages == []  # not a 200: Twilio may retry it
        assert not channel.store.is_answered(form["MessageSid"])
        assert await post(base, form) == (200, ["An answer."])  # Twilio's retry of the same message
        assert channel.store.is_answered(form["MessageSid"])
        assert await post(base, form) == (200, [])  # a retry of an answered message: no second answer
    assert len(calls) == 2
    assert NUMBER not in caplog.text and form["Body"] not in caplog.text


def test_forwarded_url_variants():
    from multidict import CIMultiDict

    from components.twilio_sms import forwarded_url, trusted_networks

    loopback = trusted_networks("127.0.0.1, ::1")
    here = ("http", "localhost:5005", WEBHOOK_PATH, "")

    def url(peer, **headers):
        return forwarded_url(peer, *here, CIMultiDict({k.replace("_", "-"): v for k, v in headers.items()}), loopback)

    assert url("127.0.0.1", X_Forwarded_Proto="https", X_Forwarded_Host="public.example") == PUBLIC_URL
    assert url("::ffff:127.0.0.1", Forwarded='for=192.0.2.1;proto=https;host="public.example"') == PUBLIC_URL
    assert (
        url("::1", X_Forwarded_Proto="https", X_Forwarded_Host="public.example", X_Forwarded_Port="8443")
        == "https://public.example:8443" + WEBHOOK_PATH
    )
    assert (
        url(
            "127.0.0.1",
            X_Forwarded_Proto="https, http",
            X_Forwarded_Host="public.example, proxy.local",
            X_Forwarded_Port="443",
        )
        == PUBLIC_URL
    )
    assert url("127.0.0.1", X_Forwarded_Host="bad host/x") == "http://localhost:5005" + WEBHOOK_PATH
    assert (
        url("192.0.2.7", X_Forwarded_Proto="https", X_Forwarded_Host="public.example")
        == "http://localhost:5005" + WEBHOOK_PATH
    )
    assert [str(n) for n in trusted_networks("10.0.0.0/8 192.0.2.1,not-an-address")] == ["10.0.0.0/8", "192.0.2.1/32"]


def test_trusted_proxies_default_to_nginx_in_the_production_profile_only(monkeypatch):
    from components.twilio_sms import default_trusted_proxies

    monkeypatch.delenv("HSG_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("HSG_PG_HOST", raising=False)
    assert default_trusted_proxies({}) == ""  # embedded: nothing trusted
    assert default_trusted_proxies({"trusted_proxies": ["10.0.0.2"]}) == ["10.0.0.2"]
    monkeypatch.setenv("HSG_PG_HOST", "127.0.0.1")  # scripts/run.sh --prod
    assert default_trusted_proxies({}) == "127.0.0.1,::1"
    monkeypatch.setenv("HSG_TRUSTED_PROXIES", "")  # explicitly none
    assert default_trusted_proxies({}) == ""


def test_purge_deletes_old_answered_ids_and_choices_and_keeps_opt_outs(tmp_path):
    from components.sms_store import SmsStore
    from scripts.purge import purge_sms

    path, day, now = tmp_path / "sms.sqlite3", 86400, time.time()
    store = SmsStore(path)
    for sid in ("SMold", "SMnew"):
        assert store.claim(sid) == "claimed"
        store.answered(sid)
        store.set_choices("sms-" + sid, [{"title": "Does it hurt?", "payload": "/faq"}])
        store.record_sent(sid + "sent", "first_text")  # a text sent first, and its delivery status
    store.opt_out("sms-SMold")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for table, column in (("answered", "sid"), ("choices", "key"), ("opt_out", "key"), ("sent", "sid")):
            db.execute(f"UPDATE {table} SET at = ? WHERE {column} LIKE '%SMold%'", (now - 40 * day,))
    assert purge_sms(path, 30, now) == {"answered": 1, "choices": 1, "pending": 0, "sent": 1}
    assert store.sent_status("SMoldsent") is None and store.sent_status("SMnewsent")
    assert not store.is_answered("SMold") and store.is_answered("SMnew")
    assert store.choices("sms-SMold") == [] and store.choices("sms-SMnew")
    assert store.is_opted_out("sms-SMold")  # an opt-out holds until START
    # `make purge` (scripts/purge.py) purges the SMS store with the conversations.
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE answered SET at = ?", (now - 2 * day,))
        db.execute("UPDATE choices SET at = ?", (now - 2 * day,))
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "scripts/purge.py", "--days", "1"],
        cwd=ROOT,
        env=dict(os.environ, HSG_SMS_DB=str(path), HSG_TRACKER_DB=str(tmp_path / "none.sqlite3")),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Deleted 1 answered SMS id(s), 1 saved SMS choice list(s) and 0 sent text status(es)" in result.stdout, (
        result.stdout
    )
    assert not store.is_answered("SMnew") and store.choices("sms-SMnew") == []


def test_a_store_from_before_choices_had_a_time_is_upgraded(tmp_path):
    from components.sms_store import SmsStore

    path = tmp_path / "old.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE choices (key TEXT PRIMARY KEY, payloads TEXT)")
        db.execute('INSERT INTO choices VALUES (\'sms-a\', \'[{"title": "A", "payload": "/a"}]\')')
    store = SmsStore(path)
    assert store.pick("sms-a", "1") == "/a"
    assert store.purge(time.time() - 86400)["choices"] == 0  # counted from the upgrade, not purged at once


def test_a_message_is_claimed_once_and_a_dead_servers_claim_expires(tmp_path):
    """Two deliveries of one message at once: only one is answered; a claim whose
    server died while answering no longer blocks Twilio's retry after CLAIM_SECONDS."""
    from components.sms_store import CLAIM_SECONDS, SmsStore

    path = tmp_path / "sms.sqlite3"
    first, second = SmsStore(path), SmsStore(path)  # e.g. the two Rasa servers of the production profile
    assert first.claim("SM1") == "claimed" and second.claim("SM1") == "busy"
    first.release("SM1")
    assert second.claim("SM1") == "claimed"
    second.answered("SM1")
    assert first.claim("SM1") == "answered"
    assert first.claim("SM2") == "claimed"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE pending SET at = ?", (time.time() - CLAIM_SECONDS - 1,))
    assert second.claim("SM2") == "claimed"


async def test_a_database_outage_gets_the_try_again_text_not_silence(tmp_path, domain):
    """While the conversation database cannot be reached, the patient is texted "please
    send it again in a minute, or call" (rendered by Rasa's own generator from the
    built answers), and that message counts as answered."""
    from types import SimpleNamespace

    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    from components.rasa_patches import ConversationStoreUnavailable

    async def outage(message):
        raise ConversationStoreUnavailable("OperationalError")

    agent = SimpleNamespace(
        nlg=TemplatedNaturalLanguageGenerator(domain["responses"]), domain=SimpleNamespace(slots=[])
    )
    channel = make_channel(tmp_path)
    async with webhook(channel, outage, agent) as base:
        form = sms_form()
        status, messages = await post(base, form)
    assert status == 200 and messages == [sms_variant(domain, "utter_store_unavailable")["text"]]
    assert channel.store.is_answered(form["MessageSid"])


async def test_during_an_outage_a_spanish_text_gets_the_try_again_text_in_spanish(tmp_path, domain):
    """The conversation (and its language) cannot be read: the message's own language decides."""
    from types import SimpleNamespace

    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.slots import CategoricalSlot
    from test_sms_es import variant

    from components.rasa_patches import ConversationStoreUnavailable

    async def outage(message):
        raise ConversationStoreUnavailable("OperationalError")

    slots = [CategoricalSlot("language", mappings=[], values=["en", "es"], influence_conversation=False)]
    agent = SimpleNamespace(
        nlg=TemplatedNaturalLanguageGenerator(domain["responses"]), domain=SimpleNamespace(slots=slots)
    )
    channel = make_channel(tmp_path)
    async with webhook(channel, outage, agent) as base:
        status, messages = await post(base, sms_form(body="hola, ¿cuánto tiempo dura el examen?"))
        _, english = await post(base, sms_form(body="how long does the exam take?"))
    assert status == 200 and messages == [variant(domain, "utter_store_unavailable", "es")["text"]]
    assert english == [variant(domain, "utter_store_unavailable", "en")["text"]]


# --- the store off the event loop, and texts of one number in order ---------------------------
def test_a_slow_sms_store_does_not_delay_a_web_patient_on_the_same_server(bot):
    """Another program holds the SMS store's SQLite file (a backup, `make purge`): a
    text waits for it, on the channel's own threads, while a web patient on the same
    Rasa server is answered at once, before the file is free again; then the text is
    answered too. (With the store called on Rasa's event loop, the web reply waited for
    the file: it came after the release.)"""
    import threading

    locker = sqlite3.connect(bot.env["HSG_SMS_DB"], isolation_level=None, check_same_thread=False)
    sms = {}

    def text():
        sms["response"] = Phone(bot).post("what is an hsg")
        sms["done"] = time.monotonic()

    locker.execute("BEGIN IMMEDIATE")  # the SMS store's writes wait for this transaction
    try:
        texting = threading.Thread(target=text)
        texting.start()
        time.sleep(1.0)  # the text is now waiting for the file
        started = time.monotonic()
        assert bot.texts(f"web-{uuid.uuid4()}", "does it hurt?")
        web_done = time.monotonic()
        time.sleep(max(0.0, started + 5.0 - time.monotonic()))  # hold the file 5 s after the web message
        assert "response" not in sms  # the text is still waiting
    finally:
        locker.execute("ROLLBACK")
        released = time.monotonic()
        locker.close()
    texting.join(timeout=60)
    assert web_done - started < 4.0 and web_done < released
    assert sms["response"].status_code == 200 and "<Message>" in sms["response"].text
    assert sms["done"] >= released


async def test_two_quick_texts_from_one_number_are_handled_in_order(tmp_path):
    """A question, then "1" a moment later, before the question's answer is made: the
    "1" waits for the question's choices and picks from them; the choices saved are the
    ones offered last."""
    taken = []

    async def slow_buttons(message):
        taken.append(message.text)
        if message.text == "does it hurt?":
            await asyncio.sleep(0.5)  # a slow turn: the "1" comes in meanwhile
            await message.output_channel.send_text_with_buttons(
                message.sender_id, "Most feel some discomfort.", [{"title": "How long", "payload": "/faq_duration"}]
            )
        else:
            await message.output_channel.send_text_with_buttons(
                message.sender_id, "About 30 minutes.", [{"title": "Book", "payload": "/book"}]
            )

    channel = make_channel(tmp_path)
    async with webhook(channel, slow_buttons) as base:
        first = asyncio.ensure_future(post(base, sms_form(body="does it hurt?")))
        await asyncio.sleep(0.1)
        second = await post(base, sms_form(body="1"))
        assert (await first)[0] == 200 and second[0] == 200
    assert taken == ["does it hurt?", "/faq_duration"]
    assert channel.store.choices(number_key(SMS_HASH_KEY, NUMBER)) == [{"title": "Book", "payload": "/book"}]
    assert not channel._turns  # nothing left behind per number


def test_an_older_list_of_choices_never_replaces_a_newer_one(tmp_path):
    """Two servers finishing two quick texts in the wrong order (production profile):
    the list of the later turn stays."""
    from components.sms_store import SmsStore

    store = SmsStore(tmp_path / "sms.sqlite3")
    store.set_choices("sms-a", [{"title": "Newer", "payload": "/newer"}], at=2000.0)
    store.set_choices("sms-a", [{"title": "Older", "payload": "/older"}], at=1000.0)
    assert store.pick("sms-a", "1") == "/newer"
    store.set_choices("sms-a", [], at=3000.0)
    assert store.choices("sms-a") == []


async def test_a_failed_text_logs_where_it_failed_without_the_number_or_the_words(tmp_path, caplog):
    caplog.set_level(logging.ERROR, logger="components.twilio_sms")

    def reads_the_text(text):
        raise ValueError(f"cannot read {text}")

    async def fails(message):
        reads_the_text(message.text)

    async with webhook(make_channel(tmp_path), fails) as base:
        form = sms_form(body="my period started Nov 20 zebra")
        assert (await post(base, form))[0] == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "SMS message failed" in logged and "(ValueError)" in logged
    assert re.search(r"tests/test_sms\.py:\d+ in reads_the_text\b", logged), logged
    assert re.search(r"components/twilio_sms\.py:\d+ in handle\b", logged), logged
    for secret in ("zebra", "Nov 20", NUMBER, NUMBER[2:], "cannot read"):
        assert secret not in caplog.text
