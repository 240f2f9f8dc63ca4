"""Serves the chat widget, the demo clinic page, and calendar (.ics) downloads.

Started by scripts/run.sh beside Rasa. Standard library HTTP server plus the
icalendar package for the .ics files; no patient data is stored or logged.
"""
from __future__ import annotations

import argparse
import logging
import mimetypes
import os
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from icalendar import Calendar, Event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.settings import load_settings, placeholders  # noqa: E402
STATIC = Path(__file__).resolve().parent / "static"
mimetypes.add_type("image/svg+xml", ".svg")
MAX_WINDOW_DAYS = 31
MAX_YEARS_AWAY = 2


def clinic_settings() -> dict:
    """clinic.yml as every process reads it (checked by common/settings.py)."""
    return load_settings()


def window_calendar(start: date, end: date, settings: dict) -> bytes:
    """An all-day event for the exam window, made with the icalendar library."""
    calendar = Calendar()
    calendar.add("prodid", "-//HSG patient-education assistant//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{uuid.uuid4()}@hsg-assistant")
    event.add("dtstamp", datetime.now(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", end + timedelta(days=1))  # all-day events end the day after
    words = settings["web"]  # the event's title and note are clinic content, in clinic.yml
    event.add("summary", words["calendar_title"])
    event.add("description", words["calendar_note"].format(**placeholders(settings)))
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


class Handler(SimpleHTTPRequestHandler):
    """Static files from web/static, plus /calendar.ics."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(STATIC), **kwargs)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - no request lines (they hold dates)
        logging.debug(format, *args)

    def send_body(self, body: bytes, content_type: str, extra_headers: dict = None) -> None:
        """A 200 response with the given body."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        if url.path == "/calendar.ics":
            window = parse_window(parse_qs(url.query))
            if window is None:
                self.send_error(HTTPStatus.BAD_REQUEST, "start and end must be ISO dates, at most a month apart")
                return
            self.send_body(window_calendar(*window, clinic_settings()), "text/calendar; charset=utf-8",
                           {"Content-Disposition": 'attachment; filename="hsg-window.ics"'})
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
