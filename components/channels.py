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

Abuse limits (`RateLimits`): a token bucket per conversation (`sender`) and one per
client address (the peer's, or behind a proxy of HSG_TRUSTED_PROXIES the address it
forwarded; common/proxies.py). Past either, the answer is 429 with a Retry-After and
`utter_rate_limited` in the message's language ("wait a minute, or call"); nothing
reaches the bot or is stored. A message the safety net takes for a worrying symptom
gets the urgent answer instead (200), limit or not. Clients on this machine
(HSG_RATE_EXEMPT, default loopback: tests, benchmarks, a health check) have no address
bucket; their conversations still have theirs. Settings: HSG_RATE_SENDER_PER_MINUTE
(10) after a burst of HSG_RATE_SENDER_BURST (20); HSG_RATE_CLIENT_PER_MINUTE (60) after
HSG_RATE_CLIENT_BURST (120); 0 turns a bucket off.

A failure logs its kind and a scrubbed traceback (file, line and function of each
frame; never the exception's message or any value, which could quote the patient).
"""

from __future__ import annotations

import logging
import math
import os
import time
import traceback
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Set, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.proxies import LOOPBACK, Network, client_address, default_trusted_proxies, is_trusted, trusted_networks
from components.rasa_patches import ConversationStoreUnavailable

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MAX_SENDER_CHARS = 128
RESERVED_SENDER_PREFIX = "sms-"  # common/sms_store.number_key
STORE_UNAVAILABLE = "utter_store_unavailable"
RATE_LIMITED = "utter_rate_limited"
URGENT = "utter_urgent"
MAX_FRAMES = 40  # frames of a scrubbed traceback, the innermost kept
REFUSAL_LOG_EVERY = 60.0  # seconds between two log lines counting rate-limited requests


def short_path(filename: str) -> str:
    """A frame's file, relative to the project or to site-packages."""
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(ROOT))
    except (ValueError, OSError):
        pass
    marker = "site-packages/"
    return filename.split(marker, 1)[1] if marker in filename else path.name


def scrubbed_traceback(error: BaseException) -> str:
    """The traceback of `error` and of the exceptions it was raised from, as Python
    prints it but with the class names only: `file:line in function` for each frame,
    never the exceptions' messages, the source lines or any local value."""
    chain: List[BaseException] = []
    seen: Set[int] = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines = []
    for number, exception in enumerate(reversed(chain)):
        if number:
            lines.append("which led to:")
        lines.append("Traceback (most recent call last), values left out:")
        frames = traceback.extract_tb(exception.__traceback__)
        lines += [f"  {short_path(frame.filename)}:{frame.lineno} in {frame.name}" for frame in frames[-MAX_FRAMES:]]
        lines.append(type(exception).__qualname__)
    return "\n".join(lines)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """One ERROR line naming the failure's kind, with its scrubbed traceback."""
    log.error("%s (%s)\n%s", what, type(error).__name__, scrubbed_traceback(error))


async def fixed_answer(request: Request, name: str, sender: str, channel: str, text: str = "") -> list:
    """An answer rendered without the conversation (which is not read), as Rasa's
    collecting channel would send it: in Spanish when the patient's message is clearly
    Spanish."""
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from common.language import detect

    agent = request.app.ctx.agent
    language = detect(text) if text else None
    events = [SlotSet("language", language)] if language else []
    tracker = DialogueStateTracker.from_events(sender, events, slots=agent.domain.slots)
    message = await agent.nlg.generate(name, tracker, channel)
    if not message:
        return []
    return [{"recipient_id": sender, **{k: v for k, v in message.items() if v and k in ("text", "buttons")}}]


async def store_unavailable_messages(request: Request, sender: str, channel: str, text: str = "") -> list:
    """The 'please try again in a minute, or call' answer (see `fixed_answer`)."""
    return await fixed_answer(request, STORE_UNAVAILABLE, sender, channel, text)


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


class TokenBuckets:
    """A token bucket per key: `burst` requests at once, then `per_minute` a minute.
    Used from Rasa's one event loop only, so it needs no lock. At most `max_keys`
    buckets are kept: past that, the least recently used are forgotten (a forgotten
    bucket starts full again)."""

    def __init__(
        self, per_minute: float, burst: float, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = max(float(per_minute), 0.0) / 60.0
        self.burst = max(float(burst), 1.0)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: Dict[str, Tuple[float, float]] = {}  # key -> (tokens, when counted), oldest use first

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def wait(self, key: str) -> float:
        """0 when `key` may go on (a token is taken); else the seconds until it may."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        waited = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
        if len(self._buckets) > self.max_keys:
            for stale in list(self._buckets)[: len(self._buckets) - self.max_keys]:
                del self._buckets[stale]
        return waited


def _setting(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        logger.warning("%s=%r is not a number; the default %g is used", name, value[:20], default)
        return default


class RateLimits:
    """The REST webhook's per-conversation and per-address buckets (module docstring)."""

    def __init__(
        self,
        sender: TokenBuckets,
        client: TokenBuckets,
        trusted: Sequence[Network] = (),
        exempt: Sequence[Network] = (),
    ) -> None:
        self.sender = sender
        self.client = client
        self.trusted = list(trusted)
        self.exempt = list(exempt)
        self.refused = {"sender": 0, "client": 0}
        self._logged = time.monotonic() - REFUSAL_LOG_EVERY  # the first refusal is logged at once

    @classmethod
    def from_env(cls, credentials: Dict[Text, Any]) -> RateLimits:
        return cls(
            TokenBuckets(_setting("HSG_RATE_SENDER_PER_MINUTE", 10), _setting("HSG_RATE_SENDER_BURST", 20)),
            TokenBuckets(_setting("HSG_RATE_CLIENT_PER_MINUTE", 60), _setting("HSG_RATE_CLIENT_BURST", 120)),
            trusted_networks(default_trusted_proxies(credentials)),
            trusted_networks(os.environ.get("HSG_RATE_EXEMPT", LOOPBACK)),
        )

    def client_wait(self, request: Request) -> float:
        """Seconds the request's client must wait (0: a token of its address is taken)."""
        address = client_address(request.ip, request.headers.get("x-forwarded-for"), self.trusted)
        if is_trusted(address, self.exempt):
            return 0.0
        return self._count("client", self.client.wait(address))

    def sender_wait(self, sender: str) -> float:
        """Seconds the conversation must wait (0: a token of its bucket is taken)."""
        return self._count("sender", self.sender.wait(sender))

    def _count(self, kind: str, waited: float) -> float:
        """Counts refusals; logs how many (never who) at most once a REFUSAL_LOG_EVERY."""
        if waited:
            self.refused[kind] += 1
            now = time.monotonic()
            if now - self._logged >= REFUSAL_LOG_EVERY:
                logger.warning(
                    "REST webhook: the rate limit refused %d request(s) of one conversation and %d of "
                    "one address in the last %.0f s",
                    self.refused["sender"],
                    self.refused["client"],
                    now - self._logged,
                )
                self.refused = {"sender": 0, "client": 0}
                self._logged = now
        return waited


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # sanic raises on a body that is not JSON
        return None


class SafeRestInput(RestInput):
    """The REST channel with input checks and abuse limits; same name, URL and replies as `rest`."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(max_chars=int(credentials.get("max_chars", 2000)), limits=RateLimits.from_env(credentials))

    def __init__(self, max_chars: int = 2000, limits: Optional[RateLimits] = None) -> None:
        self.max_chars = max_chars
        self.limits = limits or RateLimits.from_env({})
        self._red_flags: Any = None

    def red_flags(self) -> Any:
        """The safety net's patterns (components/safety_net.py), loaded at first need."""
        if self._red_flags is None:
            from components.safety_net import RedFlags

            self._red_flags = RedFlags(ROOT / "safety" / "red_flags.yml")
        return self._red_flags

    async def too_many(self, request: Request, payload: Any, waited: float) -> HTTPResponse:
        """429 with the 'wait a minute, or call' answer; the urgent answer (200) for a
        message the safety net flags. Nothing is passed to the bot or stored."""
        usable = isinstance(payload, dict)
        text = payload.get("message") if usable and isinstance(payload.get("message"), str) else ""
        sender = payload.get("sender") if usable and isinstance(payload.get("sender"), str) else ""
        text, sender = text[: self.max_chars], sender.strip()[:MAX_SENDER_CHARS]
        try:
            if text.strip() and self.red_flags().is_urgent(text):
                logger.info("REST webhook: a rate-limited message was given the urgent answer")
                return response.json(await fixed_answer(request, URGENT, sender, "rest", text))
            messages = await fixed_answer(request, RATE_LIMITED, sender, "rest", text)
        except Exception as error:  # the refusal stands without its words
            log_failure(logger, "REST webhook: the rate-limit answer failed", error)
            messages = []
        seconds = max(1, math.ceil(waited))
        return response.json(
            {"error": "too_many_requests", "retry_after": seconds, "messages": messages},
            status=429,
            headers={"Retry-After": str(seconds)},
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The health and webhook routes."""
        webhook = Blueprint("safe_rest_webhook", __name__)
        self.red_flags()  # loaded now, at start-up, not on the event loop at the first refusal

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            payload = _json_body(request)
            problem = check_payload(payload, self.max_chars)
            waited = self.limits.client_wait(request)
            if not waited and problem is None:
                waited = self.limits.sender_wait(payload["sender"].strip())
            if waited:
                return await self.too_many(request, payload, waited)
            if problem:
                status, code = problem
                return response.json({"error": code, "max_chars": self.max_chars}, status=status)
            return await self.answer(request, payload, on_new_message)

        return webhook

    async def answer(
        self, request: Request, payload: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> HTTPResponse:
        """The bot's replies to a checked message."""
        sender = payload["sender"].strip()
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(payload["message"].strip(), collector, sender, input_channel=self.name()))
        except ConversationStoreUnavailable:
            return response.json(await store_unavailable_messages(request, sender, "rest", payload["message"]))
        except Exception as error:  # the kind of failure and where, never the text
            log_failure(logger, "REST message failed", error)
            return response.json({"error": "temporarily_unavailable"}, status=503)
        return response.json(collector.messages)
