"""Texts the project sends first (the staff's first text, reminders), through Twilio's
REST API with the twilio library (no Rasa imports).

    sid = send_sms("+17205550100", body)            # the MessageSid ("SM...")

Settings (the environment, or `.env`, which scripts/run.sh loads):
    TWILIO_ACCOUNT_SID          the account (AC...), the user name of the API's basic auth
    TWILIO_AUTH_TOKEN           the same auth token the SMS channel checks signatures with
    TWILIO_FROM_NUMBER          the clinic's Twilio number, in E.164 (+1303...)
    TWILIO_STATUS_CALLBACK_URL  the public URL of /webhooks/twilio/status, given to Twilio
                                with each text so it reports delivered or failed (optional)
    TWILIO_API_BASE             where the API is (default https://api.twilio.com); the
                                tests point it at scripts/twilio_mock.py

A failed send raises `TemporarySendError` (no answer, a timeout, 429, a 5xx: try again
later, with back-off) or `PermanentSendError` (a refused number, a patient who opted out
at the carrier, bad credentials, missing settings: trying again will not help), each with
Twilio's HTTP status and error code when there was one. Nothing is retried here: the
caller decides when (and records the MessageSid in the SMS store, common/sms_store.py
`record_sent`, so the status callback can be matched to it).

Privacy: no phone number or message text is logged; the twilio library's own request
log (INFO: URLs and headers) is kept at WARNING.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

logger = logging.getLogger(__name__)
_http_logger = logging.getLogger("hsg.outbound.twilio_http")
_http_logger.setLevel(logging.WARNING)  # the library logs every request at INFO

DEFAULT_API_BASE = "https://api.twilio.com"
TIMEOUT_SECONDS = 10.0
MAX_BODY_CHARS = 1600  # Twilio's limit for one message
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SendError(Exception):
    """A text that did not go out; `status` is the API's HTTP status (None: no answer),
    `code` Twilio's error code (https://www.twilio.com/docs/errors/<code>)."""

    def __init__(self, reason: str, status: Optional[int] = None, code: Optional[int] = None) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code


class TemporarySendError(SendError):
    """Worth trying again later: the API did not answer, or answered 429 or 5xx."""


class PermanentSendError(SendError):
    """Trying again will not help: the request, the number or the settings are wrong."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str
    status_callback: str
    api_base: str

    @classmethod
    def from_env(cls) -> TwilioSettings:
        return cls(
            account_sid=os.environ.get("TWILIO_ACCOUNT_SID", "").strip(),
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN", "").strip(),
            from_number=os.environ.get("TWILIO_FROM_NUMBER", "").strip(),
            status_callback=os.environ.get("TWILIO_STATUS_CALLBACK_URL", "").strip(),
            api_base=(os.environ.get("TWILIO_API_BASE") or DEFAULT_API_BASE).strip().rstrip("/"),
        )

    def missing(self) -> list:
        names = {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token}
        names["TWILIO_FROM_NUMBER"] = self.from_number
        return [name for name, value in names.items() if not value]


class ApiBaseHttpClient(TwilioHttpClient):
    """The twilio library's HTTP client, sending to `api_base` instead of
    https://api.twilio.com (same paths, same auth): the library's supported way to
    change how requests go out is its `http_client`."""

    def __init__(self, api_base: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout, logger=_http_logger)
        self.api_base = urlsplit(api_base)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.endswith("twilio.com") and self.api_base.netloc:
            base = self.api_base
            url = urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


_clients: Dict[Tuple[str, str, str], Client] = {}
_clients_lock = threading.Lock()


def client(settings: TwilioSettings) -> Client:
    """One twilio Client per account and API base in this process (it keeps its connections)."""
    key = (settings.account_sid, settings.auth_token, settings.api_base)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            http_client = ApiBaseHttpClient(settings.api_base)
            found = _clients[key] = Client(settings.account_sid, settings.auth_token, http_client=http_client)
        return found


def _check(to_e164: str, body: str, settings: TwilioSettings) -> None:
    missing = settings.missing()
    if missing:
        raise PermanentSendError("texts cannot be sent: set " + ", ".join(missing))
    if not E164.match(to_e164 or ""):
        raise PermanentSendError("the number is not in E.164 form (+ and country code)")
    if not body.strip() or len(body) > MAX_BODY_CHARS:
        raise PermanentSendError(f"the text must have 1 to {MAX_BODY_CHARS} characters")


def send_sms(
    to_e164: str, body: str, status_callback: Optional[str] = None, settings: Optional[TwilioSettings] = None
) -> str:
    """Sends one text from the clinic's number and returns its MessageSid. `status_callback`
    is the URL Twilio reports delivery to (default TWILIO_STATUS_CALLBACK_URL; "" for none).
    Raises TemporarySendError or PermanentSendError (see the module's docstring)."""
    settings = settings or TwilioSettings.from_env()
    _check(to_e164, body, settings)
    callback = settings.status_callback if status_callback is None else status_callback
    options: Dict[str, Any] = {"to": to_e164, "from_": settings.from_number, "body": body}
    if callback:
        options["status_callback"] = callback
    try:
        message = client(settings).messages.create(**options)
    except TwilioRestException as error:
        kind = TemporarySendError if error.status == 429 or error.status >= 500 else PermanentSendError
        logger.warning("A text was not sent: Twilio answered HTTP %s (error %s)", error.status, error.code)
        raise kind(f"Twilio answered HTTP {error.status}", error.status, error.code) from None
    except requests.RequestException as error:
        logger.warning("A text was not sent: Twilio's API could not be reached (%s)", type(error).__name__)
        raise TemporarySendError("Twilio's API could not be reached") from None
    logger.info("Sent a text: %s (%s)", message.sid, message.status)
    return str(message.sid)
