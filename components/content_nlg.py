"""Rasa's NLG endpoint, rendered in the bot: every reply comes from an in-memory copy
of the answers in the content service (editor/service.py, `nlg:` in endpoints.yml),
filled in by Rasa's own TemplatedNaturalLanguageGenerator (channel variants, slots,
action arguments such as {date_text}). No reply waits on the network.

An approved change of an answer still needs no retraining and no restart: a background
task in the bot (started on the first reply, in Rasa's event loop) asks the service
every `poll_seconds` for the version of the answers (GET /nlg/version, a few bytes)
and fetches all answers (GET /nlg/bundle) only when the version changed. So a save
is live on the web chat, REST and SMS within about `poll_seconds`. Each fetched copy
is also kept in a file, the last-known-good copy. An answer the service withholds
(it fails its checks and has no good version there: editor/gate.py) is kept as it is
in the bot's copy.

At start the bot answers from that file, or, before any file exists, from the
answers built into the model; the first reply waits for one quick check with the
service (at most `timeout` seconds), so a fresh start does not answer from an old
copy while the service is up. When the service does not answer (down, slow, or
refusing), replies go on from the copy; the fault is logged once per outage (never
with message text), and again when the service is back.

The editors' report of what patients asked that the bot could not answer well:
for a reply the report keeps (the fallback or out-of-scope answer, the guided choice,
or an unsure guess: the service sends the rules with each version; and the patient's
pick after a guided choice), the bot sends the same body
Rasa's NLG request has to POST /nlg/report, in the background, so the reply never
waits for it. While the service is down the entries wait in memory (at most
REPORT_QUEUE) and are sent when it is back.

endpoints.yml:
    nlg:
      type: components.content_nlg.ContentNLG
      url: http://localhost:5056/nlg
      timeout: 3            # seconds to wait for the content service (per request)
      poll_seconds: 2       # how often the bot asks whether the answers changed
The token comes from HSG_CONTENT_TOKEN; the copy's file from HSG_CONTENT_LKG
(default var/content-lkg.json).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Text

import aiohttp
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from common.report_rules import picked_topic, report_kind

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
BUNDLE_TIMEOUT = 10.0  # seconds for fetching every answer (only after a change)
REPORT_QUEUE = 1000  # report entries kept in memory while the service is down
REPORT_TRIES = 5  # tries per report entry the service fails to store (5xx)


def request_body(
    utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, arguments: Dict[Text, Any]
) -> Dict[Text, Any]:
    """Rasa's NLG request, with the tracker's state (slots, latest message) but not
    its whole event history: the content service needs none of it."""
    arguments = dict(arguments)
    return {
        "response": utter_action,
        "id": arguments.pop("response_id", None),
        "arguments": arguments,
        "tracker": tracker.current_state(EventVerbosity.NONE),
        "channel": {"name": output_channel},
    }


def valid_responses(responses: Any) -> bool:
    """A bundle Rasa's templated generator can use: {name: [variant, ...]}."""
    return (
        isinstance(responses, dict)
        and bool(responses)
        and all(
            isinstance(name, str)
            and isinstance(variants, list)
            and variants
            and all(isinstance(variant, dict) for variant in variants)
            for name, variants in responses.items()
        )
    )


def valid_rules(rules: Any) -> bool:
    return (
        isinstance(rules, dict)
        and isinstance(rules.get("responses"), list)
        and isinstance(rules.get("low_confidence"), (int, float))
        and not isinstance(rules["low_confidence"], bool)
    )


class ContentNLG(NaturalLanguageGenerator):
    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        self.endpoint = endpoint_config
        token = os.environ.get("HSG_CONTENT_TOKEN")
        if token:
            self.endpoint.token = token
        options = endpoint_config.kwargs or {}
        self.timeout = float(options.get("timeout", 3))
        self.poll_seconds = float(options.get("poll_seconds", 2))
        self.copy_path = Path(os.environ.get("HSG_CONTENT_LKG") or ROOT / "var" / "content-lkg.json")
        self.copy_version: Optional[str] = None
        # What the editors' report keeps (the service sends it); unknown until the first
        # copy, and then every reply to a typed message is offered to the service.
        self.report_rules: Optional[Dict[str, Any]] = None
        responses = dict(domain.responses) if domain else {}
        self.copy_source = "the answers built into the model"
        if self.copy_path.exists():
            try:
                saved = json.loads(self.copy_path.read_text(encoding="utf-8"))
                if not valid_responses(saved["responses"]):
                    raise ValueError("no answers")
                responses, self.copy_version = saved["responses"], saved["version"]
                self.report_rules = saved.get("report") if valid_rules(saved.get("report")) else None
                self.copy_source = f"the last-known-good copy in {self.copy_path.name}"
            except (OSError, ValueError, KeyError, TypeError) as error:
                logger.warning(
                    "Ignoring an unreadable last-known-good copy %s (%s)", self.copy_path, type(error).__name__
                )
        self.copy = TemplatedNaturalLanguageGenerator(responses)
        self.down_since: Optional[float] = None
        self.polls = 0  # finished polls, successful or not (tests wait on it)
        self.started = False  # the first reply has waited for the first poll
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.poller: Optional[asyncio.Task] = None
        self.first_poll: Optional[asyncio.Event] = None
        self.reporter: Optional[asyncio.Task] = None
        self.pending: Deque[List[Any]] = collections.deque()  # [body, tries] waiting to be sent
        self.queue_full_logged = False
        self.report_refused_logged = False
        self.session: Optional[aiohttp.ClientSession] = None
        self.session_loop: Optional[asyncio.AbstractEventLoop] = None

    # --- the reply path: no network ------------------------------------------------
    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        kwargs.pop("domain_responses", None)
        kwargs.pop("response_id", None)
        self._start_polling()
        if not self.started:
            await self._wait_for_first_poll()
        message = await self.copy.generate(utter_action, tracker, output_channel, **kwargs)
        try:
            self._report(utter_action, tracker, output_channel, kwargs)
        except Exception as error:  # the report must never stop an answer
            logger.warning("Could not queue a report entry (%s)", type(error).__name__)
        return message

    def _start_polling(self) -> None:
        """Starts the poller in the running event loop (again, if that loop is a new one)."""
        loop = asyncio.get_running_loop()
        if self.poller is not None and not self.poller.done() and self.loop is loop:
            return
        if self.poller is not None and not self.poller.done() and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.poller.cancel)
        self.loop = loop
        self.first_poll = asyncio.Event()
        self.poller = loop.create_task(self._poll())

    async def _wait_for_first_poll(self) -> None:
        try:
            assert self.first_poll is not None  # made when the poller starts, before this wait
            await asyncio.wait_for(self.first_poll.wait(), self.timeout)
        except asyncio.TimeoutError:
            pass
        self.started = True

    # --- polling ---------------------------------------------------------------------
    async def _poll(self) -> None:
        try:
            while True:
                await self.sync()
                self.polls += 1
                self._first_poll_done()
                await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            await self._close_session()
            raise
        finally:
            self._first_poll_done()

    def _first_poll_done(self) -> None:
        if self.first_poll is not None:
            self.first_poll.set()

    async def _close_session(self) -> None:
        if self.session is not None and not self.session.closed and self.session_loop is asyncio.get_running_loop():
            await self.session.close()

    async def close(self) -> None:
        """Stops polling and sending (Rasa never needs this; tests do)."""
        for task in (self.poller, self.reporter):
            if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        await self._close_session()

    async def sync(self) -> bool:
        """One poll: asks for the version of the answers and, when it changed, fetches
        every answer into the copy (in memory and in the file). True when the service
        answered."""
        try:
            state = await self._request("get", "version")
            if not isinstance(state, dict) or not isinstance(state.get("version"), str):
                raise ValueError("no version")
            if valid_rules(state.get("report")):
                self.report_rules = state["report"]
            if state["version"] != self.copy_version:
                bundle = await self._request("get", "bundle", timeout=max(self.timeout, BUNDLE_TIMEOUT))
                if (
                    not isinstance(bundle, dict)
                    or not valid_responses(bundle.get("responses"))
                    or not isinstance(bundle.get("version"), str)
                ):
                    raise ValueError("the content service sent answers Rasa cannot use")
                self._install(self._keep_withheld(bundle), bundle["version"])
        except asyncio.CancelledError:
            raise
        except Exception as error:  # any failure of the service: answer from the copy
            self._fault(error)
            return False
        if self.down_since is not None:
            logger.info("The content service answers again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None
        if self.pending:
            self._start_reporter()
        return True

    def _keep_withheld(self, bundle: Dict[str, Any]) -> Dict[str, Any]:
        """The bundle's answers, plus the copy's own version of each answer the service
        withheld because it fails its checks."""
        responses = dict(bundle["responses"])
        withheld = bundle.get("withheld")
        for name in withheld if isinstance(withheld, list) else []:
            if isinstance(name, str) and name not in responses and name in self.copy.responses:
                responses[name] = self.copy.responses[name]
        return responses

    def _install(self, responses: Dict[str, Any], version: str) -> None:
        self.copy = TemplatedNaturalLanguageGenerator(responses)
        self.copy_version = version
        self.copy_source = f"the last-known-good copy in {self.copy_path.name}"
        try:
            self.copy_path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.copy_path.parent, prefix=".lkg-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(
                        {
                            "version": version,
                            "saved_at": time.time(),
                            "report": self.report_rules,
                            "responses": responses,
                        },
                        out,
                    )
                os.replace(temp, self.copy_path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            logger.warning("Could not save the last-known-good copy to %s (%s)", self.copy_path, type(error).__name__)
        logger.info("Answers updated from the content service (version %s, %d answers)", version, len(responses))

    def _fault(self, error: Exception) -> None:
        reason = f"{type(error).__name__} {getattr(error, 'status', '')}".strip()
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.warning(
                "The content service at %s did not answer (%s); answering from %s until it does",
                self.endpoint.url,
                reason,
                self.copy_source,
            )
        else:
            logger.debug("The content service still does not answer (%s)", reason)

    async def _request(
        self, method: str, subpath: str, body: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None
    ) -> Any:
        """One request on a kept-open connection."""
        loop = asyncio.get_running_loop()
        if self.session is None or self.session.closed or self.session_loop is not loop:
            self.session_loop = loop  # a session belongs to one event loop
            self.session = aiohttp.ClientSession(headers=self.endpoint.headers)
        params = dict(self.endpoint.params or {})
        if self.endpoint.token:
            params[self.endpoint.token_name] = self.endpoint.token
        url = self.endpoint.url.rstrip("/") + "/" + subpath
        for attempt in (1, 2):
            try:
                async with self.session.request(
                    method, url, json=body, params=params, timeout=aiohttp.ClientTimeout(total=timeout or self.timeout)
                ) as response:
                    if response.status >= 400:
                        raise aiohttp.ClientResponseError(
                            response.request_info, response.history, status=response.status
                        )
                    return await response.json()
            except aiohttp.ServerDisconnectedError:
                if attempt == 2:  # a kept-open connection the service closed: one new try
                    raise

    # --- the editors' report -------------------------------------------------------
    def reportable(self, utter_action: Text, latest: Dict[str, Any], slots: Optional[Dict[str, Any]] = None) -> bool:
        """Whether the report would keep this reply (common/report_rules.py, with the
        rules the service sent; before it has, every reply to a patient's words), or
        the patient's pick after a guided choice."""
        text = latest.get("text") or ""
        if picked_topic(utter_action, latest, slots or {}) is not None:
            return True
        if not text.strip() or text.startswith("/"):
            return False
        rules = self.report_rules
        if rules is None:
            return True
        return report_kind(utter_action, latest, rules["low_confidence"], rules["responses"], ()) is not None

    def _report(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, arguments: Dict[Text, Any]
    ) -> None:
        latest = tracker.latest_message.parse_data if tracker.latest_message else {}
        offer = tracker.slots.get("guided_offer")
        if not self.reportable(utter_action, latest or {}, {"guided_offer": offer.value if offer else None}):
            return
        if len(self.pending) >= REPORT_QUEUE:
            self.pending.popleft()
            if not self.queue_full_logged:
                self.queue_full_logged = True
                logger.warning("%d report entries wait for the content service; the oldest are dropped", REPORT_QUEUE)
        self.pending.append([request_body(utter_action, tracker, output_channel, arguments), 0])
        if self.down_since is None:
            self._start_reporter()

    def _start_reporter(self) -> None:
        loop = asyncio.get_running_loop()
        if self.reporter is None or self.reporter.done() or self.reporter.get_loop() is not loop:
            self.reporter = loop.create_task(self._send_reports())

    async def _send_reports(self) -> None:
        """Sends the waiting report entries, oldest first; stops at the first the service
        does not take (they are sent after the next successful poll)."""
        while self.pending:
            entry = self.pending.popleft()
            try:
                await self._request("post", "report", entry[0])
            except asyncio.CancelledError:
                self.pending.appendleft(entry)
                raise
            except aiohttp.ClientResponseError as error:
                if 400 <= error.status < 500 and error.status not in (408, 429):
                    if not self.report_refused_logged:  # refused: sending it again would not help
                        self.report_refused_logged = True
                        logger.warning("The content service refused a report entry (%s)", error.status)
                    continue
                self._retry_later(entry, f"{type(error).__name__} {error.status}")
                return
            except Exception as error:
                self._retry_later(entry, type(error).__name__)
                return
        self.queue_full_logged = False

    def _retry_later(self, entry: List[Any], reason: str) -> None:
        entry[1] += 1
        if entry[1] < REPORT_TRIES and len(self.pending) < REPORT_QUEUE:
            self.pending.appendleft(entry)
        logger.debug("A report entry was not sent (%s); %d wait", reason, len(self.pending))
