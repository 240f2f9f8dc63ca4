"""Twilio SMS channel: signed webhooks, TwiML replies, opt-out keywords.

Rasa's built-in Twilio connector does not check `X-Twilio-Signature`, so anyone who
finds its URL could make the clinic's number text any phone. This channel checks
every request with the twilio library's RequestValidator and the clinic's auth token
and refuses unsigned or wrongly signed ones with 403 before the bot sees them.
Replies go back as TwiML in the webhook's own response (no outbound API call).
Phone numbers are never logged or stored in clear: the conversation key is a keyed
hash of the number.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from actions.settings import load_settings, placeholders
from components.sms_segments import numbered
from components.sms_store import SmsStore, number_key
from editor.store import ContentStore, open_store, to_variants

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
# Carrier keywords (CTIA): opt out, opt back in, help. Matched on the whole message.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES"}  # YES counts only for a number that opted out
HELP_WORDS = {"HELP", "INFO"}
MAX_CHARS = 1600  # Twilio's own limit for one inbound message


class SmsCollector(CollectingOutputChannel):
    """Collects replies under the channel name `twilio`, so SMS response variants apply."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"


KEYWORD_REPLIES = ("utter_sms_stop", "utter_sms_start", "utter_sms_help")


def keyword_texts(store: ContentStore, domain_path: Path) -> Dict[str, str]:
    """The STOP/START/HELP replies, live from the content store (content/answers/
    sms_keywords/), so an editor's change applies to the next text; from the built
    domain when the store cannot be read."""
    try:
        answers = store.answers()
        values = placeholders(load_settings())
        return {name: to_variants(answers[name], values)[0]["text"] for name in KEYWORD_REPLIES}
    except Exception as error:  # a broken store must not silence STOP
        logger.warning("Keyword replies from the built domain: the content store failed (%s)", type(error).__name__)
        responses = yaml.safe_load(domain_path.read_text(encoding="utf-8"))["responses"]
        return {name: responses[name][0]["text"] for name in KEYWORD_REPLIES}


class TwilioSmsInput(InputChannel):
    """POST /webhooks/twilio/webhook, the URL staff paste into the Twilio console."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or credentials.get("auth_token") or "",
            hash_key=os.environ.get("HSG_SMS_HASH_KEY") or credentials.get("hash_key") or "",
            public_url=os.environ.get("TWILIO_WEBHOOK_URL") or credentials.get("webhook_url") or "",
            store_path=os.environ.get("HSG_SMS_DB") or credentials.get("store", "var/sms.sqlite3"),
        )

    def __init__(self, auth_token: str, hash_key: str, public_url: str, store_path: str) -> None:
        if not auth_token:
            logger.warning("TWILIO_AUTH_TOKEN is not set: the SMS webhook refuses every request")
        if not hash_key:
            raise ValueError("HSG_SMS_HASH_KEY is not set: it keys the hash that replaces phone numbers")
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.hash_key = hash_key
        self.public_url = public_url
        self.store = SmsStore(ROOT / store_path if not os.path.isabs(store_path) else Path(store_path))
        self.content = open_store()

    def texts(self) -> Dict[str, str]:
        return keyword_texts(self.content, ROOT / "build" / "domain.yml")

    def signed(self, request: Request, params: Dict[str, str]) -> bool:
        """True when X-Twilio-Signature matches the URL and form, signed with our token."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not (self.validator and signature):
            return False
        return self.validator.validate(self.public_url or request.url, params, signature)

    @staticmethod
    def twiml(bodies: List[str]) -> HTTPResponse:
        reply = MessagingResponse()
        for body in bodies:
            reply.message(body)
        return response.text(str(reply), content_type="text/xml")

    async def handle(self, key: str, text: str,
                     on_new_message: Callable[[UserMessage], Awaitable[None]]) -> List[str]:
        """The replies to one inbound SMS, keywords first."""
        word = text.strip().upper().rstrip(".!")
        if word in STOP_WORDS:
            already = self.store.is_opted_out(key)
            self.store.opt_out(key)
            return [] if already else [self.texts()["utter_sms_stop"]]  # confirm once
        if word in HELP_WORDS:
            return [self.texts()["utter_sms_help"]]
        if self.store.is_opted_out(key):
            if word in START_WORDS:
                self.store.opt_in(key)
                return [self.texts()["utter_sms_start"]]
            return []
        if not text.strip():
            return []
        message = self.store.pick(key, text) or text[:MAX_CHARS]
        collector = SmsCollector()
        await on_new_message(UserMessage(message, collector, key, input_channel=self.name()))
        bodies, offered = [], []
        for sent in collector.messages:
            if sent.get("text"):
                buttons = sent.get("buttons") or []
                bodies.append(numbered(sent["text"], buttons))
                offered = buttons or offered
        self.store.set_choices(key, [{"title": b["title"], "payload": b["payload"]} for b in offered])
        return bodies

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("twilio_sms_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            params = {name: values[0] for name, values in (request.form or {}).items()}
            if not self.signed(request, params):
                logger.info("SMS webhook: refused a request without a valid Twilio signature")
                return response.text("Forbidden", status=403)
            sid, number = params.get("MessageSid", ""), params.get("From", "")
            if not sid or not number:
                return response.text("MessageSid and From are required", status=400)
            if not self.store.first_delivery(sid):
                return self.twiml([])  # a Twilio retry of a message already answered
            try:
                bodies = await self.handle(number_key(self.hash_key, number), params.get("Body", ""), on_new_message)
            except Exception as error:  # the kind of failure only: never the number or text
                logger.error("SMS message failed: %s", type(error).__name__)
                bodies = []
            return self.twiml(bodies)

        return webhook
