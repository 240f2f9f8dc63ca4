"""SMS on the clinic's Twilio number, against the running bot: requests signed the
way Twilio signs them (twilio's RequestValidator), TwiML replies, keywords."""
from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ElementTree

import pytest
import requests
from twilio.request_validator import RequestValidator

from components.sms_segments import segments
from components.sms_store import number_key
from conftest import SMS_HASH_KEY, TWILIO_TOKEN


class Phone:
    """One patient's phone texting the clinic's number."""

    def __init__(self, bot, number=None):
        self.bot = bot
        self.number = number or "+1720555" + str(uuid.uuid4().int)[:4]
        self.url = f"{bot.url}/webhooks/twilio/webhook"

    def post(self, body, sid=None, signature=True, token=TWILIO_TOKEN):
        params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                  "From": self.number, "To": "+13035550142", "Body": body, "NumSegments": "1"}
        headers = {}
        if signature:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(self.url, params)
        return requests.post(self.url, data=params, headers=headers, timeout=60)

    def text(self, body, **kwargs):
        response = self.post(body, **kwargs)
        assert response.status_code == 200, response.text
        return [node.text or "" for node in ElementTree.fromstring(response.text).iter("Message")]


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
    assert phone.text("Stop") == []                      # confirmed once only
    assert phone.text("what is an hsg") == []            # nothing while opted out
    helped = phone.text("help")
    assert settings["clinic_phone"] in helped[0] and "STOP" in helped[0]
    started = phone.text("start")
    assert len(started) == 1 and "STOP" in started[0]
    assert phone.text("what is an hsg")                  # answers again after START


def test_numbered_reply_picks_the_button(bot, domain):
    phone = Phone(bot)
    first = phone.text("does the hsg hurt?")
    buttons = sms_variant(domain, "utter_faq/pain")["buttons"]
    assert f"Reply 1 for {buttons[0]['title']}" in first[-1]
    picked = phone.text("1")
    assert picked and picked[0] != first[0]


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

    env = {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "HSG_SMS_HASH_KEY": SMS_HASH_KEY,
           "HSG_SMS_DB": str(tmp_path / "sms.sqlite3")}
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
