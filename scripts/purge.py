"""`make purge`: deletes what is older than the retention setting, event by event.

Every stored event (message, reply, date given...) older than
`retention.conversation_days` in clinic.yml (default 30) is deleted, in a conversation
that has ended and in one still going on alike: a patient who writes every few weeks
keeps only the recent part of her conversation. A conversation with nothing newer than
the cutoff goes whole. In one still going on, what its current session needs stays
even when older (`kept_ids`): the session's start, the newest value of each slot
(the language, the dates being asked for) and the newest form state, so the bot goes on
exactly where it was. (A message being answered at the very moment of a purge, in a
session older than the cutoff, could have its session's events stored again: Rasa
counts a session's stored events to know which are new.)
The store is the embedded SQLite file (HSG_TRACKER_DB, default var/tracker.sqlite3),
or with `--prod` the PostgreSQL database of the production profile (HSG_PG_*).
The SMS channel's store (HSG_SMS_DB, default var/sms.sqlite3; with `--prod` its tables
in PostgreSQL) loses its answered MessageSids and saved numbered choices older than the
same number of days, and the text reminders' finished rows (common/reminders.py) changed
longer ago than that; opt-outs are kept. With `--prod`, the editors' report (its table
in PostgreSQL) loses its rows older than `report.retention_days`.
With `--prod` the settings are found as scripts/run.sh --prod finds them
(common/pg.py `load_prod_settings`), and nothing is written into the checkout.
`make run-prod` runs it every day (scripts/retention.sh).
Prints how many conversations, events and rows it deleted, never their contents.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.dont_write_bytecode = True  # nothing written into the checkout (the production profile's rule)

from common import pg
from common.settings import load_settings
from common.sms_store import SmsStore, open_sms_store
from common.sms_store import store_path as sms_store_path

CHUNK = 500  # ids per IN (...) list
# Rasa's event type names (rasa.shared.core.events ... .type_name)
SESSION_STARTED, ACTION, SLOT, ACTIVE_LOOP = "session_started", "action", "slot", "active_loop"
RESETS = ("restart", "reset_slots")  # kept with the slots they reset, so an old value stays reset


class Purged(NamedTuple):
    conversations: int  # deleted whole
    events: int  # deleted in all
    trimmed: int  # conversations still going on that lost their older events


class Event(NamedTuple):
    id: int
    type_name: str
    action_name: str
    timestamp: float


def store_url(prod: bool) -> sa.engine.URL:
    if prod:
        pg.load_prod_settings()
        return pg.url_from_env()
    path = Path(os.environ.get("HSG_TRACKER_DB") or ROOT / "var" / "tracker.sqlite3").resolve()
    return sa.engine.URL.create("sqlite", database=str(path))


def chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def kept_ids(events: List[Event]) -> Set[int]:
    """The events of a conversation still going on that stay whatever their age: in its
    current session (from its newest SessionStarted, as Rasa reads it), the session's
    start, and the newest event of each slot, of the form state and of each reset."""
    starts = [event.timestamp for event in events if event.type_name == SESSION_STARTED]
    session = [event for event in events if not starts or event.timestamp >= max(starts)]
    newest: Dict[tuple, int] = {}
    for event in sorted(session, key=lambda e: e.id):
        if event.type_name in (SESSION_STARTED, SLOT, ACTIVE_LOOP) + RESETS:
            name = event.action_name if event.type_name == SLOT else ""
            newest[(event.type_name, name)] = event.id
    session_start_action = [
        event.id for event in events if event.type_name == ACTION and event.action_name == "action_session_start"
    ]
    return set(newest.values()) | set(session_start_action[-1:])


def _delete(connection: sa.engine.Connection, column: str, values: Sequence) -> int:
    deleted = 0
    for chunk in chunks(values):
        deleted += connection.execute(
            sa.text(f"DELETE FROM events WHERE {column} IN :values").bindparams(sa.bindparam("values", expanding=True)),
            {"values": chunk},
        ).rowcount
    return deleted


def _trim(connection: sa.engine.Connection, senders: Sequence[str], cutoff: float) -> Tuple[int, int]:
    """Deletes the events older than `cutoff` of conversations still going on, but those
    their current session needs (`kept_ids`); returns (events deleted, conversations
    that lost some)."""
    old: List[int] = []
    trimmed = 0
    for chunk in chunks(senders):
        by_sender: Dict[str, List[Event]] = {}
        rows = connection.execute(
            sa.text(
                "SELECT sender_id, id, type_name, action_name, timestamp FROM events "
                "WHERE sender_id IN :senders ORDER BY id"
            ).bindparams(sa.bindparam("senders", expanding=True)),
            {"senders": list(chunk)},
        )
        for sender, *event in rows:
            by_sender.setdefault(sender, []).append(Event(*event))
        for events in by_sender.values():
            keep = kept_ids(events)
            going = [event.id for event in events if event.timestamp < cutoff and event.id not in keep]
            trimmed += bool(going)
            old += going
    return _delete(connection, "id", old), trimmed


def purge(url: sa.engine.URL, days: float, now: float = None) -> Purged:
    """Deletes every event older than `days`: whole conversations with nothing newer,
    and the older events of those still going on (see the module's docstring)."""
    cutoff = (now or time.time()) - days * 86400
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                return Purged(0, 0, 0)
            rows = connection.execute(
                sa.text(
                    "SELECT sender_id, MAX(timestamp) FROM events GROUP BY sender_id HAVING MIN(timestamp) < :cutoff"
                ),
                {"cutoff": cutoff},
            ).fetchall()
            ended = [sender for sender, newest in rows if newest < cutoff]
            going_on = [sender for sender, newest in rows if newest >= cutoff]
            trimmed_events, trimmed = _trim(connection, going_on, cutoff)
            return Purged(len(ended), _delete(connection, "sender_id", ended) + trimmed_events, trimmed)
    finally:
        engine.dispose()


def sms_path() -> Path:
    """The SMS channel's store, as the channel finds it (HSG_SMS_DB, credentials.yml, default)."""
    import yaml

    try:
        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
        configured = (credentials.get("components.twilio_sms.TwilioSmsInput") or {}).get("store")
    except (OSError, yaml.YAMLError, AttributeError):
        configured = None
    return sms_store_path(configured)


def purge_sms(path: Path, days: float, now: float = None) -> dict:
    """{"answered": n, "choices": n, ...} deleted from the SMS store: answered MessageSids,
    saved numbered choices and sent texts' statuses older than `days` (nothing when the
    file does not exist)."""
    if not Path(path).exists():
        return {"answered": 0, "choices": 0, "pending": 0, "sent": 0}
    store = SmsStore(Path(path))
    try:
        return store.purge((now or time.time()) - days * 86400)
    finally:
        store.close()


def purge_reminders(prod: bool, days: float, now: Optional[float] = None) -> Optional[int]:
    """Deletes finished text reminders (sent, failed, cancelled; they keep no number) last
    changed more than `days` ago and offers never taken up whose time has passed; None when
    there is no SMS store yet (the embedded default)."""
    from common.reminders import open_queue

    if not prod and not sms_path().exists():
        return None
    now = time.time() if now is None else now
    queue = open_queue(sms_path())
    try:
        return queue.purge(now - days * 86400, now)
    finally:
        queue.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="Delete events older than the retention setting.")
    parser.add_argument("--prod", action="store_true", help="purge the production profile's PostgreSQL store")
    parser.add_argument("--days", type=float, help="override clinic.yml retention.conversation_days")
    args = parser.parse_args()
    days = (
        args.days
        if args.days is not None
        else float((load_settings().get("retention") or {}).get("conversation_days", 30))
    )
    url = store_url(args.prod)
    if url.get_backend_name() == "sqlite" and not Path(url.database).exists():
        print(f"No conversations stored yet ({url.database} does not exist).")
    else:
        done = purge(url, days)
        print(
            f"Deleted {done.conversations} conversation(s) and the older events of {done.trimmed} going on "
            f"({done.events} events) older than {days:g} days from {url.render_as_string(hide_password=True)}."
        )
    before = time.time() - days * 86400
    if args.prod:  # the SMS tables and the report in PostgreSQL (HSG_STORE=postgresql from here on)
        sms_store = open_sms_store(sms_path())
        sms, where = sms_store.purge(before), sms_store.where()
    else:
        path = sms_path()
        sms, where = (purge_sms(path, days), path) if path.exists() else (None, path)
    if sms is not None:
        print(
            f"Deleted {sms['answered']} answered SMS id(s), {sms['choices']} saved SMS choice list(s) and "
            f"{sms.get('sent', 0)} sent text status(es) older than {days:g} days from {where}."
        )
    reminders = purge_reminders(args.prod, days)
    if reminders is not None:
        print(f"Deleted {reminders} finished or expired text reminder(s) from {where}.")
    if args.prod:  # (the report file of the embedded default deletes its old rows itself, at each use)
        from editor.report import Report

        report_days = float((load_settings().get("report") or {}).get("retention_days", 30))
        report = Report(retention_days=report_days)
        print(f"Deleted {report.purge()} report row(s) older than {report_days:g} days from {report.where()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
