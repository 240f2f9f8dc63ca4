"""A local stand-in for the part of Twilio's REST API the project uses, for tests
without the internet (common/outbound.py reaches it with TWILIO_API_BASE).

    .venv/bin/python scripts/twilio_mock.py --port 5099 --account-sid ACtest --auth-token secret

Twilio's side:
    POST /2010-04-01/Accounts/{AccountSid}/Messages.json   form To, From (or
        MessagingServiceSid), Body, StatusCallback; HTTP basic auth (the account SID and
        its auth token) checked as Twilio does: 401 and error 20003 otherwise. Answers 201
        with the message as Twilio's JSON (sid "SM...", status "queued"...), or 400 with
        Twilio's error codes (21211 bad To, 21602 no Body, 21603 no From).
The tests' side (no auth: bind it to 127.0.0.1):
    GET  /_messages                 every message accepted, oldest first
    POST /_fail   {"count": 2, "status": 500, "code": 20500}   the next `count` messages fail
    POST /_status {"sid": "SM...", "status": "delivered", "error_code": null}
                                    calls the message's StatusCallback, signed with the
                                    auth token as Twilio signs it; answers with its status
    POST /_reset                    forgets messages and queued failures
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

import requests
from twilio.request_validator import RequestValidator

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class MockTwilio:
    """What the mock remembers: the account, the messages, the failures it was told to give."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: List[Dict[str, Any]] = []
        self.failures: List[Tuple[int, int]] = []  # (HTTP status, Twilio error code), next first
        self.lock = threading.Lock()

    def authorised(self, header: Optional[str], path_sid: str) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (
            scheme.lower() == "basic"
            and secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and path_sid == self.account_sid
        )

    def create(self, form: Dict[str, str]) -> Tuple[int, Dict[str, Any]]:
        """(HTTP status, JSON) of a Messages.json POST that passed authentication."""
        with self.lock:
            if self.failures:
                status, code = self.failures.pop(0)
                return status, error(status, code, "Service unavailable (told to fail)")
        to = form.get("To", "")
        if not E164.match(to):
            return 400, error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not form.get("Body"):
            return 400, error(400, 21602, "Message body is required.")
        message = self.message_json(form)
        with self.lock:
            self.messages.append(dict(message, status_callback=form.get("StatusCallback")))
        return 201, message

    def message_json(self, form: Dict[str, str]) -> Dict[str, Any]:
        """A message as Twilio's API answers it."""
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(timezone.utc))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form["To"],
            "uri": uri,
        }

    def callback(self, sid: str, status: str, error_code: Optional[str]) -> int:
        """Calls the StatusCallback of message `sid` as Twilio would; its HTTP status."""
        with self.lock:
            found = [m for m in self.messages if m["sid"] == sid]
        if not found or not found[0].get("status_callback"):
            return 404
        message = found[0]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if error_code:
            form["ErrorCode"] = str(error_code)
        url = message["status_callback"]
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        with self.lock:
            message["status"] = status
        return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30).status_code


def error(status: int, code: int, message: str) -> Dict[str, Any]:
    """Twilio's error JSON."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class Handler(BaseHTTPRequestHandler):
    mock: MockTwilio  # set by `serve`

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read /_messages

    def reply(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/_messages":
            with self.mock.lock:
                return self.reply(200, {"messages": list(self.mock.messages)})
        self.reply(404, error(404, 20404, "The requested resource was not found"))

    def do_POST(self) -> None:
        raw = self.read()
        found = MESSAGES_PATH.match(self.path.split("?")[0])
        if found:
            if not self.mock.authorised(self.headers.get("Authorization"), found.group("sid")):
                return self.reply(401, error(401, 20003, "Authenticate"))
            form = {name: values[0] for name, values in parse_qs(raw.decode("utf-8")).items()}
            return self.reply(*self.mock.create(form))
        self.control(self.path, json.loads(raw or b"{}"))

    def control(self, path: str, data: Dict[str, Any]) -> None:
        """The tests' side: /_fail, /_status, /_reset."""
        if path == "/_fail":
            with self.mock.lock:
                failure = (int(data.get("status", 500)), int(data.get("code", 20500)))
                self.mock.failures.extend([failure] * int(data.get("count", 1)))
            return self.reply(200, {"queued_failures": len(self.mock.failures)})
        if path == "/_status":
            status = self.mock.callback(str(data.get("sid")), str(data.get("status")), data.get("error_code"))
            return self.reply(200, {"callback_status": status})
        if path == "/_reset":
            with self.mock.lock:
                self.mock.messages.clear()
                self.mock.failures.clear()
            return self.reply(200, {})
        self.reply(404, error(404, 20404, "The requested resource was not found"))


def serve(port: int, account_sid: str, auth_token: str, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The mock, listening (not yet serving: call serve_forever, e.g. on a thread)."""
    handler = type("MockHandler", (Handler,), {"mock": MockTwilio(account_sid, auth_token)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--account-sid", default="ACtest")
    parser.add_argument("--auth-token", required=True)
    args = parser.parse_args()
    server = serve(args.port, args.account_sid, args.auth_token)
    print(f"Twilio mock on http://127.0.0.1:{args.port} (TWILIO_API_BASE)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
