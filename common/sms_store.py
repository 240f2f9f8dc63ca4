"""What the SMS channel must remember across restarts, in one SQLite file:
opted-out numbers, MessageSids already answered (and those being answered right
now), the numbered choices last offered, and the delivery status of the texts the
project sent itself (common/outbound.py; Twilio's status callback records delivered or
failed). Numbers are stored only as keyed
hashes (no Rasa imports). In the production profile (HSG_STORE=postgresql) the same
lives in PostgreSQL (`PgSmsStore`, tables hsg_sms_*; common/pg.py), so a STOP sent to
one host holds on every host; `open_sms_store` picks the store. The first time it is
used, PgSmsStore copies the opt-outs of the SQLite file the channel used before (if
there is one), so nobody who opted out is texted again after the switch.

A MessageSid is recorded as answered only once its reply is made: `claim` marks it
as being answered, `answered` records it after a successful reply and `release`
forgets the claim after a failure, so Twilio's retry of a failed message is
answered, and a retry of an answered one is not answered twice. A claim left by a
server that died while answering expires after CLAIM_SECONDS.

The numbered choices carry the time of the turn that offered them, and a list never
replaces a newer one: two quick texts from one number answered by two servers cannot
leave the first text's choices in place of the second's.

Every call blocks (SQLite or psycopg2): the SMS channel makes them on its own worker
threads, never on Rasa's event loop (components/twilio_sms.py). The content service
(editor/, the staff's first text) reads the opt-outs too, so the store lives in common/.

`purge` applies the conversations' retention rule (scripts/purge.py) to the answered
MessageSids, the saved choices and the sent texts' statuses. Opt-outs are kept until
the number opts back in.
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
from typing import Any, Dict, List, Optional

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


# A reply of one of these words picks the numbered choice whose title starts with it
# ("Yes, that's it" of "Is your question about ...?"; "Sí, eso es"), when one does.
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "yes please", "si", "sí", "sip"}
YES_TITLES = {"yes", "si", "sí"}

# Twilio's MessageStatus values of an outbound text, in the order they can happen; a
# callback that arrives late ("sent" after "delivered") never replaces a later status.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
}
FINAL_STATUSES = ("delivered", "undelivered", "failed", "canceled")


def _not_later(status: str) -> List[str]:
    """The statuses a callback saying `status` may replace."""
    rank = STATUS_RANK.get(status, 0)
    return [name for name, value in STATUS_RANK.items() if value <= rank]


class BaseSmsStore:
    """What both stores answer; `pick` reads the saved choices through `choices`."""

    def claim(self, sid: str) -> str:
        raise NotImplementedError

    def answered(self, sid: str) -> None:
        raise NotImplementedError

    def release(self, sid: str) -> None:
        raise NotImplementedError

    def is_answered(self, sid: str) -> bool:
        raise NotImplementedError

    def opt_out(self, key: str) -> None:
        raise NotImplementedError

    def opt_in(self, key: str) -> None:
        raise NotImplementedError

    def is_opted_out(self, key: str) -> bool:
        raise NotImplementedError

    def set_choices(self, key: str, payloads: List[dict], at: Optional[float] = None) -> None:
        """Saves the choices offered at `at` (default now), unless newer ones are saved."""
        raise NotImplementedError

    def choices(self, key: str) -> List[dict]:
        raise NotImplementedError

    def record_sent(self, sid: str, kind: str, status: str = "queued") -> None:
        """Records a text the project sent (`kind`: first_text, reminder...), by its MessageSid."""
        raise NotImplementedError

    def record_status(self, sid: str, status: str, error_code: Optional[str] = None) -> None:
        """Records a status callback's MessageStatus for a sent text (a later status is
        never replaced by an earlier one; a callback may come before `record_sent`)."""
        raise NotImplementedError

    def sent_status(self, sid: str) -> Optional[Dict[str, Any]]:
        """{"kind", "status", "error_code", "at"} of a sent text, or None."""
        raise NotImplementedError

    def status_counts(self, kind: Optional[str] = None, since: float = 0.0) -> Dict[str, int]:
        """How many texts (of `kind`, sent since `since`) are in each status."""
        raise NotImplementedError

    def purge(self, before: float) -> Dict[str, int]:
        raise NotImplementedError

    def where(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def pick(self, key: str, reply: str) -> Optional[str]:
        """The payload of the choice a reply names, by number ("1") or by its words, or, for a
        reply that is only a yes, of the one choice whose title starts with yes ("Is your
        question about ...? Reply 1 for Yes, that's it, 2 for Something else." answered "yes")."""
        wanted = reply.strip().rstrip(".").lower()
        choices = self.choices(key)
        for number, choice in enumerate(choices, start=1):
            if (
                wanted == str(number)
                or wanted == choice["title"].strip().rstrip("?.").lower()
                or wanted == choice["title"].strip().lower()
            ):
                return choice["payload"]
        if wanted.strip("!") not in YES_WORDS:
            return None
        found = [
            c["payload"] for c in choices if (c["title"].lower().replace(",", " ").split() or [""])[0] in YES_TITLES
        ]
        return found[0] if len(found) == 1 else None


class SmsStore(BaseSmsStore):
    """Opt-outs, answered MessageSids and last choices, kept in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS opt_out (key TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS answered (sid TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS pending (sid TEXT PRIMARY KEY, at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS choices (key TEXT PRIMARY KEY, payloads TEXT, at REAL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sent (sid TEXT PRIMARY KEY, kind TEXT, status TEXT, "
                "error_code TEXT, at REAL, updated REAL)"
            )
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
        answered, _, inserted = self._transaction(
            [
                ("SELECT 1 FROM answered WHERE sid = ?", (sid,)),
                ("DELETE FROM pending WHERE sid = ? AND at < ?", (sid, now - CLAIM_SECONDS)),
                (
                    "INSERT OR IGNORE INTO pending SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM answered WHERE sid = ?)",
                    (sid, now, sid),
                ),
            ]
        )
        if answered:
            return "answered"
        return "claimed" if inserted == 1 else "busy"

    def answered(self, sid: str) -> None:
        """Records a claimed message as answered (its reply is made)."""
        self._transaction(
            [
                ("INSERT OR IGNORE INTO answered VALUES (?, ?)", (sid, time.time())),
                ("DELETE FROM pending WHERE sid = ?", (sid,)),
            ]
        )

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

    def set_choices(self, key: str, payloads: List[dict], at: Optional[float] = None) -> None:
        self._run(
            "INSERT INTO choices (key, payloads, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
            "SET payloads = excluded.payloads, at = excluded.at WHERE choices.at IS NULL OR choices.at <= excluded.at",
            (key, json.dumps(payloads), time.time() if at is None else at),
        )

    def choices(self, key: str) -> List[dict]:
        rows = self._run("SELECT payloads FROM choices WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else []

    def record_sent(self, sid: str, kind: str, status: str = "queued") -> None:
        now = time.time()
        self._run(
            "INSERT INTO sent (sid, kind, status, at, updated) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sid) "
            "DO UPDATE SET kind = excluded.kind",  # a callback may have come first
            (sid, kind, status, now, now),
        )

    def record_status(self, sid: str, status: str, error_code: Optional[str] = None) -> None:
        now, earlier = time.time(), _not_later(status)
        self._run(
            "INSERT INTO sent (sid, status, error_code, at, updated) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sid) "
            "DO UPDATE SET status = excluded.status, error_code = excluded.error_code, updated = excluded.updated "
            f"WHERE sent.status IS NULL OR sent.status IN ({', '.join('?' * len(earlier))})",
            (sid, status, error_code, now, now, *earlier),
        )

    def sent_status(self, sid: str) -> Optional[Dict[str, Any]]:
        rows = self._run("SELECT kind, status, error_code, at FROM sent WHERE sid = ?", (sid,))
        return dict(zip(("kind", "status", "error_code", "at"), rows[0])) if rows else None

    def status_counts(self, kind: Optional[str] = None, since: float = 0.0) -> Dict[str, int]:
        rows = self._run(
            "SELECT status, COUNT(*) FROM sent WHERE at >= ? AND (? IS NULL OR kind = ?) GROUP BY status",
            (since, kind, kind),
        )
        return {status: count for status, count in rows}

    def purge(self, before: float) -> Dict[str, int]:
        """Deletes answered MessageSids, claims and saved choices older than `before`
        (a Unix time); returns how many rows of each went. Opt-outs are kept."""
        answered, choices, pending, sent = self._transaction(
            [
                ("DELETE FROM answered WHERE at < ?", (before,)),
                ("DELETE FROM choices WHERE at < ?", (before,)),
                ("DELETE FROM pending WHERE at < ?", (min(before, time.time() - CLAIM_SECONDS),)),
                ("DELETE FROM sent WHERE at < ?", (before,)),
            ]
        )
        return {"answered": answered, "choices": choices, "pending": pending, "sent": sent}

    def where(self) -> str:
        return str(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PgSmsStore(BaseSmsStore):
    """The same store in PostgreSQL (every host of the production profile shares it).
    A claim and its answer are serialised per MessageSid with an advisory lock, as the
    SQLite store does with BEGIN IMMEDIATE."""

    def __init__(self, engine=None, legacy_path: Optional[Path] = None) -> None:
        from common import pg

        self.pg = pg
        self._engine = engine
        self.legacy_path = Path(legacy_path) if legacy_path is not None else None
        self._prepare_lock = threading.Lock()
        self._ready = False

    @property
    def engine(self):
        """Connected at first use, so that Rasa starts even while PostgreSQL is away."""
        if self._engine is None:
            self._engine = self.pg.engine()
        return self._engine

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._prepare_lock:
            if not self._ready:
                if self.legacy_path is not None and self.legacy_path.exists():
                    self.import_opt_outs(self.legacy_path)
                self._ready = True

    def import_opt_outs(self, path: Path) -> int:
        """Copies the opt-outs of an SQLite store, once per file; returns how many."""
        import sqlalchemy as sa

        with self.engine.begin() as connection:
            self.pg.lock(connection, self.pg.IMPORT_LOCK)
            if self.pg.imported_once(connection, "sms-opt-outs:" + str(Path(path).resolve())):
                return 0
            old = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                rows = old.execute("SELECT key, at FROM opt_out").fetchall()
            except sqlite3.Error:
                rows = []
            finally:
                old.close()
            for key, at in rows:
                connection.execute(
                    sa.text("INSERT INTO hsg_sms_opt_out (key, at) VALUES (:k, :at) ON CONFLICT (key) DO NOTHING"),
                    {"k": key, "at": at},
                )
            return len(rows)

    def _sql(self, statements: List[tuple], lock_sid: Optional[str] = None) -> list:
        """Runs (sql, params) pairs in one transaction; the rows of each SELECT and the
        row count of each other statement."""
        import sqlalchemy as sa

        self._prepare()
        with self.engine.begin() as connection:
            if lock_sid is not None:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:c, hashtext(:sid))"),
                    {"c": self.pg.SMS_LOCK_CLASS, "sid": lock_sid},
                )
            results = []
            for sql, params in statements:
                result = connection.execute(sa.text(sql), params)
                results.append(result.fetchall() if result.returns_rows else result.rowcount)
            return results

    def claim(self, sid: str) -> str:
        now = time.time()
        answered, _, inserted = self._sql(
            [
                ("SELECT 1 FROM hsg_sms_answered WHERE sid = :sid", {"sid": sid}),
                (
                    "DELETE FROM hsg_sms_pending WHERE sid = :sid AND at < :stale",
                    {"sid": sid, "stale": now - CLAIM_SECONDS},
                ),
                (
                    "INSERT INTO hsg_sms_pending (sid, at) SELECT :sid, :now WHERE NOT EXISTS "
                    "(SELECT 1 FROM hsg_sms_answered WHERE sid = :sid) ON CONFLICT (sid) DO NOTHING",
                    {"sid": sid, "now": now},
                ),
            ],
            lock_sid=sid,
        )
        if answered:
            return "answered"
        return "claimed" if inserted == 1 else "busy"

    def answered(self, sid: str) -> None:
        self._sql(
            [
                (
                    "INSERT INTO hsg_sms_answered (sid, at) VALUES (:sid, :now) ON CONFLICT (sid) DO NOTHING",
                    {"sid": sid, "now": time.time()},
                ),
                ("DELETE FROM hsg_sms_pending WHERE sid = :sid", {"sid": sid}),
            ],
            lock_sid=sid,
        )

    def release(self, sid: str) -> None:
        self._sql([("DELETE FROM hsg_sms_pending WHERE sid = :sid", {"sid": sid})])

    def is_answered(self, sid: str) -> bool:
        return bool(self._sql([("SELECT 1 FROM hsg_sms_answered WHERE sid = :sid", {"sid": sid})])[0])

    def opt_out(self, key: str) -> None:
        self._sql(
            [
                (
                    "INSERT INTO hsg_sms_opt_out (key, at) VALUES (:k, :now) "
                    "ON CONFLICT (key) DO UPDATE SET at = excluded.at",
                    {"k": key, "now": time.time()},
                )
            ]
        )

    def opt_in(self, key: str) -> None:
        self._sql([("DELETE FROM hsg_sms_opt_out WHERE key = :k", {"k": key})])

    def is_opted_out(self, key: str) -> bool:
        return bool(self._sql([("SELECT 1 FROM hsg_sms_opt_out WHERE key = :k", {"k": key})])[0])

    def set_choices(self, key: str, payloads: List[dict], at: Optional[float] = None) -> None:
        self._sql(
            [
                (
                    "INSERT INTO hsg_sms_choices (key, payloads, at) VALUES (:k, :p, :at) ON CONFLICT (key) "
                    "DO UPDATE SET payloads = excluded.payloads, at = excluded.at "
                    "WHERE hsg_sms_choices.at IS NULL OR hsg_sms_choices.at <= excluded.at",
                    {"k": key, "p": json.dumps(payloads), "at": time.time() if at is None else at},
                )
            ]
        )

    def choices(self, key: str) -> List[dict]:
        rows = self._sql([("SELECT payloads FROM hsg_sms_choices WHERE key = :k", {"k": key})])[0]
        return json.loads(rows[0][0]) if rows else []

    def record_sent(self, sid: str, kind: str, status: str = "queued") -> None:
        now = time.time()
        self._sql(
            [
                (
                    "INSERT INTO hsg_sms_sent (sid, kind, status, at, updated) "
                    "VALUES (:sid, :kind, :status, :now, :now) "
                    "ON CONFLICT (sid) DO UPDATE SET kind = excluded.kind",
                    {"sid": sid, "kind": kind, "status": status, "now": now},
                )
            ],
            lock_sid=sid,
        )

    def record_status(self, sid: str, status: str, error_code: Optional[str] = None) -> None:
        now = time.time()
        self._sql(
            [
                (
                    "INSERT INTO hsg_sms_sent (sid, status, error_code, at, updated) "
                    "VALUES (:sid, :status, :code, :now, :now) ON CONFLICT (sid) DO UPDATE SET "
                    "status = excluded.status, error_code = excluded.error_code, updated = excluded.updated "
                    "WHERE hsg_sms_sent.status IS NULL OR hsg_sms_sent.status = ANY(:earlier)",
                    {"sid": sid, "status": status, "code": error_code, "now": now, "earlier": _not_later(status)},
                )
            ],
            lock_sid=sid,
        )

    def sent_status(self, sid: str) -> Optional[Dict[str, Any]]:
        rows = self._sql([("SELECT kind, status, error_code, at FROM hsg_sms_sent WHERE sid = :sid", {"sid": sid})])[0]
        return dict(zip(("kind", "status", "error_code", "at"), rows[0])) if rows else None

    def status_counts(self, kind: Optional[str] = None, since: float = 0.0) -> Dict[str, int]:
        rows = self._sql(
            [
                (
                    "SELECT status, COUNT(*) FROM hsg_sms_sent WHERE at >= :since "
                    "AND (CAST(:kind AS TEXT) IS NULL OR kind = :kind) GROUP BY status",
                    {"since": since, "kind": kind},
                )
            ]
        )[0]
        return {status: count for status, count in rows}

    def purge(self, before: float) -> Dict[str, int]:
        answered, choices, pending, sent = self._sql(
            [
                ("DELETE FROM hsg_sms_answered WHERE at < :before", {"before": before}),
                ("DELETE FROM hsg_sms_choices WHERE at < :before", {"before": before}),
                (
                    "DELETE FROM hsg_sms_pending WHERE at < :before",
                    {"before": min(before, time.time() - CLAIM_SECONDS)},
                ),
                ("DELETE FROM hsg_sms_sent WHERE at < :before", {"before": before}),
            ]
        )
        return {"answered": answered, "choices": choices, "pending": pending, "sent": sent}

    def where(self) -> str:
        return "PostgreSQL " + self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        pass  # the engine is shared by the process


def open_sms_store(path: Optional[Path] = None) -> BaseSmsStore:
    """PostgreSQL with HSG_STORE=postgresql (the production profile; the SQLite file at
    `path`, if any, gives its opt-outs once), else the SQLite file at `path` (default
    `store_path()`)."""
    from common import pg

    path = Path(path) if path is not None else store_path()
    if not path.is_absolute():
        path = ROOT / path
    if pg.enabled():
        return PgSmsStore(legacy_path=path)
    return SmsStore(path)
