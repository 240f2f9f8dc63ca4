"""The staff app's report and readiness routes (editor/staff_app.py routes to them; the
pages are drawn by editor/report_page.py). Every route needs an editor's login.

    GET  /editor/report?from=2026-W40&to=2026-W47   the report with its charts (HTML)
    GET  /editor/readiness                          the go-live list (HTML)
    GET  /editor/api/readiness                      the same list as JSON
    POST /editor/api/report/training                {"message_id": ..., "marked": true|false}:
                                                    "add as training example" for a developer
"""

from __future__ import annotations

import logging
import os
from http import HTTPStatus

from editor.http_base import Plumbing
from editor.staff_login import STATIC, STATIC_TYPES

logger = logging.getLogger("hsg.content")


class StaffReport(Plumbing):
    """The report and readiness routes (mixed into editor/staff_app.py `StaffApp`)."""

    def report_page(self) -> None:
        from editor.report_page import report_html

        template = (STATIC / "report.html").read_text(encoding="utf-8")
        page = report_html(template, self.service.report, self.query())
        self.send(HTTPStatus.OK, page.encode("utf-8"), STATIC_TYPES[".html"])

    def readiness(self) -> list:
        from common import pg
        from common.settings import load_settings
        from editor.readiness import blockers

        return blockers(self.service.store.answers(), load_settings(), prod=pg.enabled(), env=os.environ)

    def readiness_page(self) -> None:
        from editor.report_page import readiness_html

        template = (STATIC / "readiness.html").read_text(encoding="utf-8")
        page = readiness_html(template, self.readiness())
        self.send(HTTPStatus.OK, page.encode("utf-8"), STATIC_TYPES[".html"])

    def readiness_json(self) -> None:
        from editor.readiness import as_json

        self.json(HTTPStatus.OK, as_json(self.readiness()))

    def training_post(self, editor: str) -> None:
        """Marks (or unmarks) one kept message as a training example."""
        data = self.json_body(4096)
        if data is None:
            return
        message_id = data.get("message_id") if isinstance(data, dict) else None
        marked = data.get("marked") if isinstance(data, dict) else None
        if not isinstance(message_id, str) or not message_id or not isinstance(marked, bool):
            return self.error(HTTPStatus.BAD_REQUEST, 'send {"message_id": "...", "marked": true or false}')
        if not self.service.report.mark(message_id, marked, editor):
            return self.error(HTTPStatus.NOT_FOUND, "no such message in the report (it may have been deleted)")
        self.json(HTTPStatus.OK, {"message_id": message_id, "marked": marked})
