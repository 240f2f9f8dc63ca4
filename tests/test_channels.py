"""The REST channel's abuse limits and error logs (components/channels.py), the report's
daily cap (editor/report.py).

Against the running bot: one conversation past its limit gets 429 with the "wait a
minute, or call" answer in its language, and other patients are still answered. The
channel alone, on its own Sanic server on loopback with a stand-in for Rasa (as in
tests/test_sms.py): the per-address limit behind a trusted proxy, the urgent answer
past a limit, and the scrubbed traceback of a failure."""

from __future__ import annotations

import logging
import re
import uuid
from types import SimpleNamespace

import pytest
from test_sms import webhook
from test_sms_es import variant

WEBHOOK = "/webhooks/rest/webhook"


def web_text(domain, name, language="en"):
    return variant(domain, name, language, channel=None)["text"]


# --- at the running bot ----------------------------------------------------------------------
def test_one_conversation_past_its_limit_gets_429_and_other_patients_are_answered(bot, domain):
    """The per-conversation bucket (20 at once, then 10 a minute by default): the
    refused message gets a 429 with Retry-After and the answer saying to wait or call,
    reaches nothing (it is not in the conversation), and another patient, from the same
    address, is answered as usual."""
    sender = f"flood-{uuid.uuid4()}"
    answered = 0
    for _ in range(40):
        response = bot.send(sender, "does it hurt?")
        if response.status_code != 200:
            break
        answered += 1
    assert response.status_code == 429, response.text
    assert 20 <= answered <= 25
    body = response.json()
    assert body["error"] == "too_many_requests" and 1 <= body["retry_after"] <= 6
    assert response.headers["Retry-After"] == str(body["retry_after"])
    assert [m["text"] for m in body["messages"]] == [web_text(domain, "utter_rate_limited")]
    spanish = bot.send(sender, "¿me duele el estudio?")
    assert spanish.status_code == 429
    assert [m["text"] for m in spanish.json()["messages"]] == [web_text(domain, "utter_rate_limited", "es")]
    users = [e for e in bot.tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == answered  # the refused messages were never taken in
    assert bot.texts(f"other-{uuid.uuid4()}", "does it hurt?")


# --- the channel alone -----------------------------------------------------------------------
def agent_for(domain):
    """What the channel needs of Rasa's agent to render an answer: the NLG and the slots."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.slots import CategoricalSlot

    slots = [CategoricalSlot("language", mappings=[], values=["en", "es"], influence_conversation=False)]
    return SimpleNamespace(
        nlg=TemplatedNaturalLanguageGenerator(domain["responses"]), domain=SimpleNamespace(slots=slots)
    )


def rest_channel(sender_per_minute=0, sender_burst=0, client_per_minute=1, client_burst=3):
    from common.proxies import trusted_networks
    from components.channels import RateLimits, SafeRestInput, TokenBuckets

    limits = RateLimits(
        TokenBuckets(sender_per_minute, sender_burst),
        TokenBuckets(client_per_minute, client_burst),
        trusted=trusted_networks("127.0.0.1"),
        exempt=trusted_networks("127.0.0.1,::1"),
    )
    return SafeRestInput(limits=limits)


async def post(base, message, sender="patient-1", client=None):
    """(status, JSON body, Retry-After) of a message; `client` is the address a proxy on
    127.0.0.1 forwards in X-Forwarded-For."""
    import aiohttp

    headers = {"X-Forwarded-For": client} if client else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(base + WEBHOOK, json={"sender": sender, "message": message}, headers=headers) as reply,
    ):
        return reply.status, await reply.json(), reply.headers.get("Retry-After")


async def test_one_client_address_past_its_limit_gets_429_and_other_addresses_are_served(domain):
    taken = []

    async def answer(message):
        taken.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "An answer.")

    async with webhook(rest_channel(), answer, agent_for(domain), prefix="/webhooks/rest") as base:
        for number in range(3):  # a burst of 3, each from a new conversation
            assert (await post(base, "does it hurt?", f"s{number}", "203.0.113.5"))[0] == 200
        status, body, retry_after = await post(base, "does it hurt?", "s3", "203.0.113.5")
        assert status == 429 and body["error"] == "too_many_requests" and retry_after == "60"  # 1 a minute
        assert [m["text"] for m in body["messages"]] == [web_text(domain, "utter_rate_limited")]
        # What a client writes into X-Forwarded-For itself does not change its address.
        assert (await post(base, "does it hurt?", "s4", "198.51.100.1, 203.0.113.5"))[0] == 429
        assert (await post(base, "does it hurt?", "s5", "203.0.113.6"))[0] == 200  # another client
        assert (await post(base, "does it hurt?", "s6"))[0] == 200  # this machine itself is not limited
    assert len(taken) == 5


@pytest.mark.parametrize(
    "text,language", [("I fainted and I'm bleeding a lot", "en"), ("me desmayé y estoy sangrando mucho", "es")]
)
async def test_past_a_limit_a_worrying_symptom_still_gets_the_urgent_answer(domain, text, language):
    """A limit never stands between a patient and the urgent answer: it is sent (200),
    rendered in the message's language, though the message does not reach the bot."""
    taken = []

    async def answer(message):
        taken.append(message.text)

    channel = rest_channel(client_burst=1)
    async with webhook(channel, answer, agent_for(domain), prefix="/webhooks/rest") as base:
        assert (await post(base, "hello", client="203.0.113.5"))[0] == 200
        assert (await post(base, "what is an hsg", client="203.0.113.5"))[0] == 429
        status, body, _ = await post(base, text, client="203.0.113.5")
    assert status == 200 and [m["text"] for m in body] == [web_text(domain, "utter_urgent", language)]
    assert taken == ["hello"]


def test_token_buckets_refill_at_their_rate_and_forget_the_least_recently_used():
    from components.channels import TokenBuckets

    now = [1000.0]
    buckets = TokenBuckets(per_minute=6, burst=2, max_keys=2, clock=lambda: now[0])
    assert [buckets.wait("a") for _ in range(3)] == [0, 0, pytest.approx(10)]
    now[0] += 5
    assert buckets.wait("a") == pytest.approx(5)  # half a token back: 5 s to go
    now[0] += 5
    assert buckets.wait("a") == 0 and buckets.wait("a") == pytest.approx(10)
    assert buckets.wait("b") == 0 and buckets.wait("c") == 0  # "a" is forgotten: at most 2 kept
    assert buckets.wait("a") == 0
    assert TokenBuckets(per_minute=0, burst=5).wait("a") == 0  # 0: no limit


def test_client_address_believes_only_trusted_proxies():
    from common.proxies import client_address, trusted_networks

    proxies = trusted_networks("127.0.0.1, 10.0.0.0/8")
    assert client_address("203.0.113.5", "198.51.100.1", proxies) == "203.0.113.5"  # not a proxy: its own
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.5", proxies) == "203.0.113.5"
    assert client_address("::ffff:127.0.0.1", "203.0.113.5, 10.1.2.3", proxies) == "203.0.113.5"
    assert client_address("127.0.0.1", None, proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", "not-an-address", proxies) == "not-an-address"


# --- errors: where, without the patient's words ----------------------------------------------
def reads_the_model(text):
    raise KeyError(f"no intent for {text}")


def understands(text):
    try:
        reads_the_model(text)
    except KeyError as error:
        raise RuntimeError(f"could not read {text}") from error


async def test_a_failure_logs_where_it_happened_without_the_message(domain, caplog):
    caplog.set_level(logging.ERROR, logger="components.channels")
    secret = "my period started on the 3rd zebra" + uuid.uuid4().hex[:6]

    async def fails(message):
        understands(message.text)

    async with webhook(rest_channel(client_per_minute=0), fails, agent_for(domain), prefix="/webhooks/rest") as base:
        status, body, _ = await post(base, secret, sender="patient-" + uuid.uuid4().hex[:6])
    assert status == 503 and body == {"error": "temporarily_unavailable"}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "REST message failed (RuntimeError)" in logged
    for function in ("understands", "reads_the_model", "fails"):
        assert re.search(rf"tests/test_channels\.py:\d+ in {function}\b", logged), logged
    assert "KeyError" in logged and "which led to" in logged
    assert secret not in caplog.text and "zebra" not in caplog.text and "no intent" not in caplog.text


def test_a_scrubbed_traceback_names_files_lines_and_functions_only():
    from components.channels import scrubbed_traceback

    try:
        understands("the patient's words")
    except RuntimeError as error:
        text = scrubbed_traceback(error)
    lines = text.splitlines()
    assert lines[-1] == "RuntimeError" and "KeyError" in lines
    assert all(re.fullmatch(r"  \S+:\d+ in [\w<>.]+", line) for line in lines if line.startswith("  "))
    assert "patient" not in text and "could not read" not in text


# --- the report's daily cap ------------------------------------------------------------------
def test_the_report_keeps_at_most_its_daily_cap_and_warns_once(tmp_path, caplog):
    import sqlite3

    from editor.report import Report

    caplog.set_level(logging.WARNING, logger="editor.report")
    report = Report(tmp_path / "report.sqlite3", max_rows_per_day=3)

    def miss(number):
        latest = {"text": f"junk {number}", "message_id": f"m{number}", "intent": {"name": "nlu_fallback"}}
        return report.record("utter_fallback", {"latest_message": latest}, "rest")

    assert [miss(number) for number in range(6)] == [True, True, True, False, False, False]
    assert sum(group["count"] for group in report.groups()) == 3
    assert len([r for r in caplog.records if "at most 3 messages a day" in r.getMessage()]) == 1
    with sqlite3.connect(tmp_path / "report.sqlite3") as db:  # a day later, there is room again
        db.execute("UPDATE misses SET at = at - ?", (25 * 3600,))
    db.close()
    assert miss(7) is True
    assert "junk" not in caplog.text
