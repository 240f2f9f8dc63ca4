"""The staff web app of the content service: the editor page, the report page, their
files and their JSON API, behind an editor's login (`make editor-user`). The bot's API
is editor/bot_api.py; logins and cookies editor/staff_login.py; the answers' API
editor/staff_answers.py.

    GET  /editor                 the editor page          (login needed)
    GET  /editor/report          what patients asked, in charts per week, and what the bot
                                 could not answer (login; editor/staff_report.py)
    GET  /editor/readiness       the go-live readiness list (login; editor/readiness.py)
    GET  /editor/static/<file>   the pages' scripts and styles (editor/static/)
    GET/POST /editor/login, POST /editor/logout
    /editor/api/...              JSON for the two pages   (login needed; writes need JSON):
                                 me, answers (editor/staff_answers.py), report,
                                 report/training, readiness (editor/staff_report.py)

Every POST here must come from this site (its Origin, when sent, is this Host).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote, urlparse

from editor.accounts import ROLES
from editor.staff_answers import StaffAnswers
from editor.staff_login import STATIC, STATIC_TYPES
from editor.staff_report import StaffReport

logger = logging.getLogger("hsg.content")
API = "/editor/api/"


class StaffApp(StaffReport, StaffAnswers):
    """The routes under /editor (and / , which leads there)."""

    def staff_get(self, path: str) -> bool:
        """Answers a GET of the staff app; False when `path` is not one of its routes."""
        if path in ("/", "/editor/"):
            self.redirect("/editor")
        elif path == "/editor/login":
            self.static("login.html")
        elif path.startswith("/editor/static/"):
            self.static(path[len("/editor/static/") :])
        elif path in ("/editor", "/editor/report", "/editor/readiness"):
            if not self.logged_in_editor():
                self.redirect("/editor/login?next=" + quote(path))
            elif path == "/editor":
                self.static("editor.html")
            else:
                self.report_page() if path == "/editor/report" else self.readiness_page()
        elif path.startswith(API):
            self.api_get(path[len(API) :])
        else:
            return False
        return True

    def staff_post(self, path: str) -> bool:
        """Answers a POST of the staff app (a write from another site is refused, whatever
        its path); False when `path` is not one of its routes."""
        if not self.same_origin():
            return True
        if path == "/editor/login":
            self.login()
        elif path == "/editor/logout":
            self.logout()
        elif path.startswith(API):
            self.api_post(path[len(API) :])
        else:
            return False
        return True

    def same_origin(self) -> bool:
        """Writes must come from this page: browsers send Origin on POST."""
        origin = self.headers.get("Origin")
        if origin and urlparse(origin).netloc != self.headers.get("Host"):
            self.error(HTTPStatus.FORBIDDEN, "requests from other sites are refused")
            return False
        return True

    def static(self, name: str) -> None:
        path = (STATIC / name).resolve()
        if STATIC.resolve() not in path.parents or not path.is_file() or path.suffix not in STATIC_TYPES:
            return self.error(HTTPStatus.NOT_FOUND, "not found")
        self.send(HTTPStatus.OK, path.read_bytes(), STATIC_TYPES[path.suffix])

    def api_get(self, route: str) -> None:
        editor = self.logged_in_editor()
        if not editor:
            return self.error(HTTPStatus.UNAUTHORIZED, "log in first")
        if route == "me":
            role = self.logged_in_role(editor)
            return self.json(HTTPStatus.OK, {"editor": editor, "role": role, "can": ROLES.get(role or "", "")})
        if route == "answers":
            return self.answers_overview()
        if route.startswith("answers/"):
            return self.answer_detail(route[len("answers/") :])
        if route == "report":
            logger.info("Editor %s read the report", editor)  # who read patients' messages (no message text)
            report = self.service.report
            return self.json(HTTPStatus.OK, {"groups": report.groups(), "retention_days": report.retention_days})
        if route == "readiness":
            return self.readiness_json()
        self.error(HTTPStatus.NOT_FOUND, "not found")

    def api_post(self, route: str) -> None:
        editor = self.logged_in_editor()
        if not editor:
            return self.error(HTTPStatus.UNAUTHORIZED, "log in first")
        if route == "report/training":
            return self.training_post(editor)
        self.answer_post(route, editor)
