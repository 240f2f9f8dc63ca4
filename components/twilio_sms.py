"""Twilio SMS channel: signed webhooks, TwiML replies, opt-out keywords.

Rasa's built-in Twilio connector does not check `X-Twilio-Signature`, so anyone who
finds its URL could make the clinic's number text any phone. This channel checks
every request with the twilio library's RequestValidator and the clinic's auth token
and refuses unsigned or wrongly signed ones with 403 before the bot sees them.
Replies go back as TwiML in the webhook's own response (no outbound API call).
Texts the project sends first (common/outbound.py) report their delivery to
POST /webhooks/twilio/status, signed the same way; it records delivered or failed
for the MessageSid in the SMS store (common/sms_store.py `record_status`).
Phone numbers are never logged or stored in clear: the conversation key is a keyed
hash of the number (a number waiting for a text reminder is stored sealed).

Text reminders (components/reminders.py), on when texts can be sent: REMIND and
CANCEL REMINDER are keywords like STOP (which also cancels reminders), a turn that
gave a window or a device date ends with the offer, and the server runs the worker
that sends due reminders (started and stopped with the server).

The signature covers the URL Twilio called. Behind a TLS proxy or tunnel that is not
the URL this server sees, so the URL checked is, in this order:
- TWILIO_WEBHOOK_URL (or `webhook_url` in credentials.yml) when set;
- else, for a request that comes from a trusted proxy (HSG_TRUSTED_PROXIES: addresses
  or networks, comma-separated), the scheme and host the proxy forwarded
  (X-Forwarded-Proto / X-Forwarded-Host / X-Forwarded-Port, or RFC 7239 Forwarded);
- else the scheme of this connection and its Host header.
The status callback is checked against TWILIO_STATUS_CALLBACK_URL (the URL given to
Twilio with each text) when set, else the same way without TWILIO_WEBHOOK_URL.
Unset, HSG_TRUSTED_PROXIES is the loopback addresses in the production profile (its
nginx, on this machine, is the proxy; the profile is recognised by HSG_PG_HOST) and
nothing in the embedded profile; set it empty to trust no proxy.
A refused request logs one WARNING naming the URL checked (never the number, the
signature or the form), at most once an hour per URL and WARN_LIMIT an hour in all.

A MessageSid is recorded as answered only after its reply is made; when answering
fails, the webhook answers 500 and the message is left to Twilio's retry, and the
failure is logged with a scrubbed traceback (components/channels.py: file, line and
function; never the text, the number or any value).

The SMS store's calls block (SQLite, psycopg2), so they run on the channel's own
worker threads (STORE_THREADS), never on Rasa's event loop: a locked or slow store
delays only the texts that need it, not the web chat. The texts of one number are
handled one after the other in this process (each waits for the previous one's
choices to be saved before its "1" is read), and across servers the store keeps the
newer list of choices (common/sms_store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Text, Union
from urllib.parse import urlunsplit

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from common.proxies import Network, default_trusted_proxies, is_trusted, trusted_networks
from common.reminders import ReminderPolicy, open_queue
from common.settings import load_settings
from common.sms_keywords import HELP_WORDS, SPANISH_WORDS, START_WORDS, STOP_WORDS  # carrier keywords (CTIA)
from common.sms_segments import numbered
from common.sms_store import STATUS_RANK, number_key, open_sms_store, store_path
from components.channels import log_failure, store_unavailable_messages
from components.rasa_patches import ConversationStoreUnavailable
from components.reminders import POLL_SECONDS, ReminderDesk, ReminderWorker, dates_given, keyword, reminder_word
from components.reminders import SPANISH_WORDS as SPANISH_REMINDER_WORDS

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
MAX_CHARS = 1600  # Twilio's own limit for one inbound message
WARN_EVERY = 3600.0  # seconds between two warnings about the same URL
WARN_LIMIT = 20  # warnings about refused signatures per WARN_EVERY, all URLs together
HOST_PATTERN = re.compile(r"^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
STORE_THREADS = 4  # worker threads for the SMS store's blocking calls


def _first(value: Optional[str]) -> str:
    """The first (client-side) value of a header a chain of proxies may have appended to."""
    return (value or "").split(",")[0].strip()


def _forwarded(value: Optional[str]) -> Dict[str, str]:
    """proto, host (and for) of the first element of an RFC 7239 Forwarded header."""
    pairs = {}
    for part in _first(value).split(";"):
        name, _, item = part.partition("=")
        if item:
            pairs[name.strip().lower()] = item.strip().strip('"')
    return pairs


def _with_port(host: str, port: str, scheme: str) -> str:
    """host with its port replaced by `port` (left out when it is the scheme's default)."""
    if not port.isdigit():
        return host
    name = host[: host.index("]") + 1] if host.startswith("[") and "]" in host else host.split(":", 1)[0]
    default = {"http": "80", "https": "443"}.get(scheme)
    return name if port == default else f"{name}:{port}"


def forwarded_url(
    peer: str, scheme: str, host: str, path: str, query: str, headers: Mapping[str, str], networks: Sequence[Network]
) -> str:
    """The URL the client called: scheme and host as seen here, replaced by what a
    trusted proxy forwarded (X-Forwarded-Proto/-Host/-Port first, then Forwarded).
    `headers` must look names up case-insensitively (Sanic's do)."""
    if is_trusted(peer, networks):
        forwarded = _forwarded(headers.get("forwarded"))
        proto = (_first(headers.get("x-forwarded-proto")) or forwarded.get("proto", "")).lower()
        if proto in ("http", "https"):
            scheme = proto
        proxied_host = _first(headers.get("x-forwarded-host")) or forwarded.get("host", "")
        if proxied_host and HOST_PATTERN.match(proxied_host):
            host = proxied_host
        port = _first(headers.get("x-forwarded-port"))
        if port:
            host = _with_port(host, port, scheme)
    return urlunsplit((scheme, host, path, query, ""))


def shown(url: str) -> str:
    """A URL as logged: without its query (it could carry anything), kept short."""
    base, mark, _ = url.partition("?")
    return "".join(ch if ch.isprintable() else "?" for ch in base[:300]) + ("?..." if mark else "")


class SmsCollector(CollectingOutputChannel):
    """Collects replies under the channel name `twilio`, so SMS response variants apply."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"


KEYWORD_REPLIES = ("utter_sms_stop", "utter_sms_start", "utter_sms_help")


@functools.lru_cache(maxsize=2)
def _built_responses(domain_path: Path, modified: float) -> Dict[str, Any]:
    """The responses of the built domain, read once per version of the file (a large YAML)."""
    return yaml.safe_load(domain_path.read_text(encoding="utf-8"))["responses"]


def built_keyword_texts(
    domain_path: Path, language: str = "en", names: Sequence[str] = KEYWORD_REPLIES
) -> Dict[str, str]:
    """The STOP/START/HELP replies (or other SMS-only answers: `names`) as built into
    build/domain.yml: the copy of last resort."""
    responses = _built_responses(domain_path, domain_path.stat().st_mtime)

    def text(variants: List[Dict[str, Any]]) -> str:
        for variant in variants:
            if any(c.get("name") == "language" and c.get("value") == language for c in variant.get("condition") or []):
                return variant["text"]
        return next(v["text"] for v in variants if not v.get("condition"))

    return {name: text(responses[name]) for name in names}


async def conversation_language(request: Request, key: str) -> str:
    """The `language` slot of the conversation (content/answers `es:` forms); "en" unset."""
    tracker = await request.app.ctx.agent.tracker_store.retrieve(key)
    value = tracker.get_slot("language") if tracker is not None else None
    return value if value in ("en", "es") else "en"


async def turn_dates(request: Request, key: str) -> Dict[str, Optional[str]]:
    """The window or device dates the bot set in the conversation's last turn
    (components/reminders.py `dates_given`)."""
    tracker = await request.app.ctx.agent.tracker_store.retrieve(key)
    tail: List[Dict[str, Any]] = []
    for event in reversed(tracker.events if tracker is not None else []):
        tail.append(event.as_dict())
        if tail[-1].get("event") == "user":
            break
    return dates_given(list(reversed(tail)))


def reminders_configured() -> bool:
    """Reminders are offered only when texts can be sent (common/outbound.py's settings)."""
    return all(os.environ.get(name) for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"))


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
            status_url=os.environ.get("TWILIO_STATUS_CALLBACK_URL") or credentials.get("status_url") or "",
            store_path=str(store_path(credentials.get("store"))),
            trusted_proxies=default_trusted_proxies(credentials),
        )

    def __init__(
        self,
        auth_token: str,
        hash_key: str,
        public_url: str,
        store_path: str,
        trusted_proxies: Union[str, Sequence[str], None] = "",
        status_url: str = "",
        reminders: Optional[bool] = None,
    ) -> None:
        if not auth_token:
            logger.warning("TWILIO_AUTH_TOKEN is not set: the SMS webhook refuses every request")
        if not hash_key:
            raise ValueError("HSG_SMS_HASH_KEY is not set: it keys the hash that replaces phone numbers")
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.hash_key = hash_key
        self.public_url = public_url
        self.status_url = status_url
        self.trusted = trusted_networks(trusted_proxies)
        if self.trusted and not public_url:
            logger.info(
                "SMS webhook: forwarded scheme and host are honoured from %s",
                ", ".join(str(network) for network in self.trusted),
            )
        self.store = open_sms_store(Path(store_path))  # PostgreSQL in the production profile
        # Text reminders (components/reminders.py): on when texts can be sent, unless told
        self.desk: Optional[ReminderDesk] = None
        self.worker: Optional[ReminderWorker] = None
        self.clock: Callable[[], float] = time.time
        if reminders if reminders is not None else reminders_configured():
            policy = ReminderPolicy.from_settings(load_settings())
            self.desk = ReminderDesk(open_queue(Path(store_path)), hash_key, policy)
        else:
            logger.info("Text reminders are off: set TWILIO_ACCOUNT_SID and TWILIO_FROM_NUMBER to offer them")
        self.nlg: Any = None  # the bot's answers (components/content_nlg.py), set by the webhook
        self._warned: Dict[str, float] = {}  # URL -> when a refusal naming it was last logged
        self._warnings: List[float] = []  # when the recent warnings were logged
        self._warn_lock = threading.Lock()
        self._store_threads = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="sms-store")
        self._turns: Dict[str, List[Any]] = {}  # number key -> [asyncio.Lock, how many texts hold or await it]

    async def _store(self, method: str, *args: Any) -> Any:
        """A call of the SMS store, made on a worker thread (it blocks: SQLite, psycopg2)."""
        call = functools.partial(getattr(self.store, method), *args)
        return await asyncio.get_running_loop().run_in_executor(self._store_threads, call)

    @contextlib.asynccontextmanager
    async def _turn(self, key: str) -> AsyncIterator[None]:
        """Texts of one number are handled one at a time, in the order they came in."""
        entry = self._turns.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if not entry[1]:
                del self._turns[key]

    async def keyword_reply(self, name: str, language: str = "en") -> str:
        """A STOP/START/HELP reply (content/answers/sms_keywords/), or another SMS-only
        answer (the reminders'), in the patient's language, from the bot's own copy of
        the answers, so an editor's change applies within seconds, as for every answer;
        from the built domain if that fails (a broken copy must not silence STOP)."""
        try:
            from rasa.shared.core.events import SlotSet
            from rasa.shared.core.slots import TextSlot
            from rasa.shared.core.trackers import DialogueStateTracker

            tracker = DialogueStateTracker.from_events(
                "sms", [SlotSet("language", language)], slots=[TextSlot("language", mappings=[])]
            )
            message = await self.nlg.generate(name, tracker, self.name())
            if message and message.get("text"):
                return message["text"]
        except Exception as error:
            logger.warning("Keyword reply from the built domain: the answers failed (%s)", type(error).__name__)
        return built_keyword_texts(ROOT / "build" / "domain.yml", language, [name])[name]

    def checked_url(self, request: Request, public_url: Optional[str] = None) -> str:
        """The URL the signature is checked against (see the module's docstring):
        `public_url` when given, else TWILIO_WEBHOOK_URL, else the URL called."""
        public_url = self.public_url if public_url is None else public_url
        if public_url:
            return public_url
        transport = request.transport
        scheme = "https" if transport is not None and transport.get_extra_info("sslcontext") else "http"
        return forwarded_url(
            request.ip,
            scheme,
            request.headers.get("host", ""),
            request.path,
            request.query_string,
            request.headers,
            self.trusted,
        )

    def signed(self, request: Request, params: Dict[str, str], url: str) -> bool:
        """True when X-Twilio-Signature matches the URL and form, signed with our token."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not (self.validator and signature):
            return False
        return self.validator.validate(url, params, signature)

    def log_refusal(self, request: Request, url: str) -> None:
        """One WARNING naming the URL checked, at most once per WARN_EVERY for each URL
        and WARN_LIMIT per WARN_EVERY in all; DEBUG otherwise (no flood of log lines)."""
        now = time.monotonic()
        with self._warn_lock:
            self._warnings = [at for at in self._warnings if now - at < WARN_EVERY]
            self._warned = {seen: at for seen, at in self._warned.items() if now - at < WARN_EVERY}
            warn = url not in self._warned and len(self._warnings) < WARN_LIMIT
            if warn:
                self._warned[url] = now
                self._warnings.append(now)
        if not warn:
            logger.debug("SMS webhook: refused a request without a valid Twilio signature for %s", shown(url))
            return
        if not self.validator:
            reason = "TWILIO_AUTH_TOKEN is not set"
        elif not request.headers.get("X-Twilio-Signature"):
            reason = "it has no X-Twilio-Signature"
        else:
            reason = "its X-Twilio-Signature does not match"
        hint = ""
        if (
            not self.public_url
            and not is_trusted(request.ip, self.trusted)
            and any(request.headers.get(name) for name in ("x-forwarded-proto", "x-forwarded-host", "forwarded"))
        ):
            hint = f"; forwarded headers from {request.ip[:45]} were ignored (not in HSG_TRUSTED_PROXIES)"
        logger.warning(
            "SMS webhook: refused a request (403): %s; URL checked: %s%s. If Twilio calls another "
            "URL (a TLS proxy or tunnel in front), set TWILIO_WEBHOOK_URL to it, or HSG_TRUSTED_PROXIES "
            "to the proxy's address. More refusals for this URL within the hour are logged at DEBUG only.",
            reason,
            shown(url),
            hint,
        )

    @staticmethod
    def twiml(bodies: List[str]) -> HTTPResponse:
        reply = MessagingResponse()
        for body in bodies:
            reply.message(body)
        return response.text(str(reply), content_type="text/xml; charset=utf-8")  # Spanish accents

    async def handle(
        self,
        key: str,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[None]],
        language_of: Optional[Callable[[str], Awaitable[str]]] = None,
        number: str = "",
        dates_of: Optional[Callable[[str], Awaitable[Dict[str, Optional[str]]]]] = None,
    ) -> List[str]:
        """The replies to one inbound SMS, keywords first. A Spanish keyword (AYUDA,
        PARAR...) is answered in Spanish, an English one in the conversation's language.
        Texts of one number wait for each other (see `_turn`). With reminders on, REMIND
        and CANCEL REMINDER are keywords too, and a turn that gave a date by SMS ends
        with the offer of a reminder (`dates_of` reads what the turn set)."""
        async with self._turn(key):
            word = text.strip().upper().strip("¡!¿?.")
            opted_out = await self._store("is_opted_out", key)
            if word in STOP_WORDS | HELP_WORDS or (word in START_WORDS and opted_out):
                return await self.keyword(key, word, opted_out, language_of)
            if opted_out or not text.strip():
                return []
            wanted = reminder_word(text) if self.desk is not None and number else None
            if wanted:
                return [await self.reminder_reply(key, number, text, wanted, language_of)]
            message = await self._store("pick", key, text) or text[:MAX_CHARS]
            collector = SmsCollector()
            await on_new_message(UserMessage(message, collector, key, input_channel=self.name()))
            turn_done = time.time()  # the choices of a later text are newer
            bodies: List[str] = []
            offered: List[Any] = []
            language = "en"
            if any(sent.get("buttons") for sent in collector.messages):  # the choices are worded in its language
                language = await self._language(key, language_of)
            for sent in collector.messages:
                if sent.get("text"):
                    buttons = sent.get("buttons") or []
                    bodies.append(numbered(sent["text"], buttons, language))
                    offered = buttons or offered
            await self._store(
                "set_choices", key, [{"title": b["title"], "payload": b["payload"]} for b in offered], turn_done
            )
            return bodies + await self.reminder_offers(key, language_of, dates_of)

    async def _reminders(self, method: str, *args: Any) -> Any:
        """A call of the reminder desk, on the store's worker threads (it blocks)."""
        call = functools.partial(getattr(self.desk, method), *args)
        return await asyncio.get_running_loop().run_in_executor(self._store_threads, call)

    async def reminder_reply(
        self, key: str, number: str, text: str, wanted: str, language_of: Optional[Callable[[str], Awaitable[str]]]
    ) -> str:
        """REMIND or CANCEL REMINDER: the change and its answer (Spanish words in Spanish)."""
        spanish = keyword(text) in SPANISH_REMINDER_WORDS
        language = "es" if spanish else await self._language(key, language_of)
        name = await self._reminders("reply", key, number, wanted, "es" if spanish else None, self.clock())
        return await self.keyword_reply(name, language)

    async def reminder_offers(
        self,
        key: str,
        language_of: Optional[Callable[[str], Awaitable[str]]],
        dates_of: Optional[Callable[[str], Awaitable[Dict[str, Optional[str]]]]],
    ) -> List[str]:
        """The offer of a reminder after a turn that gave a date (none when reminders are
        off); a failure here never costs the patient the answer itself."""
        if self.desk is None or dates_of is None:
            return []
        try:
            given = await dates_of(key)
            if not given:
                return []
            language = await self._language(key, language_of)
            offers = await self._reminders("after_turn", key, given, language, self.clock())
            return [await self.keyword_reply(name, language) for name in offers]
        except Exception as error:
            log_failure(logger, "Reminders: the offer failed; the answer goes without it", error)
            return []

    async def keyword(
        self, key: str, word: str, opted_out: bool, language_of: Optional[Callable[[str], Awaitable[str]]]
    ) -> List[str]:
        """STOP (confirmed once), HELP, or START from a number that opted out."""
        language = "es" if word in SPANISH_WORDS else await self._language(key, language_of)
        if word in STOP_WORDS:
            await self._store("opt_out", key)
            if self.desk is not None:
                await self._reminders("stop", key, self.clock())
            return [] if opted_out else [await self.keyword_reply("utter_sms_stop", language)]
        if word in HELP_WORDS:
            return [await self.keyword_reply("utter_sms_help", language)]
        await self._store("opt_in", key)
        return [await self.keyword_reply("utter_sms_start", language)]

    @staticmethod
    async def _language(key: str, language_of: Optional[Callable[[str], Awaitable[str]]]) -> str:
        """The conversation's language slot; English when it cannot be read (a STOP must
        be confirmed even while the conversation store is down)."""
        if language_of is None:
            return "en"
        try:
            return await language_of(key)
        except Exception as error:
            logger.warning("SMS: the conversation's language could not be read (%s); English", type(error).__name__)
            return "en"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("twilio_sms_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            self.nlg = getattr(getattr(request.app.ctx, "agent", None), "nlg", None)
            params = {name: values[0] for name, values in (request.form or {}).items()}
            url = self.checked_url(request)
            if not self.signed(request, params, url):
                self.log_refusal(request, url)
                return response.text("Forbidden", status=403)
            sid, number = params.get("MessageSid", ""), params.get("From", "")
            if not sid or not number:
                return response.text("MessageSid and From are required", status=400)
            try:
                claimed = await self._store("claim", sid)
            except Exception as error:  # the SMS store cannot be reached: Twilio's retry may find it back
                log_failure(logger, "SMS store failed; the message is left to Twilio's retry", error)
                return response.text("Not answered, try again", status=500)
            if claimed != "claimed":
                return self.twiml([])  # answered already, or being answered by another delivery of it
            return await self.answer(
                request, sid, number_key(self.hash_key, number), params.get("Body", ""), on_new_message, number
            )

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            return await self.status_callback(request)

        @webhook.listener("after_server_start")
        async def start_reminders(app: Any, loop: Any) -> None:
            worker = self.reminder_worker(asyncio.get_running_loop(), getattr(app.ctx, "agent", None))
            if worker is not None:
                worker.start(float(os.environ.get("HSG_REMINDER_POLL_SECONDS") or POLL_SECONDS))

        @webhook.listener("before_server_stop")
        async def stop_reminders(app: Any, loop: Any) -> None:
            if self.worker is not None:
                await asyncio.get_running_loop().run_in_executor(None, self.worker.stop)

        return webhook

    def reminder_worker(self, loop: asyncio.AbstractEventLoop, agent: Any = None) -> Optional[ReminderWorker]:
        """The worker that sends due reminders (components/reminders.py), or None when they
        are off. Its texts come from the bot's copy of the answers, rendered on `loop`."""
        if self.desk is None:
            return None
        if agent is not None and getattr(agent, "nlg", None) is not None:
            self.nlg = agent.nlg
        from common.outbound import send_sms

        def render(name: str, language: str) -> str:
            return asyncio.run_coroutine_threadsafe(self.keyword_reply(name, language), loop).result(timeout=60)

        self.worker = ReminderWorker(
            self.desk.queue,
            self.store.is_opted_out,
            send_sms,
            render,
            self.hash_key,
            self.desk.policy,
            self.clock,
            lambda sid: self.store.record_sent(sid, "reminder"),  # the status callback records its fate
        )
        return self.worker

    async def status_callback(self, request: Request) -> HTTPResponse:
        """POST /webhooks/twilio/status: Twilio's report on a text we sent (MessageStatus:
        queued, sent, delivered, undelivered, failed), recorded for its MessageSid."""
        params = {name: values[0] for name, values in (request.form or {}).items()}
        url = self.checked_url(request, self.status_url)
        if not self.signed(request, params, url):
            self.log_refusal(request, url)
            return response.text("Forbidden", status=403)
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "").lower()
        if not sid or status not in STATUS_RANK:
            return response.text("MessageSid and a known MessageStatus are required", status=400)
        code = params.get("ErrorCode") or None
        try:
            await self._store("record_status", sid, status, code)
        except Exception as error:
            log_failure(logger, "SMS store failed to record a delivery status", error)
            return response.text("Not recorded, try again", status=500)
        if status in ("failed", "undelivered"):
            logger.info("A text was not delivered: %s %s (error %s)", sid, status, code)
        return response.empty()

    async def answer(
        self,
        request: Request,
        sid: str,
        key: str,
        body: str,
        on_new_message: Callable[[UserMessage], Awaitable[None]],
        number: str = "",
    ) -> HTTPResponse:
        """The TwiML reply to a claimed message; the message is recorded as answered only
        once the reply is made, and released for Twilio's retry when it fails."""
        try:
            bodies = await self.handle(
                key,
                body,
                on_new_message,
                lambda key: conversation_language(request, key),
                number,
                lambda key: turn_dates(request, key),
            )
        except ConversationStoreUnavailable:  # "please send it again in a minute, or call"
            bodies = [m["text"] for m in await store_unavailable_messages(request, "sms", self.name(), body)]
        except asyncio.CancelledError:  # Twilio hung up: its retry is to be answered
            self._store_threads.submit(self.store.release, sid)  # not awaited: this task is being cancelled
            raise
        except Exception as error:  # the kind of failure and where: never the number or text
            log_failure(logger, "SMS message failed; not answered, left to Twilio's retry", error)
            with contextlib.suppress(Exception):
                await self._store("release", sid)
            return response.text("Not answered, try again", status=500)
        try:
            await self._store("answered", sid)
        except Exception as error:  # the reply goes out; a retry of it may be answered twice
            log_failure(logger, "SMS store failed to record an answered message", error)
        return self.twiml(bodies)
