"""Text reminders: when they go, how the number is kept, and the queue (no Rasa imports).

A patient who got her best days (or her device check's due date) by SMS may reply
REMIND (components/twilio_sms.py). The reminder goes at `reminder_hour` (clinic time,
clinic.yml `time_zone`) on the first of her best days, or DEVICE_DAYS_BEFORE days before
the device check is due, never in `quiet_hours` (moved to their end).

The queue is a table in the SMS channel's database: the SQLite file of the SMS store
(HSG_SMS_DB, default var/sms.sqlite3) or, in the production profile, PostgreSQL
(hsg_sms_reminders, common/pg.py), next to the opt-outs. Each row is one reminder of one
conversation (`key`: the keyed hash of the number) and one kind (window or device):

    offered   the bot gave the date by SMS and offered a reminder (no number stored)
    pending   the patient replied REMIND: the number is stored, sealed, until it is sent
    sending   a worker claimed it and is sending it (a claim lasts LEASE_SECONDS)
    sent      Twilio took it (its MessageSid is kept; the SMS store's sent texts record
              what the status callback says of it); the number is wiped
    failed    not sent after the last retry, or refused for good
    cancelled CANCEL REMINDER (back to offered), STOP, or the date was withdrawn

A row is claimed by one worker at a time: on PostgreSQL with SELECT ... FOR UPDATE SKIP
LOCKED, on SQLite inside BEGIN IMMEDIATE (one writer at a time, across processes), and
the claim is committed before the text is sent. So with several servers (the production
profile's Rasa servers, or two machines on one PostgreSQL) each reminder is sent once, and
a restart loses nothing: the queue is in the database, not in memory. (A server that dies
after Twilio took a text but before it recorded it leaves the row claimed; another server
sends it again after LEASE_SECONDS: one text twice, rather than none, in that rare case.)

The phone number is stored only while a reminder waits to be sent, encrypted (Fernet,
from the cryptography library) with a key derived from HSG_SMS_HASH_KEY: a copy of the
database alone does not reveal it. Finished rows keep no number; `purge` (make purge)
deletes them after the conversations' retention days.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

WINDOW, DEVICE = "window", "device"
KINDS = (WINDOW, DEVICE)
DEVICE_DAYS_BEFORE = 7
OFFERED, PENDING, SENDING, SENT = "offered", "pending", "sending", "sent"
FAILED, CANCELLED = "failed", "cancelled"
LEASE_SECONDS = 600.0  # a claim older than this (its server died mid-send) may be taken again
PG_TABLE, SQLITE_TABLE = "hsg_sms_reminders", "reminders"


# --- when -------------------------------------------------------------------------------------
def _hour_minute(text: str) -> clock_time:
    hours, _, minutes = str(text).strip().partition(":")
    return clock_time(int(hours), int(minutes or 0))


@dataclass(frozen=True)
class ReminderPolicy:
    """clinic.yml's reminder settings (see the comments there)."""

    time_zone: str = "America/Denver"
    hour: int = 9
    quiet: Optional[Tuple[clock_time, clock_time]] = (clock_time(20), clock_time(8))
    retry_minutes: Tuple[int, ...] = (1, 5, 30)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ReminderPolicy:
        hour = settings.get("reminder_hour", 9)
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise ValueError(f"clinic setting reminder_hour must be an hour 0-23, got {hour!r}")
        quiet_text = settings.get("quiet_hours", "20:00-08:00")
        quiet = None
        if quiet_text:
            try:
                start, end = (_hour_minute(part) for part in str(quiet_text).split("-"))
            except ValueError:
                raise ValueError(f"clinic setting quiet_hours must look like 20:00-08:00, got {quiet_text!r}") from None
            quiet = (start, end) if start != end else None
        retries = settings.get("reminder_retry_minutes", [1, 5, 30]) or []
        if not all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in retries):
            raise ValueError(f"clinic setting reminder_retry_minutes must be whole minutes, got {retries!r}")
        ZoneInfo(settings.get("time_zone", "America/Denver"))  # a wrong zone fails here, at start
        return cls(settings.get("time_zone", "America/Denver"), hour, quiet, tuple(retries))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def in_quiet_hours(moment: datetime, policy: ReminderPolicy) -> bool:
    if policy.quiet is None:
        return False
    start, end = policy.quiet
    now = moment.astimezone(policy.zone).time()
    return start <= now < end if start < end else now >= start or now < end


def next_allowed(moment: datetime, policy: ReminderPolicy) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (clinic time)."""
    if policy.quiet is None or not in_quiet_hours(moment, policy):
        return moment
    local = moment.astimezone(policy.zone)
    end = datetime.combine(local.date(), policy.quiet[1], tzinfo=policy.zone)
    return end if end > local else datetime.combine(local.date() + timedelta(days=1), policy.quiet[1], policy.zone)


def send_time(kind: str, day: date, policy: ReminderPolicy) -> float:
    """When the reminder of a window starting on `day`, or of a device check due on `day`,
    is sent (a Unix time)."""
    target = day if kind == WINDOW else day - timedelta(days=DEVICE_DAYS_BEFORE)
    moment = datetime.combine(target, clock_time(policy.hour), tzinfo=policy.zone)
    return next_allowed(moment, policy).timestamp()


def retry_time(tries: int, now: float, policy: ReminderPolicy) -> Optional[float]:
    """When to try again after `tries` failed sends (a passing failure), or None: no more."""
    if tries > len(policy.retry_minutes):
        return None
    moment = datetime.fromtimestamp(now, policy.zone) + timedelta(minutes=policy.retry_minutes[tries - 1])
    return next_allowed(moment, policy).timestamp()


# --- the number ---------------------------------------------------------------------------------
def _fernet(secret: str) -> Any:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if not secret:
        raise ValueError("HSG_SMS_HASH_KEY is not set: it keys the sealing of stored numbers")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hsg-reminder-number").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, number: str) -> str:
    return _fernet(secret).encrypt(number.encode()).decode()


def unseal(secret: str, sealed: str) -> str:
    return _fernet(secret).decrypt(sealed.encode()).decode()


# --- the queue ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    day: str
    language: str
    number: str  # sealed
    tries: int  # with this one


SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reminders (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, "
    "kind TEXT NOT NULL, day TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL, send_at REAL NOT NULL, "
    "number TEXT, tries INTEGER NOT NULL DEFAULT 0, lease REAL, sid TEXT, created REAL NOT NULL, "
    "updated REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reminders_due ON reminders (status, send_at)",
    "CREATE INDEX IF NOT EXISTS reminders_key ON reminders (key)",
    "CREATE INDEX IF NOT EXISTS reminders_sid ON reminders (sid)",
)
Run = Callable[[str, Dict[str, Any]], Any]  # runs one statement: the rows of a SELECT, else the row count


class ReminderQueue:
    """The queue's operations, the same SQL on SQLite and PostgreSQL (named :parameters);
    the subclasses give a transaction (`_transaction`) and the claim's locking."""

    table = SQLITE_TABLE
    sent_table = "sent"  # the SMS store's texts sent and their delivery status (common/sms_store.py)
    skip_locked = ""

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        pass

    def _sql(self, sql: str) -> str:
        return sql.replace("{t}", self.table).replace("{s}", self.sent_table)

    def offer(self, key: str, kind: str, day: date, language: str, send_at: float, now: float) -> None:
        """Records the offer of a reminder for `day`; a reminder already asked for moves to
        the new date (a new date replaces it), and an older offer is replaced."""
        values = {"k": key, "kind": kind, "day": day.isoformat(), "lang": language, "at": send_at, "now": now}
        with self._transaction() as run:
            moved = run(
                self._sql(
                    "UPDATE {t} SET day = :day, send_at = :at, tries = 0, updated = :now "
                    "WHERE key = :k AND kind = :kind AND status = 'pending'"
                ),
                values,
            )
            run(self._sql("DELETE FROM {t} WHERE key = :k AND kind = :kind AND status = 'offered'"), values)
            if not moved:
                run(
                    self._sql(
                        "INSERT INTO {t} (key, kind, day, language, status, send_at, tries, created, updated) "
                        "VALUES (:k, :kind, :day, :lang, 'offered', :at, 0, :now, :now)"
                    ),
                    values,
                )

    def withdraw(self, key: str, kind: str, now: float) -> int:
        """The date is gone (a late period, no window this cycle): no reminder of that kind."""
        with self._transaction() as run:
            return run(
                self._sql(
                    "UPDATE {t} SET status = 'cancelled', number = NULL, updated = :now "
                    "WHERE key = :k AND kind = :kind AND status IN ('offered', 'pending')"
                ),
                {"k": key, "kind": kind, "now": now},
            )

    def activate(self, key: str, sealed_number: str, language: Optional[str], now: float) -> int:
        """REMIND: the offers still ahead become reminders; how many are waiting now."""
        values = {"k": key, "n": sealed_number, "lang": language, "now": now}
        with self._transaction() as run:
            run(
                self._sql(
                    "UPDATE {t} SET status = 'pending', number = :n, language = COALESCE(:lang, language), "
                    "updated = :now WHERE key = :k AND status IN ('offered', 'pending') AND send_at > :now"
                ),
                values,
            )
            return run(self._sql("SELECT COUNT(*) FROM {t} WHERE key = :k AND status = 'pending'"), values)[0][0]

    def cancel(self, key: str, now: float, stop: bool = False) -> int:
        """CANCEL REMINDER: waiting reminders go back to offers (REMIND sets them again);
        with `stop` (STOP), every reminder and offer of the number is cancelled."""
        sql = (
            "UPDATE {t} SET status = 'cancelled', number = NULL, updated = :now "
            "WHERE key = :k AND status IN ('offered', 'pending')"
            if stop
            else "UPDATE {t} SET status = 'offered', number = NULL, updated = :now "
            "WHERE key = :k AND status = 'pending'"
        )
        with self._transaction() as run:
            return run(self._sql(sql), {"k": key, "now": now})

    def claim(self, now: float) -> Optional[Claimed]:
        """One due reminder, marked as being sent by this worker (committed before sending)."""
        values = {"now": now, "lease": now + LEASE_SECONDS}
        with self._transaction() as run:
            rows = run(
                self._sql(
                    "SELECT id, key, kind, day, language, number, tries FROM {t} "
                    "WHERE (status = 'pending' AND send_at <= :now) OR (status = 'sending' AND lease < :now) "
                    "ORDER BY send_at LIMIT 1" + self.skip_locked
                ),
                values,
            )
            if not rows:
                return None
            row = rows[0]
            run(
                self._sql(
                    "UPDATE {t} SET status = 'sending', lease = :lease, tries = tries + 1, updated = :now "
                    "WHERE id = :id"
                ),
                dict(values, id=row[0]),
            )
            return Claimed(row[0], row[1], row[2], row[3], row[4], row[5] or "", row[6] + 1)

    def _finish(self, row_id: int, sets: str, values: Dict[str, Any]) -> int:
        with self._transaction() as run:
            return run(self._sql(f"UPDATE {{t}} SET {sets} WHERE id = :id AND status = 'sending'"), values)

    def sent(self, row_id: int, sid: str, now: float) -> int:
        return self._finish(
            row_id, "status = 'sent', sid = :sid, number = NULL, updated = :now", {"id": row_id, "sid": sid, "now": now}
        )

    def retry(self, row_id: int, at: float, now: float) -> int:
        return self._finish(
            row_id,
            "status = 'pending', send_at = :at, lease = NULL, updated = :now",
            {"id": row_id, "at": at, "now": now},
        )

    def give_up(self, row_id: int, status: str, now: float) -> int:
        """Failed for good (FAILED), or not to be sent (CANCELLED: the number opted out)."""
        return self._finish(
            row_id, "status = :s, number = NULL, updated = :now", {"id": row_id, "s": status, "now": now}
        )

    def counts(self, since: float = 0.0) -> Dict[str, int]:
        """For the editors' report: reminders sent (Twilio took them), delivered (Twilio's
        status callback, recorded in the SMS store's sent texts), failed (never sent after
        the retries, or reported failed or undelivered), and waiting; among those last
        changed since `since`."""
        with self._transaction() as run:
            rows = run(
                self._sql(
                    "SELECT r.status, r.sid IS NOT NULL, s.status, COUNT(*) FROM {t} r "
                    "LEFT JOIN {s} s ON s.sid = r.sid WHERE r.updated >= :since GROUP BY 1, 2, 3"
                ),
                {"since": since},
            )
        found = {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0}
        for status, has_sid, delivery, count in rows:
            found["sent"] += count if has_sid else 0
            if delivery == "delivered":
                found["delivered"] += count
            elif status == FAILED or delivery in ("failed", "undelivered"):
                found["failed"] += count
            elif status in (PENDING, SENDING):
                found["waiting"] += count
        return found

    def reminders(self, key: str) -> List[Dict[str, Any]]:
        """The rows of one conversation (without the number), oldest first: for tests and support."""
        with self._transaction() as run:
            rows = run(
                self._sql(
                    "SELECT id, kind, day, language, status, send_at, tries, sid FROM {t} WHERE key = :k ORDER BY id"
                ),
                {"k": key},
            )
        names = ("id", "kind", "day", "language", "status", "send_at", "tries", "sid")
        return [dict(zip(names, row)) for row in rows]

    def purge(self, before: float, now: float) -> int:
        """Deletes finished reminders last changed before `before`, and offers never taken up
        whose time has passed."""
        with self._transaction() as run:
            return run(
                self._sql(
                    "DELETE FROM {t} WHERE (status IN ('sent', 'delivered', 'failed', 'cancelled') "
                    "AND updated < :before) OR (status = 'offered' AND send_at < :now)"
                ),
                {"before": before, "now": now},
            )


class SqliteReminderQueue(ReminderQueue):
    """The queue in the SMS store's SQLite file."""

    def __init__(self, path: Path) -> None:
        from common.sms_store import SmsStore

        self.path = Path(path)
        SmsStore(self.path).close()  # the SMS store's tables (its sent texts, for `counts`) are there too
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            for statement in SQLITE_SCHEMA:
                self._db.execute(statement)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        def run(sql: str, values: Dict[str, Any]) -> Any:
            cursor = self._db.execute(sql, values)
            return cursor.fetchall() if sql.lstrip().upper().startswith("SELECT") else cursor.rowcount

        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
            try:
                yield run
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PgReminderQueue(ReminderQueue):
    """The queue in PostgreSQL (hsg_sms_reminders), shared by every server and host."""

    table = PG_TABLE
    sent_table = "hsg_sms_sent"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, engine: Any = None) -> None:
        self._engine = engine

    @property
    def engine(self) -> Any:
        if self._engine is None:  # connected at first use: Rasa starts while PostgreSQL is away
            from common import pg

            self._engine = pg.engine()
        return self._engine

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        import sqlalchemy as sa

        with self.engine.begin() as connection:

            def run(sql: str, values: Dict[str, Any]) -> Any:
                result = connection.execute(sa.text(sql), values)
                return result.fetchall() if result.returns_rows else result.rowcount

            yield run

    def close(self) -> None:
        pass  # the engine is shared by the process


def open_queue(sms_db: Path) -> ReminderQueue:
    """PostgreSQL with HSG_STORE=postgresql (the production profile), else the SQLite file
    of the SMS store (`sms_db`)."""
    from common import pg

    return PgReminderQueue() if pg.enabled() else SqliteReminderQueue(sms_db)


def reminder_counts(sms_db: Path, since: Optional[float] = None) -> Dict[str, int]:
    """Reminders sent, delivered, failed and waiting in the last 30 days (or since `since`),
    for the editors' report; from PostgreSQL in the production profile."""
    queue = open_queue(sms_db)
    try:
        return queue.counts(time.time() - 30 * 86400 if since is None else since)
    finally:
        queue.close()
