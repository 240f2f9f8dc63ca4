"""REST channel that refuses malformed input with a 4xx instead of crashing.

Rasa's stock RestInput passes whatever arrives in `message` to the NLU pipeline
and logs the message text when something fails. This channel keeps the same URL
(/webhooks/rest/webhook) and reply format, but checks the request first and
never logs message text:
- the body is at most 64 KB (SANIC_REQUEST_MAX_SIZE, set by scripts/run.sh: 413 above);
- `sender` is 1-128 characters and may not start with `sms-` (SMS conversations);
- `message` is a non-empty string of at most `max_chars` characters (413 above);
- `metadata` must be an object if sent, and is dropped: nothing in the bot reads it, and
  it would be stored with every message.
While the conversation database cannot be reached, the patient gets
`utter_store_unavailable` ("please try again in a minute, or call") and nothing is
stored, so the next message after the outage goes on where the conversation was.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from components.rasa_patches import ConversationStoreUnavailable

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
RESERVED_SENDER_PREFIX = "sms-"  # components/sms_store.number_key
STORE_UNAVAILABLE = "utter_store_unavailable"


async def store_unavailable_messages(request: Request, sender: str, channel: str, text: str = "") -> list:
    """The 'please try again in a minute, or call' answer, rendered without the
    conversation (which cannot be read), as Rasa's collecting channel would send it:
    in Spanish when the patient's message is clearly Spanish."""
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from common.language import detect

    agent = request.app.ctx.agent
    language = detect(text) if text else None
    events = [SlotSet("language", language)] if language else []
    tracker = DialogueStateTracker.from_events(sender, events, slots=agent.domain.slots)
    message = await agent.nlg.generate(STORE_UNAVAILABLE, tracker, channel)
    if not message:
        return []
    return [{"recipient_id": sender, **{k: v for k, v in message.items() if v and k in ("text", "buttons")}}]


def check_payload(payload: Any, max_chars: int) -> Optional[tuple]:
    """Returns (status, error code) for a bad request body, or None when it is usable."""
    if not isinstance(payload, dict):
        return 400, "body_must_be_a_json_object"
    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return 400, "sender_must_be_a_non_empty_string"
    if sender.strip().lower().startswith(RESERVED_SENDER_PREFIX):
        return 400, "sender_is_reserved_for_sms"
    message = payload.get("message")
    if not isinstance(message, str):
        return 400, "message_must_be_a_string"
    if not message.strip():
        return 400, "message_is_empty"
    if len(message) > max_chars:
        return 413, "message_too_long"
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return 400, "metadata_must_be_an_object"
    return None


class SafeRestInput(RestInput):
    """The REST channel with input checks; same name, URL and replies as `rest`."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(max_chars=int(credentials.get("max_chars", 2000)))

    def __init__(self, max_chars: int = 2000) -> None:
        self.max_chars = max_chars

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        """The health and webhook routes."""
        webhook = Blueprint("safe_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                payload = request.json
            except Exception:  # sanic raises on a body that is not JSON
                payload = None
            problem = check_payload(payload, self.max_chars)
            if problem:
                status, code = problem
                return response.json({"error": code, "max_chars": self.max_chars}, status=status)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        payload["message"].strip(),
                        collector,
                        payload["sender"].strip(),
                        input_channel=self.name(),
                    )
                )
            except ConversationStoreUnavailable:
                return response.json(await store_unavailable_messages(request, payload["sender"].strip(), "rest",
                                                                      payload["message"]))
            except Exception as error:  # log the kind of failure, never the text
                logger.error("REST message failed: %s", type(error).__name__)
                return response.json({"error": "temporarily_unavailable"}, status=503)
            return response.json(collector.messages)

        return webhook
