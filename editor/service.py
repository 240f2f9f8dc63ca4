"""The content service: Rasa's NLG endpoint, the editor page and the report.

Started by scripts/run.sh (port 5056, CONTENT_PORT). Standard library HTTP server,
no Rasa imports. Routes:

    GET  /nlg/version?token=T    {"version": ..., "report": ...}: the bot polls this every
                                 2 s and fetches the bundle only when the version changed
    GET  /nlg/bundle?token=T     {"version": ..., "responses": ...}: every answer as Rasa
                                 responses, which the bot renders itself
                                 (components/content_nlg.py)
    POST /nlg/report?token=T     a reply the editors' report may keep (body: Rasa's NLG
                                 request); the bot sends these in the background
    POST /nlg?token=T            Rasa's NLG endpoint: renders one response from the store
                                 (editor/render.py) and records it for the report; the bot
                                 no longer calls it, other NLG clients may
    GET  /health                 {"status": "ok"}
    GET  /editor                 the editor page          (login needed)
    GET  /editor/report          what patients asked that the bot could not answer (login)
    GET/POST /editor/login, POST /editor/logout
    /editor/api/...              JSON for the two pages   (login needed; writes need JSON)
                                 An answer's Spanish version (`es`) is edited, checked,
                                 saved and rolled back with it; `reviewed_es` marks the
                                 Spanish reviewed (by a bilingual clinician) on its own.

The NLG and report requests carry the conversation, so they need HSG_CONTENT_TOKEN,
as do the version and the bundle; the editor needs an account (`make editor-user`).
Nothing here logs message text, passwords or cookies.

Editor cookies are HttpOnly and SameSite=Strict, and Secure when the editor is served
over HTTPS: always with HSG_EDITOR_SECURE_COOKIES=1, else when a trusted proxy
(HSG_EDITOR_TRUSTED_PROXIES, comma-separated addresses, default 127.0.0.1 and ::1)
says X-Forwarded-Proto: https. From a trusted proxy, the client address used to
throttle logins is the last one in X-Forwarded-For. Sessions and throttling:
editor/accounts.py. A throttled login gets 429 with Retry-After.
"""

from __future__ import annotations

import argparse
import hmac
import html
import json
import logging
import os
import re
import sys
import threading
import time
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import parse_qs, quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.report_rules import FALLBACK_RESPONSES, GUIDED_RESPONSES, OUT_OF_SCOPE_RESPONSES  # noqa: E402
from common.settings import load_settings, placeholders  # noqa: E402
from editor import checks, render  # noqa: E402
from editor.accounts import DEVICE_DAYS, SESSION_HOURS, Sessions, retry_seconds  # noqa: E402
from editor.report import Report  # noqa: E402
from editor.store import ContentStore, StoreError, fill, normalise, open_store, rasa_responses  # noqa: E402

logger = logging.getLogger("hsg.content")
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "hsg_editor"
DEVICE_COOKIE = "hsg_editor_device"  # only lets this browser skip the per-name login delay
MAX_BODY = 4 * 1024 * 1024  # NLG requests carry the whole tracker
MAX_EDIT_BODY = 64 * 1024
NAME = re.compile(r"^utter_[a-z0-9_]+(/[a-z0-9_]+)?$")
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


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


def make_handler(service: ContentService):
    class Handler(BaseHTTPRequestHandler):
        server_version = "hsg-content"
        sys_version = ""
        protocol_version = "HTTP/1.1"  # keep-alive: the bot reuses its connection for every reply
        # Headers and body go out as two writes; with Nagle's algorithm the second waits
        # for the client's delayed ACK, about 40 ms per reply. Send at once instead.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.command, urlparse(self.path).path)

        # --- plumbing -------------------------------------------------------
        def send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: Optional[Dict[str, Union[str, List[str]]]] = None,
        ) -> None:
            if not getattr(self, "body_read", False) and (self.headers.get("Content-Length") or "0") != "0":
                self.close_connection = True  # an unread body would corrupt the next request on this connection
            self.send_response(status)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "same-origin")  # "no-referrer" makes Origin "null"
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            )
            for key, value in (headers or {}).items():
                for one in value if isinstance(value, list) else [value]:
                    self.send_header(key, one)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def json(self, status: int, data: Any, headers: Optional[Dict[str, str]] = None) -> None:
            self.send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json", headers)

        def error(self, status: int, message: str) -> None:
            self.json(status, {"error": message})

        def redirect(self, location: str, headers: Optional[Dict[str, Union[str, List[str]]]] = None) -> None:
            self.send(HTTPStatus.SEE_OTHER, b"", "text/plain", dict(headers or {}, Location=location))

        def body(self, limit: int) -> Optional[bytes]:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            self.body_read = True
            if length < 0 or length > limit:
                self.error(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > limit else HTTPStatus.BAD_REQUEST,
                    "request body too large" if length > limit else "bad Content-Length",
                )
                self.close_connection = True
                return None
            return self.rfile.read(length)

        def json_body(self, limit: int = MAX_EDIT_BODY) -> Optional[Any]:
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self.error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON (Content-Type: application/json)")
                return None
            raw = self.body(limit)
            if raw is None:
                return None
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.error(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
                return None

        def query(self) -> Dict[str, str]:
            return {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}

        def token_ok(self) -> bool:
            given = self.query().get("token") or ""
            if service.token and hmac.compare_digest(given.encode(), service.token.encode()):
                return True
            self.error(HTTPStatus.UNAUTHORIZED, "a valid token is needed")
            return False

        def cookie(self, name: str) -> Optional[str]:
            jar = SimpleCookie()
            try:
                jar.load(self.headers.get("Cookie") or "")
            except Exception:  # a malformed cookie header is just no cookie
                return None
            morsel = jar.get(name)
            return morsel.value if morsel else None

        def logged_in_editor(self) -> Optional[str]:
            return service.sessions.editor(self.cookie(COOKIE))

        def from_trusted_proxy(self) -> bool:
            trusted = os.environ.get("HSG_EDITOR_TRUSTED_PROXIES", "127.0.0.1,::1")
            return self.client_address[0] in {a.strip() for a in trusted.split(",") if a.strip()}

        def client_ip(self) -> str:
            """The client's address: the peer, or what a trusted proxy forwarded."""
            if self.from_trusted_proxy():
                forwarded = (self.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
                if forwarded:
                    return forwarded[:64]
            return self.client_address[0]

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

        def same_origin(self) -> bool:
            """Writes must come from this page: browsers send Origin on POST."""
            origin = self.headers.get("Origin")
            if origin and urlparse(origin).netloc != self.headers.get("Host"):
                self.error(HTTPStatus.FORBIDDEN, "requests from other sites are refused")
                return False
            return True

        # --- routes -------------------------------------------------------------
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            self.body_read = False
            path = urlparse(self.path).path
            try:
                if path == "/health":
                    return self.json(HTTPStatus.OK, {"status": "ok"})
                if path == "/nlg/version":
                    if self.token_ok():
                        self.json(HTTPStatus.OK, {"version": service.store.version(), "report": service.report_rules()})
                    return
                if path == "/nlg/bundle":
                    if self.token_ok():
                        self.json(HTTPStatus.OK, dict(service.bundle(), report=service.report_rules()))
                    return
                if path in ("/", "/editor/"):
                    return self.redirect("/editor")
                if path == "/editor/login":
                    return self.static("login.html")
                if path.startswith("/editor/static/"):
                    return self.static(path[len("/editor/static/") :])
                if path in ("/editor", "/editor/report"):
                    if not self.logged_in_editor():
                        return self.redirect("/editor/login?next=" + quote(path))
                    return self.static("editor.html" if path == "/editor" else "report.html")
                if path.startswith("/editor/api/"):
                    return self.api_get(path[len("/editor/api/") :])
                self.error(HTTPStatus.NOT_FOUND, "not found")
            except Exception:
                logger.exception("GET %s failed", path)
                self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "the content service had a problem; see its log")

        def do_POST(self) -> None:
            self.body_read = False
            path = urlparse(self.path).path
            try:
                if path == "/nlg":
                    return self.nlg()
                if path == "/nlg/report":
                    return self.nlg_report()
                if not self.same_origin():
                    return
                if path == "/editor/login":
                    return self.login()
                if path == "/editor/logout":
                    if service.sessions.end(self.cookie(COOKIE)):
                        logger.info("Editor logged out")
                    return self.redirect("/editor/login", {"Set-Cookie": self.set_cookie(COOKIE, "", "/editor", 0)})
                if path.startswith("/editor/api/"):
                    return self.api_post(path[len("/editor/api/") :])
                self.error(HTTPStatus.NOT_FOUND, "not found")
            except Exception:
                logger.exception("POST %s failed", path)
                self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "the content service had a problem; see its log")

        def do_PUT(self) -> None:
            self.body_read = False
            self.error(HTTPStatus.METHOD_NOT_ALLOWED, "use POST")

        do_DELETE = do_PATCH = do_PUT

        def static(self, name: str) -> None:
            path = (STATIC / name).resolve()
            if STATIC.resolve() not in path.parents or not path.is_file() or path.suffix not in STATIC_TYPES:
                return self.error(HTTPStatus.NOT_FOUND, "not found")
            self.send(HTTPStatus.OK, path.read_bytes(), STATIC_TYPES[path.suffix])

        # --- NLG ------------------------------------------------------------------
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
                recorded = service.report.record(
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
                service.responses(), name, channel, tracker.get("slots") or {}, request["arguments"]
            )
            if message is None:
                return self.error(HTTPStatus.NOT_FOUND, f"no response called {name}")
            try:
                service.report.record(name, tracker, channel, request["arguments"])
            except Exception as error:  # never stops an answer; the kind only (SQL errors quote values)
                logger.error("Could not record a report entry (%s)", type(error).__name__)
            self.json(HTTPStatus.OK, message)

        # --- login ----------------------------------------------------------------
        def login(self) -> None:
            raw = self.body(8192)
            if raw is None:
                return
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            name, password = form.get("name", "").strip(), form.get("password", "")
            target = form.get("next") or "/editor"
            if not target.startswith("/editor") or "//" in target:
                target = "/editor"
            result = service.sessions.login(name, password, self.client_ip(), self.cookie(DEVICE_COOKIE))
            if result.outcome in ("wait", "busy"):
                seconds = retry_seconds(result.retry_after)
                logger.info(
                    "Editor login %s; retry after %d s",
                    "throttled" if result.outcome == "wait" else "refused while every hashing slot was busy",
                    seconds,
                )
                message = (
                    f"Too many tries. Wait {seconds} second{'s' if seconds != 1 else ''}, then try again."
                    if result.outcome == "wait"
                    else f"The server is busy. Try again in {seconds} seconds."
                )
                return self.login_page(
                    HTTPStatus.TOO_MANY_REQUESTS if result.outcome == "wait" else HTTPStatus.SERVICE_UNAVAILABLE,
                    message,
                    target,
                    {"Retry-After": str(seconds)},
                )
            if result.outcome != "ok":
                logger.info("Failed editor login")
                return self.redirect("/editor/login?error=bad&next=" + quote(target))
            logger.info("Editor logged in")
            self.redirect(
                target,
                {
                    "Set-Cookie": [
                        self.set_cookie(COOKIE, result.cookie, "/editor", SESSION_HOURS * 3600),
                        self.set_cookie(DEVICE_COOKIE, result.device, "/editor/login", DEVICE_DAYS * 86400),
                    ]
                },
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
            self.send(status, page.encode("utf-8"), STATIC_TYPES[".html"], headers)

        # --- editor API -------------------------------------------------------
        def api_get(self, route: str) -> None:
            editor = self.logged_in_editor()
            if not editor:
                return self.error(HTTPStatus.UNAUTHORIZED, "log in first")
            if route == "me":
                return self.json(HTTPStatus.OK, {"editor": editor})
            if route == "answers":
                answers = service.store.answers()
                values, values_es = service.clinic_placeholders(), service.clinic_placeholders("es")
                problems, rows = checks.check_store(answers, values, None, values_es)
                general = [str(p) for p in problems if p.answer == "all answers"]
                rules = checks.load_rules()
                return self.json(
                    HTTPStatus.OK,
                    {
                        "answers": rows,
                        "general_problems": general,
                        "limits": service.limits(),
                        "median_grade": checks.median_grade(answers, rules, values),
                        "median_reading_ease_es": checks.median_reading_ease(answers, rules, values_es),
                        "spanish_unreviewed": [row["answer"] for row in rows if row["spanish_unreviewed"]],
                        "spanish_missing": [row["answer"] for row in rows if not row["has_spanish"]],
                    },
                )
            if route.startswith("answers/"):
                name = route[len("answers/") :]
                answers = service.store.answers()
                if name not in answers:
                    return self.error(HTTPStatus.NOT_FOUND, f"there is no answer called {name}")
                answer = answers[name]
                history = service.store.history(name)
                problems = service.check_answer(name, answer)
                return self.json(
                    HTTPStatus.OK,
                    {
                        "name": name,
                        "answer": answer,
                        "version": history[-1]["version"],
                        "history": history,
                        "problems": [vars(p) for p in problems],
                        "messages": [str(p) for p in problems],
                        "previews": service.previews(answer),
                        "placeholders": sorted(service.clinic_placeholders()),
                        "sources": checks.load_rules()["sources"],
                        "limits": service.limits(),
                    },
                )
            if route == "report":
                return self.json(
                    HTTPStatus.OK, {"groups": service.report.groups(), "retention_days": service.report.retention_days}
                )
            self.error(HTTPStatus.NOT_FOUND, "not found")

        def api_post(self, route: str) -> None:
            """POST /editor/api/answers/<name>[/check|/rollback]: check, save or roll back
            one answer, in three steps: the request, the answer it proposes, the save."""
            editor = self.logged_in_editor()
            if not editor:
                return self.error(HTTPStatus.UNAUTHORIZED, "log in first")
            request = self.answer_request(route)
            if request is None:
                return
            name, action, data, answers = request
            proposed = self.proposed_answer(name, action, data, answers, editor)
            if proposed is None:
                return
            answer, note = proposed
            problems = checks.check_save(
                name, answer, answers, service.clinic_placeholders(), None, service.clinic_placeholders("es")
            )
            if action == "/check":
                return self.json(
                    HTTPStatus.OK,
                    {
                        "problems": [vars(p) for p in problems],
                        "messages": [str(p) for p in problems],
                        "previews": service.previews(answer),
                    },
                )
            if problems:
                logger.info("Save of %s refused: %s", name, ", ".join(sorted({p.check for p in problems})))
                return self.json(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    {
                        "error": "not saved: fix the problems below first",
                        "problems": [vars(p) for p in problems],
                        "messages": [str(p) for p in problems],
                    },
                )
            self.save_answer(name, answer, editor, note, data.get("base_version"))

        def answer_request(self, route: str) -> Optional[Tuple[str, str, Dict[str, Any], Dict[str, Any]]]:
            """(answer name, action, request body, every answer) of a valid request, or
            None when it was answered with an error."""
            data = self.json_body()
            if data is None:
                return None
            if not isinstance(data, dict):
                self.error(HTTPStatus.BAD_REQUEST, "send a JSON object")
                return None
            match = re.fullmatch(r"answers/(.+?)(/check|/rollback)?", route)
            if not match or not NAME.match(match.group(1)):
                self.error(HTTPStatus.NOT_FOUND, "not found")
                return None
            name, action = match.group(1), match.group(2) or "/save"
            answers = service.store.answers()
            if name not in answers:
                self.error(HTTPStatus.NOT_FOUND, f"there is no answer called {name}")
                return None
            return name, action, data, answers

        def proposed_answer(
            self, name: str, action: str, data: Dict[str, Any], answers: Dict[str, Any], editor: str
        ) -> Optional[Tuple[Dict[str, Any], str]]:
            """(the answer as it would be saved, the history note): an old version for a
            rollback, else the edited answer; None when answered with an error."""
            try:
                if action == "/rollback":
                    version = data.get("version")
                    if not _is_int(version):
                        self.error(HTTPStatus.BAD_REQUEST, "say which version to go back to")
                        return None
                    if not _is_int(data.get("base_version")):
                        self.error(
                            HTTPStatus.BAD_REQUEST,
                            "say which version you are looking at (base_version); reload the page",
                        )
                        return None
                    return service.store.version_of(name, version), f"rolled back to version {version}"
                answer = normalise(dict(data.get("answer") or {}, response=name))
                if data.get("reviewed"):
                    answer["reviewed_by"] = editor
                    answer["reviewed_on"] = time.strftime("%Y-%m-%d")
                if data.get("reviewed_es"):  # the Spanish version, reviewed by a bilingual clinician
                    if not answer.get("es"):
                        self.error(HTTPStatus.BAD_REQUEST, "there is no Spanish version to mark as reviewed")
                        return None
                    answer["es"]["reviewed_by"] = editor
                    answer["es"]["reviewed_on"] = time.strftime("%Y-%m-%d")
                if answers[name].get("sms_only"):
                    answer["sms_only"] = True
                    answer.pop("web", None)
                    if answer.get("es"):
                        answer["es"].pop("web", None)
                return answer, str(data.get("note") or "")[:200]
            except StoreError as error:
                self.error(HTTPStatus.BAD_REQUEST, str(error))
                return None

        def save_answer(self, name: str, answer: Dict[str, Any], editor: str, note: str, base: Any) -> None:
            """Saves a checked answer; a save or rollback over someone else's newer change
            (the base version is not the latest) is refused with 409."""
            try:
                version = service.store.save(name, answer, editor, note, base_version=base if _is_int(base) else None)
            except StoreError as error:
                return self.error(HTTPStatus.CONFLICT, str(error))
            logger.info("%s saved as version %d by an editor", name, version)
            self.json(HTTPStatus.OK, {"saved": name, "version": version})

    return Handler


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    from editor.store import PgContentStore

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
