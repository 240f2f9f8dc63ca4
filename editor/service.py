"""The content service: the answers the bot copies, the editor page and the report.

Started by scripts/run.sh as `python -m editor.service --port 5056` (CONTENT_PORT).
Standard library HTTP server, no Rasa imports. One server, two sides, each in its own
module over the shared plumbing (editor/http_base.py):

    the bot's API     editor/bot_api.py      /nlg/version, /nlg/bundle, /nlg/report, /nlg;
                                             every request carries HSG_CONTENT_TOKEN
    the staff web app editor/staff_app.py    /editor, /editor/report, /editor/static/...,
                                             /editor/api/...: an editor's login
                      editor/staff_login.py  /editor/login, /editor/logout, cookies
                      editor/staff_answers.py the answers' editing API
                      editor/staff_texts.py  /editor/staff, /staff/api/first-text: the
                                             staff's first text to a patient
    GET /health       {"status": "ok"}

This module holds what both sides read (`ContentService`: the store, the token, the
sessions, the report), puts the two sides into one handler, and starts the server.
Nothing here logs message text, passwords or cookies.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Type
from urllib.parse import urlparse

from common.report_rules import FALLBACK_RESPONSES, GUIDED_RESPONSES, OUT_OF_SCOPE_RESPONSES
from common.settings import load_settings, placeholders
from common.sms_store import BaseSmsStore, open_sms_store
from editor import checks
from editor.accounts import Sessions
from editor.bot_api import BotApi
from editor.report import Report
from editor.staff_app import StaffApp
from editor.store import ContentStore, PgContentStore, fill, open_store, rasa_responses

logger = logging.getLogger("hsg.content")


class ContentService:
    """Everything the handler needs: the store, the settings, the sessions, the report."""

    def __init__(self, store: ContentStore, token: Optional[str], sessions: Sessions, report: Report) -> None:
        self.store = store
        self.token = token
        self.sessions = sessions
        self.report = report
        self._responses_version: Optional[str] = None
        self._responses: Dict[str, Any] = {}
        self._responses_lock = threading.Lock()
        self._sms_store: Optional[BaseSmsStore] = None

    def sms_store(self) -> BaseSmsStore:
        """The SMS channel's store (opt-outs, sent texts), opened at first use: the staff's
        first text never goes to a number that opted out (PostgreSQL: on any host)."""
        if self._sms_store is None:
            self._sms_store = open_sms_store()
        return self._sms_store

    def clinic_placeholders(self, language: str = "en") -> Dict[str, str]:
        """The clinic settings that fill the answers' {placeholders}, in `language`."""
        return placeholders(load_settings(), language)

    def responses(self) -> Dict[str, Any]:
        """Every answer as Rasa responses, rebuilt only when the store changed."""
        return self.bundle()["responses"]

    def bundle(self) -> Dict[str, Any]:
        """{"version", "responses"}: every answer and the store version it was built
        from. Built after reading the version, so the answers are never older than
        the version says (a save in between is fetched again at the next poll)."""
        with self._responses_lock:
            version = self.store.version()
            if version != self._responses_version:
                self._responses = rasa_responses(self.store, self.clinic_placeholders(), self.clinic_placeholders("es"))
                self._responses_version = version
            return {"version": self._responses_version, "responses": self._responses}

    def report_rules(self) -> Dict[str, Any]:
        """Which replies the report keeps (editor/report.py `Report.classify`), so the
        bot sends only those: the fallback and out-of-scope answers, the guided choice,
        and any answer to a message whose top guess was below `low_confidence` (and the
        pick after a guided choice: common/report_rules.py picked_topic)."""
        return {
            "responses": sorted(FALLBACK_RESPONSES | OUT_OF_SCOPE_RESPONSES | GUIDED_RESPONSES),
            "low_confidence": self.report.low_confidence,
        }

    def previews(self, answer: Dict[str, Any]) -> Dict[str, Any]:
        """What a patient sees of each form, and its numbers: "web" and "sms" with the
        reading grade, "es_web" and "es_sms" (the Spanish version) with the reading ease."""
        rules = checks.load_rules()
        out: Dict[str, Any] = {}
        for language, prefix, forms in (("en", "", answer), ("es", "es_", answer.get("es") or {})):
            values = self.clinic_placeholders(language)
            for form in ("web", "sms"):
                part = forms.get(form) or {}
                if not part.get("text"):
                    continue
                filled = fill(part, values)
                preview = out[prefix + form] = {
                    "text": filled["text"],
                    "buttons": filled.get("buttons") or [],
                    "words": len(part["text"].split()),
                }
                if language == "es":
                    preview["ease"] = checks.reading_ease(part["text"], rules, values)
                else:
                    preview["grade"] = checks.plain_grade(part["text"], rules, values)
                if form == "sms":
                    body = checks.sms_body(part, values, rules, language)
                    encoding, count = checks.segments(body)
                    preview.update(
                        body=checks.numbered(filled["text"], filled.get("buttons") or [], language),
                        segments=count,
                        encoding=encoding,
                        characters=len(body),
                    )
        return out

    def limits(self) -> Dict[str, Any]:
        """The numbers the editor page shows next to each form (content/checks.yml)."""
        rules = checks.load_rules()
        return {
            key: rules[key]
            for key in (
                "max_grade",
                "max_median_grade",
                "max_words",
                "max_sms_segments",
                "min_reading_ease_es",
                "min_median_reading_ease_es",
                "max_sms_segments_es",
            )
        }

    def check_answer(self, name: str, answer: Dict[str, Any]) -> List[Any]:
        return checks.check_answer(name, answer, self.clinic_placeholders(), None, self.clinic_placeholders("es"))


class ContentHandler(BotApi, StaffApp):
    """One request of either side: the bot's API (editor/bot_api.py), else the staff web
    app (editor/staff_app.py), else 404. An unexpected error is a 500 with no detail."""

    def do_GET(self) -> None:
        self.body_read = False
        path = urlparse(self.path).path
        try:
            if path == "/health":
                return self.json(HTTPStatus.OK, {"status": "ok"})
            if not (self.bot_get(path) or self.staff_get(path)):
                self.error(HTTPStatus.NOT_FOUND, "not found")
        except Exception:
            logger.exception("GET %s failed", path)
            self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "the content service had a problem; see its log")

    def do_POST(self) -> None:
        self.body_read = False
        path = urlparse(self.path).path
        try:
            if not (self.bot_post(path) or self.staff_post(path)):
                self.error(HTTPStatus.NOT_FOUND, "not found")
        except Exception:
            logger.exception("POST %s failed", path)
            self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "the content service had a problem; see its log")

    def do_PUT(self) -> None:
        self.body_read = False
        self.error(HTTPStatus.METHOD_NOT_ALLOWED, "use POST")

    do_DELETE = do_PATCH = do_PUT


def make_handler(service: ContentService) -> Type[ContentHandler]:
    """The request handler class of an HTTP server serving `service`."""
    return type("Handler", (ContentHandler,), {"service": service})


def build_service(store: Optional[ContentStore] = None) -> ContentService:
    """The service on the store of this profile: with HSG_STORE=postgresql (the production
    profile) the answers, accounts, sessions, login throttle and report are PostgreSQL's,
    shared by every host; else files (editor/store.py, editor/accounts.py, editor/report.py)."""
    settings = load_settings()
    report_settings = settings.get("report") or {}
    return ContentService(
        store or open_store(),
        os.environ.get("HSG_CONTENT_TOKEN"),
        Sessions(),
        Report(
            retention_days=report_settings.get("retention_days", 30),
            low_confidence=report_settings.get("low_confidence", 0.6),
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONTENT_PORT", 5056)))
    parser.add_argument("--host", default=os.environ.get("HSG_CONTENT_HOST", "127.0.0.1"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = build_service()
    logger.info(
        "Answers, editor accounts and report: %s",
        "PostgreSQL, shared by every host" if isinstance(service.store, PgContentStore) else "files on this host",
    )
    if not service.token:
        logger.warning("HSG_CONTENT_TOKEN is not set: the bot's NLG requests will be refused")
    problems, _ = checks.check_store(
        service.store.answers(), service.clinic_placeholders(), None, service.clinic_placeholders("es")
    )
    if problems:
        logger.warning("%d content problem(s); run `make check-content`", len(problems))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(service))
    server.daemon_threads = True
    logger.info("Content service on http://%s:%d (editor at /editor)", args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
