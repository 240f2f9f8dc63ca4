"""Serves the chat widget, the demo clinic page, and calendar (.ics) downloads.

Started by scripts/run.sh beside Rasa. Standard library HTTP server plus the
icalendar package for the .ics files; no patient data is stored or logged.

The widget's words (every language) are in content/widget_text.yml: this server puts
them into widget.js as it serves it, serves them as /widget-text.json, and fills the
diagram's labels (/hsg-diagram.svg?lang=es). The file is read again when it changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import mimetypes
import os
import re
import sys
import threading
import uuid
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

import yaml
from icalendar import Calendar, Event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.settings import fill, load_settings, placeholders  # noqa: E402

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_TEXT = ROOT / "content" / "widget_text.yml"
TEXT_MARKER = "/*HSG_WIDGET_TEXT*/null"  # where widget.js receives its words
mimetypes.add_type("image/svg+xml", ".svg")
MAX_WINDOW_DAYS = 31
MAX_YEARS_AWAY = 2

_text_lock = threading.Lock()
_text_cache: Dict[Path, Tuple[Tuple[int, int], Dict[str, Any]]] = {}


def clinic_settings() -> dict:
    """clinic.yml as every process reads it (checked by common/settings.py)."""
    return load_settings()


def with_defaults(words: Any, english: Any) -> Any:
    """A language's words, with the English ones wherever a key is missing (a new key the
    translators have not reached yet shows in English rather than breaking the chat)."""
    if isinstance(english, dict):
        words = words if isinstance(words, dict) else {}
        merged = {key: with_defaults(words.get(key), value) for key, value in english.items()}
        merged.update({key: value for key, value in words.items() if key not in english})
        return merged
    return english if words is None else words


def read_widget_text(path: Path, settings: dict) -> Dict[str, Any]:
    """The words of content/widget_text.yml per language, clinic settings filled in."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("en"), dict):
        raise ValueError(f"{path} needs an `en:` section")
    return {
        language: fill(with_defaults(words, raw["en"]), placeholders(settings, language))
        for language, words in raw.items()
    }


def widget_text(path: Path = WIDGET_TEXT, settings: Optional[dict] = None) -> Dict[str, Any]:
    """{"en": {...}, "es": {...}}: read again whenever the file changes. A file that
    cannot be read (a typo while editing) keeps the last good words, with a warning."""
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (-1, -1)
    with _text_lock:
        cached = _text_cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            text = read_widget_text(path, settings if settings is not None else clinic_settings())
        except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError) as error:
            if not cached:
                raise
            logging.warning("%s could not be read (%s); the chat keeps its last good words", path, type(error).__name__)
            return cached[1]
        _text_cache[path] = (stamp, text)
        return text


def languages() -> Tuple[str, ...]:
    """The languages the chat speaks: the sections of content/widget_text.yml."""
    return tuple(widget_text())


def widget_script(text: Dict[str, Any]) -> bytes:
    """web/static/widget.js with its words put in (JSON; ASCII only, so safe in any page)."""
    script = (STATIC / "widget.js").read_text(encoding="utf-8")
    return script.replace(TEXT_MARKER, json.dumps(text, ensure_ascii=True, sort_keys=False)).encode()


def diagram(language: str, text: Dict[str, Any]) -> bytes:
    """web/static/hsg-diagram.svg with its labels in the language (XML-escaped)."""
    values = {key: escape(str(value), {'"': "&quot;"}) for key, value in text[language]["diagram"].items()}
    values["lang"] = language
    return fill((STATIC / "hsg-diagram.svg").read_text(encoding="utf-8"), values).encode()


def window_calendar(start: date, end: date, settings: dict, language: str = "en") -> bytes:
    """An all-day event for the exam window, made with the icalendar library, with the
    clinic's title and note in the language (clinic.yml web.calendar_title_es ...)."""
    calendar = Calendar()
    calendar.add("prodid", "-//HSG patient-education assistant//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{uuid.uuid4()}@hsg-assistant")
    event.add("dtstamp", datetime.now(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", end + timedelta(days=1))  # all-day events end the day after
    words = settings["web"]  # the event's title and note are clinic content, in clinic.yml
    suffix = "" if language == "en" else f"_{language}"
    if "calendar_title" + suffix not in words or "calendar_note" + suffix not in words:
        language, suffix = "en", ""  # the clinic has no words in that language: English, and the file says so
    event.add("summary", words["calendar_title" + suffix], parameters={"language": language})
    event.add(
        "description",
        words["calendar_note" + suffix].format(**placeholders(settings, language)),
        parameters={"language": language},
    )
    calendar.add_component(event)
    return calendar.to_ical()


def parse_window(query: dict):
    """The start and end dates of a /calendar.ics request, or None when unusable."""
    try:
        start = date.fromisoformat(query["start"][0])
        end = date.fromisoformat(query["end"][0])
    except (KeyError, IndexError, ValueError):
        return None
    if end < start or (end - start).days > MAX_WINDOW_DAYS:
        return None
    today = date.fromisoformat(os.environ["HSG_TODAY"]) if os.environ.get("HSG_TODAY") else date.today()
    if not today - timedelta(days=MAX_YEARS_AWAY * 366) <= start <= today + timedelta(days=MAX_YEARS_AWAY * 366):
        return None  # no patient's window is years away (and 9999-12-31 would overflow)
    return start, end


def parse_language(query: dict) -> Optional[str]:
    """The `lang` of a request ("en" when there is none), or None when the chat does not speak it."""
    values = query.get("lang") or ["en"]
    return values[0] if len(values) == 1 and values[0] in languages() else None


class Handler(SimpleHTTPRequestHandler):
    """Static files from web/static; widget.js, /widget-text.json and the diagram with the
    words of content/widget_text.yml put in; /calendar.ics."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(STATIC), **kwargs)

    def log_message(self, format: str, *args) -> None:
        logging.debug(format, *args)

    def send_body(self, body: bytes, content_type: str, extra_headers: dict = None, etag: bool = False) -> None:
        """A 200 response with the given body (or a 304 when the browser's copy, named by its
        ETag, is still the same)."""
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"' if etag else None
        if tag and tag in self.headers.get("If-None-Match", ""):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", tag)
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        if tag:
            self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/calendar.ics":
            query = parse_qs(url.query, keep_blank_values=True)  # "lang=" is a bad language, not none
            window, language = parse_window(query), parse_language(query)
            if window is None:
                self.send_error(HTTPStatus.BAD_REQUEST, "start and end must be ISO dates, at most a month apart")
                return
            if language is None:
                self.send_error(HTTPStatus.BAD_REQUEST, "lang must be one of: " + ", ".join(languages()))
                return
            name = re.sub(r"[^A-Za-z0-9._-]", "", str(widget_text()[language]["calendar"]["file_name"])) or "hsg.ics"
            self.send_body(
                window_calendar(*window, clinic_settings(), language),
                "text/calendar; charset=utf-8",
                {"Content-Disposition": f'attachment; filename="{name}"'},
            )
            return
        if url.path == "/widget.js":
            self.send_body(widget_script(widget_text()), "text/javascript; charset=utf-8", etag=True)
            return
        if url.path == "/widget-text.json":
            body = json.dumps(widget_text(), ensure_ascii=False, indent=1).encode()
            self.send_body(body, "application/json; charset=utf-8", etag=True)
            return
        if url.path == "/hsg-diagram.svg":
            language = parse_language(parse_qs(url.query, keep_blank_values=True))
            if language is None:
                self.send_error(HTTPStatus.BAD_REQUEST, "lang must be one of: " + ", ".join(languages()))
                return
            self.send_body(diagram(language, widget_text()), "image/svg+xml", etag=True)
            return
        if url.path in ("/", "/index.html"):
            # the demo page, pointed at this run's Rasa server
            bot_url = os.environ.get("HSG_BOT_URL", "http://localhost:5005")
            page = (STATIC / "index.html").read_text(encoding="utf-8").replace("__BOT_URL__", bot_url)
            self.send_body(page.encode(), "text/html; charset=utf-8")
            return
        if url.path == "/health":
            self.send_body(b'{"status": "ok"}', "application/json")
            return
        super().do_GET()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    logging.info("Web chat demo on port %s", args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
