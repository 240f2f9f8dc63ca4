"""Texts the project sends itself (common/outbound.py) through the twilio library, against
the local Twilio mock (scripts/twilio_mock.py), and their delivery status: the SMS
store's record (common/sms_store.py) and the signed status callback at the running bot."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from conftest import CLINIC_NUMBER, TWILIO_ACCOUNT, TWILIO_TOKEN
from twilio.request_validator import RequestValidator

from common.outbound import PermanentSendError, TemporarySendError, TwilioSettings, send_sms
from common.sms_store import SmsStore

PATIENT = "+17205550123"


def settings_for(mock, token: str = TWILIO_TOKEN, callback: str = "https://bot.example.org/webhooks/twilio/status"):
    return TwilioSettings(TWILIO_ACCOUNT, token, CLINIC_NUMBER, callback, mock.url)


def test_a_text_goes_out_through_the_twilio_library_and_the_mock_records_it(twilio_mock):
    twilio_mock.reset()
    sid = send_sms(PATIENT, "Hello from the clinic", settings=settings_for(twilio_mock))
    assert sid.startswith("SM") and len(sid) == 34
    [message] = twilio_mock.messages()
    assert message["sid"] == sid
    assert (message["to"], message["from"], message["body"]) == (PATIENT, CLINIC_NUMBER, "Hello from the clinic")
    assert message["status_callback"] == "https://bot.example.org/webhooks/twilio/status"
    assert message["status"] == "queued"


def test_the_callback_may_be_given_per_text_or_left_out(twilio_mock):
    twilio_mock.reset()
    send_sms(PATIENT, "one", status_callback="https://other.example.org/s", settings=settings_for(twilio_mock))
    send_sms(PATIENT, "two", status_callback="", settings=settings_for(twilio_mock))
    assert [m["status_callback"] for m in twilio_mock.messages()] == ["https://other.example.org/s", None]


def test_the_settings_come_from_the_environment(twilio_mock, monkeypatch):
    twilio_mock.reset()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", CLINIC_NUMBER)
    monkeypatch.setenv("TWILIO_API_BASE", twilio_mock.url + "/")
    monkeypatch.delenv("TWILIO_STATUS_CALLBACK_URL", raising=False)
    sid = send_sms(PATIENT, "from the environment")
    assert [m["sid"] for m in twilio_mock.messages()] == [sid]


def test_a_wrong_auth_token_is_a_permanent_error(twilio_mock):
    twilio_mock.reset()
    with pytest.raises(PermanentSendError) as refused:
        send_sms(PATIENT, "hello", settings=settings_for(twilio_mock, token="wrong-token"))
    assert (refused.value.status, refused.value.code) == (401, 20003)
    assert twilio_mock.messages() == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_or_429_is_temporary_and_the_next_try_goes_out(twilio_mock, status):
    twilio_mock.reset()
    twilio_mock.fail(2, status=status)
    for _ in range(2):
        with pytest.raises(TemporarySendError) as failed:
            send_sms(PATIENT, "try me", settings=settings_for(twilio_mock))
        assert failed.value.status == status
    sid = send_sms(PATIENT, "try me", settings=settings_for(twilio_mock))
    assert [m["sid"] for m in twilio_mock.messages()] == [sid]


def test_a_refused_number_at_twilio_is_permanent(twilio_mock):
    twilio_mock.reset()
    twilio_mock.fail(1, status=400, code=21610)  # the patient replied STOP at the carrier
    with pytest.raises(PermanentSendError) as refused:
        send_sms(PATIENT, "hello", settings=settings_for(twilio_mock))
    assert (refused.value.status, refused.value.code) == (400, 21610)


def test_an_unreachable_api_is_temporary():
    from scripts.servers import free_ports

    closed = TwilioSettings(TWILIO_ACCOUNT, TWILIO_TOKEN, CLINIC_NUMBER, "", f"http://127.0.0.1:{free_ports(1)[0]}")
    with pytest.raises(TemporarySendError) as failed:
        send_sms(PATIENT, "hello", settings=closed)
    assert failed.value.status is None


@pytest.mark.parametrize("number", ["7205550123", "+1 720 555 0123", "", "+0123456789", "++17205550123"])
def test_a_number_not_in_e164_is_refused_before_any_request(twilio_mock, number):
    twilio_mock.reset()
    with pytest.raises(PermanentSendError, match="E.164"):
        send_sms(number, "hello", settings=settings_for(twilio_mock))
    assert twilio_mock.messages() == []


@pytest.mark.parametrize("body", ["", "   ", "x" * 1601])
def test_an_empty_or_too_long_text_is_refused(twilio_mock, body):
    with pytest.raises(PermanentSendError, match="1 to 1600"):
        send_sms(PATIENT, body, settings=settings_for(twilio_mock))


def test_missing_settings_are_named():
    with pytest.raises(PermanentSendError) as refused:
        send_sms(PATIENT, "hello", settings=TwilioSettings("", "token", "", "", "https://api.twilio.com"))
    assert "TWILIO_ACCOUNT_SID" in str(refused.value) and "TWILIO_FROM_NUMBER" in str(refused.value)
    assert "TWILIO_AUTH_TOKEN" not in str(refused.value)


def test_no_number_or_text_is_logged_at_info(twilio_mock, caplog):
    twilio_mock.reset()
    twilio_mock.fail(1, status=500)
    caplog.set_level(logging.INFO)
    with pytest.raises(TemporarySendError):
        send_sms(PATIENT, "Private words here", settings=settings_for(twilio_mock))
    sid = send_sms(PATIENT, "Private words here", settings=settings_for(twilio_mock))
    logged = "\n".join(record.getMessage() for record in caplog.records if record.levelno >= logging.INFO)
    assert sid in logged  # the send is logged, by its MessageSid
    for secret in (PATIENT, PATIENT[2:], "Private words", CLINIC_NUMBER, TWILIO_TOKEN):
        assert secret not in logged


# --- the delivery status in the SMS store ---------------------------------------------
def test_a_late_status_never_replaces_a_final_one(tmp_path):
    store = SmsStore(tmp_path / "sms.sqlite3")
    store.record_sent("SM1", "first_text")
    store.record_status("SM1", "sent")
    store.record_status("SM1", "delivered")
    store.record_status("SM1", "sent")  # callbacks may arrive out of order
    assert store.sent_status("SM1")["status"] == "delivered"
    store.record_status("SM2", "failed", "30003")  # a callback before record_sent
    store.record_sent("SM2", "reminder")
    assert {k: store.sent_status("SM2")[k] for k in ("kind", "status", "error_code")} == {
        "kind": "reminder",
        "status": "failed",
        "error_code": "30003",
    }
    store.record_sent("SM3", "reminder")
    assert store.status_counts("reminder") == {"failed": 1, "queued": 1}
    assert store.status_counts() == {"delivered": 1, "failed": 1, "queued": 1}
    assert store.purge(before=10**12)["sent"] == 3
    assert store.sent_status("SM1") is None


# --- the signed status callback at the running bot ----------------------------------------
def bot_store(bot) -> SmsStore:
    return SmsStore(Path(bot.env["HSG_SMS_DB"]))


def test_the_status_callback_records_delivered_and_failed(bot, twilio_mock):
    callback = bot.env["TWILIO_STATUS_CALLBACK_URL"]
    store = bot_store(bot)
    delivered = send_sms(PATIENT, "one", settings=settings_for(twilio_mock, callback=callback))
    failed = send_sms(PATIENT, "two", settings=settings_for(twilio_mock, callback=callback))
    store.record_sent(delivered, "first_text")
    store.record_sent(failed, "first_text")
    assert twilio_mock.report_status(delivered, "sent") == 204
    assert twilio_mock.report_status(delivered, "delivered") == 204
    assert twilio_mock.report_status(failed, "failed", "30006") == 204
    assert store.sent_status(delivered)["status"] == "delivered"
    assert (store.sent_status(failed)["status"], store.sent_status(failed)["error_code"]) == ("failed", "30006")
    assert PATIENT not in bot.logs() and PATIENT[2:] not in bot.logs()


def status_form(sid: str) -> dict:
    return {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": TWILIO_ACCOUNT, "To": PATIENT}


@pytest.mark.parametrize("signature", [None, "forged", "other-token"])
def test_a_status_callback_without_a_good_signature_is_refused(bot, signature):
    url = bot.env["TWILIO_STATUS_CALLBACK_URL"]
    form = status_form("SMforged0001")
    headers = {}
    if signature == "forged":
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    elif signature == "other-token":
        headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(url, form)
    answer = requests.post(url, data=form, headers=headers, timeout=30)
    assert answer.status_code == 403
    assert bot_store(bot).sent_status("SMforged0001") is None


def test_a_status_callback_without_its_fields_is_a_400_and_the_next_one_works(bot):
    url = bot.env["TWILIO_STATUS_CALLBACK_URL"]
    for form in ({"MessageSid": "SMbad0001"}, {"MessageSid": "SMbad0001", "MessageStatus": "exploded"}):
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        assert requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 400
    form = status_form("SMgood0001")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    assert requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 204
    assert bot_store(bot).sent_status("SMgood0001")["status"] == "delivered"
