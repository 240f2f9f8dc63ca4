"""Logging editors in and out of the staff web app: the form post, the cookies, and
which client a login comes from. The accounts, sessions and throttle themselves are
editor/accounts.py; the pages and the editing API are editor/staff_app.py.

    GET/POST /editor/login, POST /editor/logout

Editor cookies are HttpOnly and SameSite=Strict, and Secure when the editor is served
over HTTPS: always with HSG_EDITOR_SECURE_COOKIES=1, else when a trusted proxy
(HSG_EDITOR_TRUSTED_PROXIES, addresses or networks, default 127.0.0.1 and ::1)
says X-Forwarded-Proto: https. From a trusted proxy, the client address used to
throttle logins is the one it forwarded (editor/http_base.py, common/proxies.py). A throttled
login gets 429 with Retry-After. Logins are logged with the account's name (an audit of who
can read patient text), never a password or cookie; failed logins without the name tried.
"""

from __future__ import annotations

import html
import logging
import os
from http import HTTPStatus
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import parse_qs, quote

from editor.accounts import DEVICE_DAYS, SESSION_HOURS, retry_seconds
from editor.http_base import Plumbing

logger = logging.getLogger("hsg.content")
STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
COOKIE = "hsg_editor"
DEVICE_COOKIE = "hsg_editor_device"  # only lets this browser skip the per-name login delay


class StaffLogin(Plumbing):
    """The editor's session cookie: set at login, read on every staff route, ended at logout."""

    def cookie(self, name: str) -> Optional[str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except Exception:  # a malformed cookie header is just no cookie
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def logged_in_editor(self) -> Optional[str]:
        return self.service.sessions.editor(self.cookie(COOKIE))

    def logged_in_role(self, name: Optional[str]) -> Optional[str]:
        """The role of the logged-in account (editor/accounts.py ROLES), read now."""
        return self.service.sessions.role(name)

    def over_https(self) -> bool:
        if os.environ.get("HSG_EDITOR_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes"):
            return True
        proto = (self.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
        return proto == "https" and self.from_trusted_proxy()

    def set_cookie(self, name: str, value: str, path: str, max_age: int) -> str:
        """A Set-Cookie value: HttpOnly, SameSite=Strict, and Secure over HTTPS."""
        return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict" + (
            "; Secure" if self.over_https() else ""
        )

    def login(self) -> None:
        """POST /editor/login: the form's name and password, then back where the editor was going."""
        raw = self.body(8192)
        if raw is None:
            return
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        name, password = form.get("name", "").strip(), form.get("password", "")
        target = form.get("next") or "/editor"
        if not target.startswith("/editor") or "//" in target:
            target = "/editor"
        result = self.service.sessions.login(name, password, self.client_ip(), self.cookie(DEVICE_COOKIE))
        if result.outcome in ("wait", "busy"):
            return self.login_refused(result.outcome, retry_seconds(result.retry_after), target)
        if result.outcome != "ok":
            logger.info("Failed editor login")
            return self.redirect("/editor/login?error=bad&next=" + quote(target))
        logger.info("Editor %s logged in", name)  # an account name, never patient data
        self.redirect(
            target,
            {
                "Set-Cookie": [
                    self.set_cookie(COOKIE, result.cookie, "/editor", SESSION_HOURS * 3600),
                    self.set_cookie(DEVICE_COOKIE, result.device, "/editor/login", DEVICE_DAYS * 86400),
                ]
            },
        )

    def login_refused(self, outcome: str, seconds: int, target: str) -> None:
        """A login not tried: throttled ("wait", 429) or every hashing slot busy ("busy", 503)."""
        logger.info(
            "Editor login %s; retry after %d s",
            "throttled" if outcome == "wait" else "refused while every hashing slot was busy",
            seconds,
        )
        message = (
            f"Too many tries. Wait {seconds} second{'s' if seconds != 1 else ''}, then try again."
            if outcome == "wait"
            else f"The server is busy. Try again in {seconds} seconds."
        )
        self.login_page(
            HTTPStatus.TOO_MANY_REQUESTS if outcome == "wait" else HTTPStatus.SERVICE_UNAVAILABLE,
            message,
            target,
            {"Retry-After": str(seconds)},
        )

    def login_page(self, status: int, message: str, target: str, headers: Dict[str, str]) -> None:
        """The login page with a message in its error box (a throttled form post)."""
        page = (STATIC / "login.html").read_text(encoding="utf-8")
        box = '<p id="login-error" class="problem" role="alert" hidden></p>'
        page = page.replace(box, f'<p id="login-error" class="problem" role="alert">{html.escape(message)}</p>')
        page = page.replace(
            'name="next" id="next" value="/editor"',
            f'name="next" id="next" value="{html.escape(target, quote=True)}"',
        )
        self.send(status, page.encode("utf-8"), STATIC_TYPES[".html"], dict(headers))

    def logout(self) -> None:
        """POST /editor/logout: ends the session and clears its cookie."""
        if self.service.sessions.end(self.cookie(COOKIE)):
            logger.info("Editor logged out")
        self.redirect("/editor/login", {"Set-Cookie": self.set_cookie(COOKIE, "", "/editor", 0)})
