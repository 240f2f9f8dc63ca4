"""The content service's HTTP plumbing, shared by the bot's API (editor/bot_api.py) and
the staff web app (editor/staff_app.py): every response with the same security headers,
request bodies read within a limit, JSON in and out. Standard library only.

A handler class gets its `service` (editor/service.py `ContentService`) from
editor/service.py `make_handler`. Nothing here logs message text, passwords or cookies.

Behind a proxy, which proxies are believed and which client address they forwarded
follow the Rasa side's one rule (common/proxies.py: addresses or networks; the nearest
address in X-Forwarded-For that is not a trusted proxy), with the editor's own setting
HSG_EDITOR_TRUSTED_PROXIES (default 127.0.0.1 and ::1: nginx or a tunnel on this machine).
"""

from __future__ import annotations

import json
import logging
import os
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union
from urllib.parse import parse_qs, urlparse

from common.proxies import LOOPBACK, Network, client_address, is_trusted, trusted_networks

if TYPE_CHECKING:
    from editor.service import ContentService

logger = logging.getLogger("hsg.content")
Headers = Dict[str, Union[str, List[str]]]


class Plumbing(BaseHTTPRequestHandler):
    """Sending and reading: what every route of the content service uses."""

    service: ContentService  # set by make_handler
    server_version = "hsg-content"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive: the bot reuses its connection for every reply
    # Headers and body go out as two writes; with Nagle's algorithm the second waits
    # for the client's delayed ACK, about 40 ms per reply. Send at once instead.
    disable_nagle_algorithm = True

    @staticmethod
    def trusted_proxies() -> List[Network]:
        """HSG_EDITOR_TRUSTED_PROXIES: addresses or networks, comma- or space-separated."""
        return trusted_networks(os.environ.get("HSG_EDITOR_TRUSTED_PROXIES", LOOPBACK))

    def from_trusted_proxy(self) -> bool:
        return is_trusted(self.client_address[0], self.trusted_proxies())

    def client_ip(self) -> str:
        """The client's address: the peer, or what a trusted proxy forwarded."""
        return client_address(self.client_address[0], self.headers.get("X-Forwarded-For"), self.trusted_proxies())

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.command, urlparse(self.path).path)

    def send(self, status: int, body: bytes, content_type: str, headers: Optional[Headers] = None) -> None:
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

    def json(self, status: int, data: Any, headers: Optional[Headers] = None) -> None:
        self.send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def error(self, status: int, message: str) -> None:
        self.json(status, {"error": message})

    def redirect(self, location: str, headers: Optional[Headers] = None) -> None:
        self.send(HTTPStatus.SEE_OTHER, b"", "text/plain", dict(headers or {}, Location=location))

    def body(self, limit: int) -> Optional[bytes]:
        """The request body, or None when it was answered with an error (too large, or
        a bad Content-Length)."""
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

    def json_body(self, limit: int) -> Optional[Any]:
        """The parsed JSON body, or None when it was answered with an error."""
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
