"""Rasa's NLG endpoint with a safety copy: answers come live from the content service
(editor/service.py, `nlg:` in endpoints.yml), so an editor's saved change is what
the next message shows, with no retraining and no restart.

When the content service does not answer (down, slow, or refusing), the bot still
answers: from the last-known-good copy of all answers, which this class fetches
from the service every `sync_seconds` and keeps in a file, or, before the first
copy exists, from the answers built into the model. The fault is logged once per
outage (never with message text), and again when the service is back.

endpoints.yml:
    nlg:
      type: components.content_nlg.ContentNLG
      url: http://localhost:5056/nlg
      timeout: 3            # seconds to wait for the content service
      sync_seconds: 30      # how often the last-known-good copy is refreshed
The token comes from HSG_CONTENT_TOKEN; the copy's file from HSG_CONTENT_LKG
(default var/content-lkg.json).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional, Text

import aiohttp
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


def request_body(utter_action: Text, tracker: DialogueStateTracker, output_channel: Text,
                 arguments: Dict[Text, Any]) -> Dict[Text, Any]:
    """Rasa's NLG request, with the tracker's state (slots, latest message) but not
    its whole event history, which is all Rasa's own client sends: the content service
    needs none of it, and with it every reply's request grew with the conversation."""
    return {"response": utter_action, "id": arguments.pop("response_id", None), "arguments": arguments,
            "tracker": tracker.current_state(EventVerbosity.NONE), "channel": {"name": output_channel}}


class ContentNLG(NaturalLanguageGenerator):
    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        self.endpoint = endpoint_config
        token = os.environ.get("HSG_CONTENT_TOKEN")
        if token:
            self.endpoint.token = token
        options = endpoint_config.kwargs or {}
        self.timeout = float(options.get("timeout", 3))
        self.sync_seconds = float(options.get("sync_seconds", 30))
        self.copy_path = Path(os.environ.get("HSG_CONTENT_LKG") or ROOT / "var" / "content-lkg.json")
        self.copy_version: Optional[str] = None
        responses = dict(domain.responses) if domain else {}
        self.copy_source = "the answers built into the model"
        if self.copy_path.exists():
            try:
                saved = json.loads(self.copy_path.read_text(encoding="utf-8"))
                responses, self.copy_version = saved["responses"], saved["version"]
                self.copy_source = f"the last-known-good copy in {self.copy_path.name}"
            except (OSError, ValueError, KeyError) as error:
                logger.warning("Ignoring an unreadable last-known-good copy %s (%s)", self.copy_path,
                               type(error).__name__)
        self.copy = TemplatedNaturalLanguageGenerator(responses)
        self.synced_at = 0.0
        self.syncing: Optional[asyncio.Task] = None
        self.down_since: Optional[float] = None
        self.session: Optional[aiohttp.ClientSession] = None
        self.session_loop: Optional[asyncio.AbstractEventLoop] = None

    async def generate(self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text,
                       **kwargs: Any) -> Optional[Dict[Text, Any]]:
        kwargs.pop("domain_responses", None)
        body = request_body(utter_action, tracker, output_channel, kwargs)
        try:
            message = await self._post(body)
            if not isinstance(message, dict) or not CallbackNaturalLanguageGenerator.validate_response(message):
                raise ValueError("the content service sent a message Rasa cannot use")
        except Exception as error:  # any failure of the service: answer from the copy
            self._fault(error)
            return await self.copy.generate(utter_action, tracker, output_channel, **kwargs)
        if self.down_since is not None:
            logger.info("The content service answers again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None
        if time.monotonic() - self.synced_at > self.sync_seconds and (self.syncing is None or self.syncing.done()):
            self.synced_at = time.monotonic()
            self.syncing = asyncio.ensure_future(self.sync())
        return message

    async def _post(self, body: Dict[Text, Any]) -> Any:
        """One NLG request on a kept-open connection (Rasa's own client opens a new
        session for every reply)."""
        loop = asyncio.get_running_loop()
        if self.session is None or self.session.closed or self.session_loop is not loop:
            self.session_loop = loop
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                                 headers=self.endpoint.headers)
        params = dict(self.endpoint.params or {})
        if self.endpoint.token:
            params[self.endpoint.token_name] = self.endpoint.token
        for attempt in (1, 2):
            try:
                async with self.session.post(self.endpoint.url, json=body, params=params) as response:
                    if response.status >= 400:
                        raise aiohttp.ClientResponseError(response.request_info, response.history,
                                                          status=response.status)
                    return await response.json()
            except aiohttp.ServerDisconnectedError:
                if attempt == 2:  # a kept-open connection the service closed: one new try
                    raise

    def _fault(self, error: Exception) -> None:
        reason = f"{type(error).__name__} {getattr(error, 'status', '')}".strip()
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.warning("The content service at %s did not answer (%s); answering from %s until it does",
                           self.endpoint.url, reason, self.copy_source)
        else:
            logger.debug("The content service still does not answer (%s)", reason)

    async def sync(self) -> None:
        """Fetches every answer from the content service and keeps it as the
        last-known-good copy (in memory and in the file)."""
        try:
            bundle = await self.endpoint.request(method="get", subpath="bundle",
                                                 timeout=aiohttp.ClientTimeout(total=10))
            responses, version = bundle["responses"], bundle["version"]
            if not isinstance(responses, dict) or not responses:
                raise ValueError("empty bundle")
        except Exception as error:
            logger.warning("Could not refresh the last-known-good copy of the answers (%s)", type(error).__name__)
            return
        if version == self.copy_version:
            return
        self.copy = TemplatedNaturalLanguageGenerator(responses)
        self.copy_version = version
        self.copy_source = f"the last-known-good copy in {self.copy_path.name}"
        try:
            self.copy_path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.copy_path.parent, prefix=".lkg-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": version, "saved_at": time.time(), "responses": responses}, out)
            os.replace(temp, self.copy_path)
        except OSError as error:
            logger.warning("Could not save the last-known-good copy to %s (%s)", self.copy_path, error)
        logger.info("Last-known-good copy of the answers refreshed (version %s, %d answers)", version, len(responses))
