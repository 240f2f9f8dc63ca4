"""What patients asked that the bot could not answer well (no Rasa imports).

The bot sends the content service the replies this report keeps, in the background
(POST /nlg/report, with the conversation's latest message; components/content_nlg.py
asks for the rules below at GET /nlg/version). When the reply is the fallback or the
out-of-scope answer, the guided choice of likely topics, or the bot's top guess was
unsure, the message is kept in a SQLite file (HSG_REPORT_DB, default
var/report.sqlite3), or in the production profile (HSG_STORE=postgresql) in PostgreSQL
(table hsg_report_misses, shared by every host; common/pg.py), with its time, kind, the
closest topic and the confidence; never the sender or phone number. For a guided choice
the topics offered, and then the one the patient picked (from the offer, or from the
topic list after "Something else"), are kept beside it (table `choices`, or
hsg_report_choices): candidates for new training examples. An editor may mark a message
"add as training example" for a developer (table `training`, or hsg_report_training:
who marked it); `make report` lists the marked ones. Rows older than the retention setting (clinic.yml
`report.retention_days`) are deleted on every write and read, and by `make purge`.
At most `report.max_rows_per_day` rows (default 500) are kept from any 24 hours, so a
script sending junk to the public webhook cannot fill the disk or bury the real
questions; past the cap, rows are dropped and one WARNING a day says so.
Only logged-in editors see the text (editor page; `make report` on the server itself).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from common.report_rules import SOMETHING_ELSE, offered_topics, picked_topic, report_kind, top_guess

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)
DAY = 86400.0
MAX_ROWS_PER_DAY = 500  # the default of clinic.yml `report.max_rows_per_day`


def report_db() -> Path:
    return Path(os.environ.get("HSG_REPORT_DB") or ROOT / "var" / "report.sqlite3")


def normalise(text: str) -> str:
    """The grouping key: lower case, no punctuation, single spaces."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class Report:
    """The report's rows: in the SQLite file `path` (default HSG_REPORT_DB), or, with no
    `path` and HSG_STORE=postgresql, in PostgreSQL."""

    def __init__(
        self,
        path: Optional[Path] = None,
        retention_days: float = 30,
        low_confidence: float = 0.6,
        max_rows_per_day: Optional[int] = None,
    ) -> None:
        self.retention_days = float(retention_days)
        self.low_confidence = float(low_confidence)
        if max_rows_per_day is None:
            from common.settings import load_settings

            max_rows_per_day = (load_settings().get("report") or {}).get("max_rows_per_day", MAX_ROWS_PER_DAY)
        self.max_rows_per_day = int(max_rows_per_day)
        self._capped_until = 0.0  # the cap's warning is not repeated before this time
        self.lock = threading.Lock()
        from common import pg

        self.engine = pg.engine() if path is None and pg.enabled() else None
        self.path = None if self.engine is not None else Path(path or report_db())
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS misses (
                message_id TEXT PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
                topic TEXT, confidence REAL, channel TEXT)""")
            db.execute("CREATE INDEX IF NOT EXISTS misses_at ON misses(at)")
            db.execute("""CREATE TABLE IF NOT EXISTS choices (
                message_id TEXT PRIMARY KEY, at REAL NOT NULL, offered TEXT NOT NULL, picked TEXT, via TEXT)""")
            db.execute("""CREATE TABLE IF NOT EXISTS training (
                message_id TEXT PRIMARY KEY, at REAL NOT NULL, marked_by TEXT)""")
        os.chmod(self.path, 0o600)

    def where(self) -> str:
        return str(self.path) if self.path else "PostgreSQL " + self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to the file, committed (or rolled back) and closed after use."""
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            yield db

    def _over_cap(self, rows_today: int, now: float) -> bool:
        """True when the rows of the last 24 hours reach the cap; warns once a day."""
        if rows_today < self.max_rows_per_day:
            return False
        if now >= self._capped_until:
            self._capped_until = now + DAY
            logger.warning(
                "The report keeps at most %d messages a day (report.max_rows_per_day); "
                "more are dropped until the oldest of them is a day old",
                self.max_rows_per_day,
            )
        return True

    def purge(self, db: Any = None, now: Optional[float] = None) -> int:
        """Deletes the rows older than the retention setting; returns how many went."""
        cutoff = (now or time.time()) - self.retention_days * 86400
        if db is not None:
            db.execute("DELETE FROM choices WHERE at < ?", (cutoff,))
            db.execute("DELETE FROM training WHERE at < ?", (cutoff,))
            return db.execute("DELETE FROM misses WHERE at < ?", (cutoff,)).rowcount
        if self.engine is not None:
            from common import pg

            with self.engine.begin() as connection:
                connection.execute(pg.report_choices.delete().where(pg.report_choices.c.at < cutoff))
                connection.execute(pg.report_training.delete().where(pg.report_training.c.at < cutoff))
                return connection.execute(pg.report_misses.delete().where(pg.report_misses.c.at < cutoff)).rowcount
        with self.lock, self._connect() as sqlite_db:
            return self.purge(sqlite_db, now)

    def classify(self, response: str, latest: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """What the report keeps about one reply, or None when it was a good answer
        (the rule is common/report_rules.py, which the bot uses too)."""
        kind = report_kind(response, latest or {}, self.low_confidence)
        if kind is None:
            return None
        guess = top_guess(latest)
        topic = guess.get("name")
        selector = ((latest.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        if topic == "faq" and selector.get("intent_response_key"):
            topic = selector["intent_response_key"]
        confidence = guess.get("confidence")
        return {
            "kind": kind,
            "text": (latest.get("text") or "").strip()[:500],
            "topic": topic,
            "confidence": round(confidence, 3) if confidence is not None else None,
        }

    def record(
        self, response: str, tracker: Dict[str, Any], channel: Optional[str], arguments: Optional[Dict[str, Any]] = None
    ) -> bool:
        """Keeps a reply the report keeps (with the topics a guided choice offered, from
        its `arguments`), or the patient's pick after a guided choice. True when kept."""
        latest = (tracker or {}).get("latest_message") or {}
        pick = picked_topic(response, latest, (tracker or {}).get("slots") or {})
        if pick is not None:
            return self.record_pick(str(tracker["slots"]["guided_offer"]["message_id"]), pick)
        row = self.classify(response, latest)
        if row is None:
            return False
        now = time.time()
        message_id = latest.get("message_id") or f"{tracker.get('sender_id')}:{latest.get('text')}:{now}"
        values = (message_id, now, row["kind"], row["text"], row["topic"], row["confidence"], channel)
        offered = offered_topics(arguments or {}) if row["kind"] == "guided choice" else []
        if self.engine is not None:
            return self._pg_insert(values, offered)
        with self.lock, self._connect() as db:
            self.purge(db)
            if self._over_cap(db.execute("SELECT COUNT(*) FROM misses WHERE at >= ?", (now - DAY,)).fetchone()[0], now):
                return False
            db.execute("INSERT OR IGNORE INTO misses VALUES (?, ?, ?, ?, ?, ?, ?)", values)
            if offered:
                db.execute(
                    "INSERT OR IGNORE INTO choices (message_id, at, offered) VALUES (?, ?, ?)",
                    (message_id, now, json.dumps(offered)),
                )
        return True

    @staticmethod
    def next_pick(offered: List[str], picked: Optional[str], pick: str) -> Optional[tuple]:
        """(picked, via) after a pick, or None when it changes nothing: the first pick of an
        offered topic or of "something else" counts, and after "something else" the first
        topic picked from the list; later taps (an old button) do not."""
        if picked is None and (pick in offered or pick == SOMETHING_ELSE):
            return pick, "list" if pick == SOMETHING_ELSE else "offer"
        if picked == SOMETHING_ELSE and pick != SOMETHING_ELSE:
            return pick, "list"
        return None

    def record_pick(self, message_id: str, pick: str) -> bool:
        """Records what the patient picked after the guided choice of `message_id`."""
        if self.engine is not None:
            return self._pg_pick(message_id, pick)
        with self.lock, self._connect() as db:
            found = db.execute("SELECT offered, picked FROM choices WHERE message_id = ?", (message_id,)).fetchone()
            change = self.next_pick(json.loads(found[0]), found[1], pick) if found else None
            if change is None:
                return False
            db.execute("UPDATE choices SET picked = ?, via = ? WHERE message_id = ?", change + (message_id,))
        return True

    def _pg_insert(self, values: tuple, offered: List[str]) -> bool:
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import insert

        from common import pg

        table, now = pg.report_misses, values[1]
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.at < now - self.retention_days * 86400))
            today = connection.execute(sa.select(sa.func.count()).select_from(table).where(table.c.at >= now - DAY))
            if self._over_cap(today.scalar_one(), now):
                return False
            columns = ("message_id", "at", "kind", "text", "topic", "confidence", "channel")
            connection.execute(insert(table).values(dict(zip(columns, values))).on_conflict_do_nothing())
            if offered:
                connection.execute(
                    insert(pg.report_choices)
                    .values(message_id=values[0], at=values[1], offered=json.dumps(offered))
                    .on_conflict_do_nothing()
                )
        return True

    def _pg_pick(self, message_id: str, pick: str) -> bool:
        from common import pg

        table = pg.report_choices
        with self.engine.begin() as connection:
            found = connection.execute(table.select().where(table.c.message_id == message_id).with_for_update()).first()
            change = self.next_pick(json.loads(found.offered), found.picked, pick) if found else None
            if change is None:
                return False
            connection.execute(
                table.update().where(table.c.message_id == message_id).values(picked=change[0], via=change[1])
            )
        return True

    def _rows(self, now: Optional[float]) -> List[tuple]:
        if self.engine is not None:
            import sqlalchemy as sa

            from common import pg

            self.purge(now=now)
            table, choices = pg.report_misses, pg.report_choices
            with self.engine.connect() as connection:
                return [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(
                            table.c.at,
                            table.c.kind,
                            table.c.text,
                            table.c.topic,
                            table.c.confidence,
                            table.c.channel,
                            choices.c.offered,
                            choices.c.picked,
                            choices.c.via,
                        )
                        .select_from(table.outerjoin(choices, table.c.message_id == choices.c.message_id))
                        .order_by(table.c.at)
                    )
                ]
        with self.lock, self._connect() as db:
            self.purge(db, now)
            return db.execute(
                "SELECT m.at, m.kind, m.text, m.topic, m.confidence, m.channel, c.offered, c.picked, "
                "c.via FROM misses m LEFT JOIN choices c ON c.message_id = m.message_id "
                "ORDER BY m.at"
            ).fetchall()

    def groups(self, now: Optional[float] = None) -> List[Dict[str, Any]]:
        """Recent misses grouped by their words, most frequent first, with what the guided
        choice offered (the latest offer) and what patients picked ({topic: times})."""
        grouped: Dict[str, Dict[str, Any]] = defaultdict(
            lambda: {
                "count": 0,
                "kinds": defaultdict(int),
                "topics": defaultdict(int),
                "channels": set(),
                "offered": [],
                "picked": defaultdict(int),
            }
        )
        for at, kind, text, topic, _confidence, channel, offered, picked, via in self._rows(now):
            group = grouped[normalise(text)]
            group["count"] += 1
            group["example"] = text
            group["last"] = at
            group["kinds"][kind] += 1
            if topic:
                group["topics"][topic] += 1
            if channel:
                group["channels"].add(channel)
            if offered:
                group["offered"] = json.loads(offered)
            if picked:
                from_list = via == "list" and picked != SOMETHING_ELSE
                group["picked"][f"{picked} (from the list)" if from_list else picked] += 1
        result = [
            {
                "text": g["example"],
                "count": g["count"],
                "last": g["last"],
                "kinds": dict(g["kinds"]),
                "closest_topic": max(g["topics"], key=g["topics"].get) if g["topics"] else None,
                "channels": sorted(g["channels"]),
                "offered": g["offered"],
                "picked": dict(g["picked"]),
            }
            for g in grouped.values()
        ]
        return sorted(result, key=lambda g: (-g["count"], -g["last"]))

    # --- the unanswered messages one by one, and the "add as training example" marks ---
    MESSAGE_COLUMNS = ("message_id", "at", "kind", "text", "topic", "channel", "offered", "picked", "via", "marked_by")

    def _pg_messages(self, start: float, end: float, limit: int, marked_only: bool) -> List[tuple]:
        import sqlalchemy as sa

        from common import pg

        misses, choices, training = pg.report_misses, pg.report_choices, pg.report_training
        query = (
            sa.select(
                misses.c.message_id,
                misses.c.at,
                misses.c.kind,
                misses.c.text,
                misses.c.topic,
                misses.c.channel,
                choices.c.offered,
                choices.c.picked,
                choices.c.via,
                training.c.marked_by,
            )  # fmt: skip
            .select_from(
                misses.outerjoin(choices, misses.c.message_id == choices.c.message_id).outerjoin(
                    training, misses.c.message_id == training.c.message_id
                )
            )
            .where(misses.c.at >= start, misses.c.at < end)
            .order_by(misses.c.at.desc())
            .limit(limit)
        )
        if marked_only:
            query = query.where(training.c.message_id.is_not(None))
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]

    def messages(
        self, start: float = 0.0, end: float = float("inf"), limit: int = 500, marked_only: bool = False
    ) -> List[Dict[str, Any]]:
        """The kept messages from `start` to `end` (epoch seconds), newest first, each with
        its id, what the guided choice offered and what was picked, and who marked it as a
        training example (None: not marked)."""
        self.purge()
        end = min(end, 1e12)
        if self.engine is not None:
            rows = self._pg_messages(start, end, limit, marked_only)
        else:
            with self.lock, self._connect() as db:
                rows = db.execute(
                    "SELECT m.message_id, m.at, m.kind, m.text, m.topic, m.channel, c.offered, c.picked, c.via, "
                    "t.marked_by FROM misses m LEFT JOIN choices c ON c.message_id = m.message_id "
                    "LEFT JOIN training t ON t.message_id = m.message_id WHERE m.at >= ? AND m.at < ? "
                    + ("AND t.message_id IS NOT NULL " if marked_only else "")
                    + "ORDER BY m.at DESC LIMIT ?",
                    (start, end, limit),
                ).fetchall()
        found = [dict(zip(self.MESSAGE_COLUMNS, row)) for row in rows]
        for row in found:
            row["offered"] = json.loads(row["offered"]) if row["offered"] else []
        return found

    def mark(self, message_id: str, marked: bool, by: str) -> bool:
        """Marks a kept message "add as training example" (or unmarks it); False when no
        such message is kept."""
        if self.engine is not None:
            return self._pg_mark(message_id, marked, by)
        with self.lock, self._connect() as db:
            found = db.execute("SELECT at FROM misses WHERE message_id = ?", (message_id,)).fetchone()
            if not found:
                return False
            if marked:
                db.execute("INSERT OR REPLACE INTO training VALUES (?, ?, ?)", (message_id, found[0], by))
            else:
                db.execute("DELETE FROM training WHERE message_id = ?", (message_id,))
        return True

    def _pg_mark(self, message_id: str, marked: bool, by: str) -> bool:
        from sqlalchemy.dialects.postgresql import insert

        from common import pg

        table = pg.report_training
        with self.engine.begin() as connection:
            found = connection.execute(
                pg.report_misses.select().where(pg.report_misses.c.message_id == message_id)
            ).first()
            if found is None:
                return False
            if marked:
                values = {"message_id": message_id, "at": found.at, "marked_by": by}
                connection.execute(
                    insert(table).values(values).on_conflict_do_update(index_elements=["message_id"], set_=values)
                )
            else:
                connection.execute(table.delete().where(table.c.message_id == message_id))
        return True
