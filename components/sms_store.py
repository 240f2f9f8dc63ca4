"""What the SMS channel must remember across restarts, in one SQLite file:
opted-out numbers, MessageSids already answered, and the numbered choices last
offered. Numbers are stored only as keyed hashes (no Rasa imports)."""
from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import List, Optional


def number_key(secret: str, number: str) -> str:
    """The conversation key for a phone number: a keyed hash, never the number."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return "sms-" + hmac.new(secret.encode(), digits.encode(), hashlib.sha256).hexdigest()[:40]


class SmsStore:
    """Opt-outs, answered MessageSids and last choices, kept in SQLite."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS opt_out (key TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS answered (sid TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS choices (key TEXT PRIMARY KEY, payloads TEXT)")

    def _run(self, sql: str, args: tuple = ()):
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def first_delivery(self, sid: str) -> bool:
        """True the first time a MessageSid is seen (and remembers it)."""
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO answered VALUES (?, ?)", (sid, time.time()))
            return cursor.rowcount == 1

    def opt_out(self, key: str) -> None:
        self._run("INSERT OR REPLACE INTO opt_out VALUES (?, ?)", (key, time.time()))

    def opt_in(self, key: str) -> None:
        self._run("DELETE FROM opt_out WHERE key = ?", (key,))

    def is_opted_out(self, key: str) -> bool:
        return bool(self._run("SELECT 1 FROM opt_out WHERE key = ?", (key,)))

    def set_choices(self, key: str, payloads: List[dict]) -> None:
        self._run("INSERT OR REPLACE INTO choices VALUES (?, ?)", (key, json.dumps(payloads)))

    def choices(self, key: str) -> List[dict]:
        rows = self._run("SELECT payloads FROM choices WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else []

    def pick(self, key: str, reply: str) -> Optional[str]:
        """The payload of the choice a reply names, by number ("1") or by its words."""
        wanted = reply.strip().rstrip(".").lower()
        for number, choice in enumerate(self.choices(key), start=1):
            if wanted == str(number) or wanted == choice["title"].strip().rstrip("?.").lower() \
                    or wanted == choice["title"].strip().lower():
                return choice["payload"]
        return None
