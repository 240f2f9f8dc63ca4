"""The bot's API of the content service: what the bot (components/content_nlg.py) calls,
each request with HSG_CONTENT_TOKEN, since the NLG and report requests carry the
conversation. No login, no cookies: the staff web app is editor/staff_app.py.

    GET  /nlg/version?token=T    {"version": ..., "report": ...}: the bot polls this every
                                 2 s and fetches the bundle only when the version changed
    GET  /nlg/bundle?token=T     {"version": ..., "responses": ...}: every answer as Rasa
                                 responses, which the bot renders itself
    POST /nlg/report?token=T     a reply the editors' report may keep (body: Rasa's NLG
                                 request); the bot sends these in the background
    POST /nlg?token=T            Rasa's NLG endpoint: renders one response from the store
                                 (editor/render.py) and records it for the report; the bot
                                 no longer calls it, other NLG clients may
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus
from typing import Any, Dict, Optional

from editor import render
from editor.http_base import Plumbing

logger = logging.getLogger("hsg.content")
MAX_BODY = 4 * 1024 * 1024  # NLG requests carry the whole tracker


class BotApi(Plumbing):
    """The routes under /nlg."""

    def bot_get(self, path: str) -> bool:
        """Answers a GET of the bot's API; False when `path` is not one of its routes."""
        if path == "/nlg/version":
            if self.token_ok():
                self.json(
                    HTTPStatus.OK, {"version": self.service.store.version(), "report": self.service.report_rules()}
                )
            return True
        if path == "/nlg/bundle":
            if self.token_ok():
                self.json(HTTPStatus.OK, dict(self.service.bundle(), report=self.service.report_rules()))
            return True
        return False

    def bot_post(self, path: str) -> bool:
        """Answers a POST of the bot's API; False when `path` is not one of its routes."""
        if path == "/nlg":
            self.nlg()
            return True
        if path == "/nlg/report":
            self.nlg_report()
            return True
        return False

    def token_ok(self) -> bool:
        given = self.query().get("token") or ""
        token = self.service.token
        if token and hmac.compare_digest(given.encode(), token.encode()):
            return True
        self.error(HTTPStatus.UNAUTHORIZED, "a valid token is needed")
        return False

    def nlg_request(self) -> Optional[Dict[str, Any]]:
        """The token-checked, parsed body of an NLG request, or None (answered)."""
        if not self.token_ok():
            return None
        raw = self.body(MAX_BODY)
        if raw is None:
            return None
        try:
            request = json.loads(raw.decode("utf-8"))
            name = request["response"]
            tracker = request.get("tracker") or {}
            channel = (request.get("channel") or {}).get("name")
            if not isinstance(name, str) or not isinstance(tracker, dict):
                raise TypeError
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            self.error(HTTPStatus.BAD_REQUEST, "not a Rasa NLG request")
            return None
        arguments = request.get("arguments") if isinstance(request.get("arguments"), dict) else {}
        return {"name": name, "tracker": tracker, "channel": channel, "arguments": arguments}

    def nlg_report(self) -> None:
        request = self.nlg_request()
        if request is None:
            return
        try:
            recorded = self.service.report.record(
                request["name"], request["tracker"], request["channel"], request["arguments"]
            )
        except Exception as error:  # the kind only: a database error can quote the message
            logger.error("Could not record a report entry (%s)", type(error).__name__)
            return self.error(HTTPStatus.SERVICE_UNAVAILABLE, "could not record the report entry")
        self.json(HTTPStatus.OK, {"recorded": recorded})

    def nlg(self) -> None:
        request = self.nlg_request()
        if request is None:
            return
        name, tracker, channel = request["name"], request["tracker"], request["channel"]
        message = render.render(
            self.service.responses(), name, channel, tracker.get("slots") or {}, request["arguments"]
        )
        if message is None:
            return self.error(HTTPStatus.NOT_FOUND, f"no response called {name}")
        try:
            self.service.report.record(name, tracker, channel, request["arguments"])
        except Exception as error:  # never stops an answer; the kind only (SQL errors quote values)
            logger.error("Could not record a report entry (%s)", type(error).__name__)
        self.json(HTTPStatus.OK, message)
