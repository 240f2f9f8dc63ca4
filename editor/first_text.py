"""The staff's first text (issue 26): a staff member gives a patient's mobile number,
her language and why the clinic writes (an HSG to book, an HSG booked on a date, an
Essure/Adiana check); the assistant texts her first, and her reply goes on in the bot
with that context in its slots.

    POST /staff/api/first-text     Authorization: Bearer HSG_STAFF_TOKEN (another system)
    POST /editor/api/first-text    the staff page (/editor/staff): a `staff` or `admin`
                                   login and a same-origin request
    JSON {"mobile": "(720) 555-0123", "language": "en" | "es",
          "reason": "book_hsg" | "hsg_booked" | "device_check", "hsg_date": "2026-12-04"}
    201 {"sid": "SM...", "to": "+17205550123", "language", "reason", "text"}
    400 what is wrong (the number: "not a valid mobile number", "missing +country code"...)
    409 the number opted out (STOP): it is never texted
    502/503 Twilio refused the text, or it or the bot could not be reached

The number is normalised to E.164 with `phonenumbers` (numbers without a + are read as
HSG_PHONE_REGION's, default US). The text is the answer `utter_first_text_<reason>`
(content/answers/first_text/, editable like any answer) in her language, with the
clinic's details and the date filled in. Before it goes out, the conversation the SMS
channel keeps for the number (common/sms_store.py `number_key`) starts a new session
with the slots `language`, `staff_reason` and `hsg_date`, through Rasa's HTTP API
(`POST /conversations/<id>/tracker/events`, HSG_API_TOKEN; Rasa at HSG_RASA_URL, default
http://127.0.0.1:RASA_PORT); after it, the text itself is added as the bot's message.
It is sent with common/outbound.py and recorded in the SMS store as a `first_text`, so
its delivery status is kept. No number or message text is logged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import phonenumbers
import requests
from babel.dates import format_date

from common.outbound import PermanentSendError, SendError, TemporarySendError, send_sms
from common.settings import fill, load_settings
from common.sms_store import BaseSmsStore, number_key

logger = logging.getLogger("hsg.content")
RESPONSES = {  # reason -> its first text (content/answers/first_text/)
    "book_hsg": "utter_first_text_book_hsg",
    "hsg_booked": "utter_first_text_hsg_booked",
    "device_check": "utter_first_text_device_check",
}
REASONS = tuple(RESPONSES)
LANGUAGES = ("en", "es")
OPTED_OUT_AT_CARRIER = 21610  # Twilio: the number replied STOP to the clinic's number
NOT_MOBILE = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.VOICEMAIL,
    phonenumbers.PhoneNumberType.UAN,
}
PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "missing +country code (or an unknown one)",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short to be a mobile number",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a mobile number",
    phonenumbers.NumberParseException.TOO_LONG: "too long to be a phone number",
}


class Refused(Exception):
    """A first text not sent: the HTTP status and the sentence for staff."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class FirstText:
    number: str  # E.164
    language: str
    reason: str
    hsg_date: Optional[date]


def phone_region() -> Optional[str]:
    """Where a number without + is from (HSG_PHONE_REGION, default US; empty: none)."""
    return os.environ.get("HSG_PHONE_REGION", "US").strip().upper() or None


def normalise_number(raw: Any, region: Optional[str] = None) -> str:
    """The number in E.164, or Refused(400) naming what is wrong with it. `region` reads
    numbers without a + (default HSG_PHONE_REGION; "" none)."""
    text = str(raw or "").strip()
    if not text:
        raise Refused(HTTPStatus.BAD_REQUEST, "the mobile number is missing")
    region = region if region is not None else phone_region()
    try:
        parsed = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException as error:
        problem = PARSE_PROBLEMS.get(error.error_type, "not a phone number")
        raise Refused(HTTPStatus.BAD_REQUEST, f"{problem}: check the mobile number") from None
    if not phonenumbers.is_valid_number(parsed):
        hint = "" if text.startswith("+") else f" in {region}; for another country, start with + and its code"
        raise Refused(HTTPStatus.BAD_REQUEST, f"not a valid mobile number{hint}")
    if phonenumbers.number_type(parsed) in NOT_MOBILE:
        raise Refused(HTTPStatus.BAD_REQUEST, "not a mobile number (a landline or a service number)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def clinic_today(settings: Dict[str, Any]) -> date:
    """Today in the clinic's time zone; HSG_TODAY=YYYY-MM-DD freezes it (tests), as for the bot."""
    frozen = os.environ.get("HSG_TODAY")
    if frozen:
        return date.fromisoformat(frozen)
    from datetime import datetime

    return datetime.now(ZoneInfo(settings["time_zone"])).date()


def read_request(data: Any, today: date) -> FirstText:
    """The request's fields, checked; Refused(400) names the first problem."""
    if not isinstance(data, dict):
        raise Refused(HTTPStatus.BAD_REQUEST, "send a JSON object with mobile, language and reason")
    language = str(data.get("language") or "").strip().lower()
    if language not in LANGUAGES:
        raise Refused(HTTPStatus.BAD_REQUEST, "language must be en or es")
    reason = str(data.get("reason") or "").strip()
    if reason not in REASONS:
        raise Refused(HTTPStatus.BAD_REQUEST, "reason must be one of " + ", ".join(REASONS))
    hsg_date = None
    if reason == "hsg_booked":
        try:
            hsg_date = date.fromisoformat(str(data.get("hsg_date") or ""))
        except ValueError:
            raise Refused(HTTPStatus.BAD_REQUEST, "hsg_date (YYYY-MM-DD) is needed for a booked HSG") from None
        if hsg_date < today:
            raise Refused(HTTPStatus.BAD_REQUEST, "hsg_date is in the past")
    return FirstText(normalise_number(data.get("mobile")), language, reason, hsg_date)


def spoken_date(value: date, today: date, language: str) -> str:
    """ "Friday, December 4" / "viernes, 4 de diciembre", with the year when it is not this year's."""
    same_year = value.year == today.year
    if language == "es":
        return format_date(value, "EEEE, d 'de' MMMM" + ("" if same_year else " 'de' y"), locale="es")
    return format_date(value, "EEEE, MMMM d" + ("" if same_year else ", y"), locale="en")


def body(answers: Dict[str, Any], values: Dict[str, str], request: FirstText, today: date) -> str:
    """The first text in the patient's language, from the content store, filled in."""
    answer = answers[RESPONSES[request.reason]]
    form = (answer.get("es") or {}).get("sms") if request.language == "es" else answer.get("sms")
    if not (form or {}).get("text"):
        form = answer["sms"]  # no Spanish version yet: English rather than nothing
    filled = dict(values)
    if request.hsg_date is not None:
        filled["date_text"] = spoken_date(request.hsg_date, today, request.language)
    return fill(form["text"], filled)


class RasaConversation:
    """The SMS conversation of a number in the bot, through Rasa's HTTP API."""

    def __init__(self, key: str) -> None:
        port = os.environ.get("RASA_PORT", "5005")
        self.url = (os.environ.get("HSG_RASA_URL") or f"http://127.0.0.1:{port}").rstrip("/")
        self.key = key

    def append(self, events: List[Dict[str, Any]]) -> None:
        """Appends events to the conversation; Refused(503) when the bot cannot take them."""
        try:
            answer = requests.post(
                f"{self.url}/conversations/{self.key}/tracker/events",
                params={"token": os.environ.get("HSG_API_TOKEN", ""), "include_events": "NONE"},
                json=events,
                timeout=15,
            )
        except requests.RequestException as error:
            logger.warning("First text: the bot could not be reached (%s)", type(error).__name__)
            raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, "the assistant is not running; try again soon") from None
        if answer.status_code != 200:
            logger.warning("First text: the bot refused the conversation's context (HTTP %d)", answer.status_code)
            raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, "the assistant could not take the text; try again soon")

    def start(self, request: FirstText) -> None:
        """A new session with the context slots (an earlier conversation's dates are not kept)."""
        self.append(
            [
                {"event": "action", "name": "action_session_start"},
                {"event": "session_started"},
                {"event": "slot", "name": "language", "value": request.language},
                {"event": "slot", "name": "staff_reason", "value": request.reason},
                {"event": "slot", "name": "hsg_date", "value": request.hsg_date and request.hsg_date.isoformat()},
                {"event": "action", "name": "action_listen"},
            ]
        )

    def record_text(self, text: str, reason: str) -> None:
        """The first text as the bot's message (after it went out); a failure only logs."""
        try:
            self.append(
                [
                    {"event": "bot", "text": text, "metadata": {"utter_action": RESPONSES[reason]}},
                    {"event": "action", "name": "action_listen"},
                ]
            )
        except Refused:
            pass  # logged by append; the text went out and the slots are set


def send_error(error: SendError) -> Refused:
    """How a failed send is answered to staff."""
    if isinstance(error, TemporarySendError):
        return Refused(HTTPStatus.SERVICE_UNAVAILABLE, "Twilio could not be reached; try again in a minute")
    if error.status is None:  # not even sent: the settings
        return Refused(HTTPStatus.SERVICE_UNAVAILABLE, f"texts are not set up: {error}")
    return Refused(HTTPStatus.BAD_GATEWAY, f"Twilio refused the text (error {error.code})")


def send_first_text(
    data: Any, store: BaseSmsStore, answers: Dict[str, Any], placeholders: Dict[str, Dict[str, str]], who: str
) -> Tuple[int, Dict[str, Any]]:
    """(HTTP status, JSON) of one first-text request; `placeholders` by language."""
    settings = load_settings()
    today = clinic_today(settings)
    hash_key = os.environ.get("HSG_SMS_HASH_KEY", "")
    try:
        if not hash_key:
            raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, "texts are not set up: HSG_SMS_HASH_KEY is not set")
        request = read_request(data, today)
        key = number_key(hash_key, request.number)
        if store.is_opted_out(key):
            raise Refused(HTTPStatus.CONFLICT, "this number opted out of texts (STOP); it was not texted")
        text = body(answers, placeholders[request.language], request, today)
        conversation = RasaConversation(key)
        conversation.start(request)
        sid = _send(request, text, store, key)
    except Refused as refused:
        return refused.status, {"error": refused.message}
    try:
        store.record_sent(sid, "first_text")
    except Exception as error:  # the text went out: say so; only its delivery status is not kept
        logger.warning("First text %s sent but not recorded in the SMS store (%s)", sid, type(error).__name__)
    conversation.record_text(text, request.reason)
    logger.info("First text sent by %s: %s, %s, %s", who, request.reason, request.language, sid)
    response = {"sid": sid, "to": request.number, "language": request.language, "reason": request.reason}
    return HTTPStatus.CREATED, dict(response, text=text)


def _send(request: FirstText, text: str, store: BaseSmsStore, key: str) -> str:
    """Sends the text; a number Twilio knows opted out is recorded as opted out here too."""
    try:
        return send_sms(request.number, text)
    except PermanentSendError as error:
        if error.code == OPTED_OUT_AT_CARRIER:
            store.opt_out(key)
            raise Refused(HTTPStatus.CONFLICT, "this number opted out of texts (STOP); it was not texted") from None
        raise send_error(error) from None
    except TemporarySendError as error:
        raise send_error(error) from None
