"""What patients asked that the bot could not answer well (no Rasa imports).

The content service sees every reply the bot sends (Rasa's NLG endpoint sends the
conversation's latest message with each request). When the reply is the fallback
or the out-of-scope answer, or the bot's top guess was unsure, the message is kept
in a SQLite file (HSG_REPORT_DB, default var/report.sqlite3) with its time, kind,
the closest topic and the confidence; never the sender or phone number. Rows older
than the retention setting (clinic.yml `report.retention_days`) are deleted on every
write and read. Only logged-in editors see the text (editor page, `make report`
reads the file on the server itself).
"""
from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_RESPONSES = {"utter_fallback", "utter_default"}
OUT_OF_SCOPE_RESPONSES = {"utter_out_of_scope"}


def report_db() -> Path:
    return Path(os.environ.get("HSG_REPORT_DB") or ROOT / "var" / "report.sqlite3")


def normalise(text: str) -> str:
    """The grouping key: lower case, no punctuation, single spaces."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class Report:
    def __init__(self, path: Optional[Path] = None, retention_days: float = 30, low_confidence: float = 0.6) -> None:
        self.path = Path(path or report_db())
        self.retention_days = float(retention_days)
        self.low_confidence = float(low_confidence)
        self.lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS misses (
                message_id TEXT PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
                topic TEXT, confidence REAL, channel TEXT)""")
            db.execute("CREATE INDEX IF NOT EXISTS misses_at ON misses(at)")
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def purge(self, db: sqlite3.Connection, now: Optional[float] = None) -> int:
        cutoff = (now or time.time()) - self.retention_days * 86400
        return db.execute("DELETE FROM misses WHERE at < ?", (cutoff,)).rowcount

    def classify(self, response: str, latest: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """What the report keeps about one reply, or None when it was a good answer."""
        text = (latest or {}).get("text") or ""
        if not text.strip() or text.startswith("/"):
            return None  # a button's intent payload, not a patient's words
        intent = (latest.get("intent") or {})
        ranking = [item for item in latest.get("intent_ranking") or [] if item.get("name") != "nlu_fallback"]
        guess = ranking[0] if ranking else intent
        topic = guess.get("name")
        selector = ((latest.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        if topic == "faq" and selector.get("intent_response_key"):
            topic = selector["intent_response_key"]
        confidence = guess.get("confidence")
        if response in FALLBACK_RESPONSES or intent.get("name") == "nlu_fallback":
            kind = "not understood"
        elif response in OUT_OF_SCOPE_RESPONSES:
            kind = "out of scope"
        elif confidence is not None and confidence < self.low_confidence:
            kind = "unsure"
        else:
            return None
        return {"kind": kind, "text": text.strip()[:500], "topic": topic,
                "confidence": round(confidence, 3) if confidence is not None else None}

    def record(self, response: str, tracker: Dict[str, Any], channel: Optional[str]) -> bool:
        latest = (tracker or {}).get("latest_message") or {}
        row = self.classify(response, latest)
        if row is None:
            return False
        message_id = latest.get("message_id") or f"{tracker.get('sender_id')}:{latest.get('text')}:{time.time()}"
        with self.lock, self._connect() as db:
            self.purge(db)
            db.execute("INSERT OR IGNORE INTO misses VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (message_id, time.time(), row["kind"], row["text"], row["topic"], row["confidence"], channel))
        return True

    def groups(self, now: Optional[float] = None) -> List[Dict[str, Any]]:
        """Recent misses grouped by their words, most frequent first."""
        with self.lock, self._connect() as db:
            self.purge(db, now)
            rows = db.execute("SELECT at, kind, text, topic, confidence, channel FROM misses ORDER BY at").fetchall()
        grouped: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"count": 0, "kinds": defaultdict(int),
                                                                  "topics": defaultdict(int), "channels": set()})
        for at, kind, text, topic, confidence, channel in rows:
            group = grouped[normalise(text)]
            group["count"] += 1
            group["example"] = text
            group["last"] = at
            group["kinds"][kind] += 1
            if topic:
                group["topics"][topic] += 1
            if channel:
                group["channels"].add(channel)
        result = [{"text": g["example"], "count": g["count"], "last": g["last"],
                   "kinds": dict(g["kinds"]), "closest_topic": max(g["topics"], key=g["topics"].get) if g["topics"] else None,
                   "channels": sorted(g["channels"])} for g in grouped.values()]
        return sorted(result, key=lambda g: (-g["count"], -g["last"]))
