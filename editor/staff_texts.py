"""The staff's texting routes of the content service (the logic: editor/first_text.py).

GET  /editor/staff               the page to send a patient the first text
                                 (a `staff` or `admin` login)
POST /editor/api/first-text      the page's request (login cookie, same origin)
POST /staff/api/first-text       the same for another system: Authorization: Bearer
                                 HSG_STAFF_TOKEN (refused while it is not set)
"""

from __future__ import annotations

import logging
import os
import secrets
from http import HTTPStatus
from urllib.parse import quote

from editor.first_text import send_first_text
from editor.staff_login import StaffLogin

logger = logging.getLogger("hsg.content")
TEXTING_ROLES = ("staff", "admin")
MAX_BODY = 8 * 1024


class StaffTexts(StaffLogin):
    """The first text, from the staff page or from another system."""

    def staff_page(self) -> None:
        """GET /editor/staff: the page, for a staff or admin login."""
        editor = self.logged_in_editor()
        if not editor:
            return self.redirect("/editor/login?next=" + quote("/editor/staff"))
        if self.logged_in_role(editor) not in TEXTING_ROLES:
            return self.error(HTTPStatus.FORBIDDEN, "sending texts needs a staff or admin account")
        self.static("staff.html")

    def first_text_from_page(self, editor: str) -> None:
        """POST /editor/api/first-text (the caller checked the login and the origin)."""
        if self.logged_in_role(editor) not in TEXTING_ROLES:
            return self.error(HTTPStatus.FORBIDDEN, "sending texts needs a staff or admin account")
        self.first_text(editor)

    def first_text_from_api(self) -> None:
        """POST /staff/api/first-text with the staff token."""
        token = os.environ.get("HSG_STAFF_TOKEN", "")
        given = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not token or not given or not secrets.compare_digest(given.encode(), token.encode()):
            if not token:
                logger.warning("HSG_STAFF_TOKEN is not set: the staff texting API refuses every request")
            return self.error(HTTPStatus.UNAUTHORIZED, "a valid staff token is needed (Authorization: Bearer ...)")
        self.first_text("the staff API")

    def first_text(self, who: str) -> None:
        data = self.json_body(MAX_BODY)
        if data is None:
            return
        service = self.service
        status, answer = send_first_text(
            data,
            service.sms_store(),
            service.store.answers(),
            {language: service.clinic_placeholders(language) for language in ("en", "es")},
            who,
        )
        self.json(status, answer)
