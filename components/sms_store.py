"""What the SMS channel must remember across restarts, in one SQLite file:
opted-out numbers, MessageSids already answered (and those being answered right
now), and the numbered choices last offered. Numbers are stored only as keyed
hashes (no Rasa imports).

A MessageSid is recorded as answered only once its reply is made: `claim` marks it
as being answered, `answered` records it after a successful reply and `release`
forgets the claim after a failure, so Twilio's retry of a failed message is
answered, and a retry of an answered one is not answered twice. A claim left by a
server that died while answering expires after CLAIM_SECONDS.

`purge` applies the conversations' retention rule (scripts/purge.py) to the answered
MessageSids and the saved choices. Opt-outs are kept until the number opts back in.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = "var/sms.sqlite3"
CLAIM_SECONDS = 120.0  # longer than Twilio waits for a reply (15 s) and than a slow answer


def number_key(secret: str, number: str) -> str:
    """The conversation key for a phone number: a keyed hash, never the number."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return "sms-" + hmac.new(secret.encode(), digits.encode(), hashlib.sha256).hexdigest()[:40]


def store_path(configured: Optional[str] = None) -> Path:
    """The SMS store's file: HSG_SMS_DB, else the channel's `store` setting, else
    var/sms.sqlite3; relative paths are relative to the project."""
    path = Path(os.environ.get("HSG_SMS_DB") or configured or DEFAULT_PATH)
    return path if path.is_absolute() else ROOT / path


class SmsStore:
    """Opt-outs, answered MessageSids and last choices, kept in SQLite."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS opt_out (key TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS answered (sid TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS pending (sid TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS choices (key TEXT PRIMARY KEY, payloads TEXT, at REAL)")
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(choices)")]
            if "at" not in columns:  # a store from before choices had a time: they count from now
                try:
                    self._db.execute("ALTER TABLE choices ADD COLUMN at REAL")
                except sqlite3.OperationalError:  # another server added it first
                    pass
                self._db.execute("UPDATE choices SET at = ? WHERE at IS NULL", (time.time(),))

    def _run(self, sql: str, args: tuple = ()):
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _transaction(self, statements: List[tuple]) -> list:
        """Runs (sql, args) pairs in one write transaction (atomic across processes);
        returns the rows of each SELECT and the row count of each other statement."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                results = []
                for sql, args in statements:
                    cursor = self._db.execute(sql, args)
                    results.append(cursor.fetchall() if sql.lstrip().upper().startswith("SELECT") else cursor.rowcount)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return results

    def claim(self, sid: str) -> str:
        """'claimed' when this delivery of the message is to be answered now;
        'answered' when it was answered before; 'busy' while another delivery of it
        is being answered."""
        now = time.time()
        answered, _, inserted = self._transaction([
            ("SELECT 1 FROM answered WHERE sid = ?", (sid,)),
            ("DELETE FROM pending WHERE sid = ? AND at < ?", (sid, now - CLAIM_SECONDS)),
            ("INSERT OR IGNORE INTO pending SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM answered WHERE sid = ?)",
             (sid, now, sid)),
        ])
        if answered:
            return "answered"
        return "claimed" if inserted == 1 else "busy"

    def answered(self, sid: str) -> None:
        """Records a claimed message as answered (its reply is made)."""
        self._transaction([("INSERT OR IGNORE INTO answered VALUES (?, ?)", (sid, time.time())),
                           ("DELETE FROM pending WHERE sid = ?", (sid,))])

    def release(self, sid: str) -> None:
        """Forgets a claim after a failure, so a retry of the message is answered."""
        self._run("DELETE FROM pending WHERE sid = ?", (sid,))

    def is_answered(self, sid: str) -> bool:
        return bool(self._run("SELECT 1 FROM answered WHERE sid = ?", (sid,)))

    def opt_out(self, key: str) -> None:
        self._run("INSERT OR REPLACE INTO opt_out VALUES (?, ?)", (key, time.time()))

    def opt_in(self, key: str) -> None:
        self._run("DELETE FROM opt_out WHERE key = ?", (key,))

    def is_opted_out(self, key: str) -> bool:
        return bool(self._run("SELECT 1 FROM opt_out WHERE key = ?", (key,)))

    def set_choices(self, key: str, payloads: List[dict]) -> None:
        self._run("INSERT OR REPLACE INTO choices (key, payloads, at) VALUES (?, ?, ?)",
                  (key, json.dumps(payloads), time.time()))

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

    def purge(self, before: float) -> Dict[str, int]:
        """Deletes answered MessageSids, claims and saved choices older than `before`
        (a Unix time); returns how many rows of each went. Opt-outs are kept."""
        answered, choices, pending = self._transaction([
            ("DELETE FROM answered WHERE at < ?", (before,)),
            ("DELETE FROM choices WHERE at < ?", (before,)),
            ("DELETE FROM pending WHERE at < ?", (min(before, time.time() - CLAIM_SECONDS),)),
        ])
        return {"answered": answered, "choices": choices, "pending": pending}

    def close(self) -> None:
        with self._lock:
            self._db.close()
