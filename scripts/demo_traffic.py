"""A week of made-up traffic for the editors' report: conversations written into a
tracker store SQLite file (Rasa's `events` table, the way Rasa's SQL tracker store
writes them) and the report's own SQLite file (editor/report.py), for the browser test
of the report's charts (tests/test_report_charts.py) and its screenshot
(scripts/screenshots.py). Nobody real: every sender is `demo-...`.

`EXPECTED` holds what the report must count from this traffic, per chart.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent

# One conversation: (day of the week 0-6, channel, [(what the patient sent, what it was
# understood as, its language, the bot's answer)]). "faq/<key>" is a topic answer.
Turn = Tuple[str, str, Optional[str], str]
CONVERSATIONS: List[Tuple[int, str, List[Turn]]] = [
    (0, "rest", [("Does it hurt?", "faq/pain", "en", "utter_faq/pain"),
                 ("How long does it take?", "faq/duration", "en", "utter_faq/duration")]),
    (0, "rest", [("will it hurt a lot", "faq/pain", "en", "utter_faq/pain")]),
    (1, "rest", [("My period started Nov 20, when can I have the HSG?", "timing", "en", "utter_ask_bleeding_end")]),
    (1, "rest", [("¿Duele mucho el estudio?", "faq/pain", "es", "utter_faq/pain"),
                 ("¿Cuánto cuesta con seguro?", "faq/cost_insurance", "es", "utter_faq/cost_insurance"),
                 ("ok", "affirm", None, "utter_anything_else")]),
    (2, "twilio", [("how long is it", "faq/duration", "en", "utter_faq/duration"),
                   ("qwv zzkp flarb", "nlu_fallback", "en", "utter_fallback")]),
    (2, "twilio", [("I fainted and I'm bleeding a lot since the exam", "report_symptoms", "en", "utter_urgent")]),
    (3, "rest", [("what happens with my tubes thing", "nlu_fallback", "en", "utter_guided_three"),
                 ("/faq{\"topic\": \"abnormal_findings\"}", "faq/abnormal_findings", None,
                  "utter_faq/abnormal_findings")]),
    (4, "rest", [("the dye and my thyroid", "nlu_fallback", "en", "utter_guided_one"),
                 ("/topic_groups", "topic_groups", None, "utter_topic_groups")]),
    (4, "rest", [("what's the weather tomorrow", "out_of_scope", "en", "utter_out_of_scope")]),
    (5, "rest", [("¿Cuánto cuesta?", "faq/cost_insurance", "es", "utter_faq/cost_insurance")]),
]  # fmt: skip

# What the report counts from it, for the seeded week (every other week: nothing).
EXPECTED: Dict[str, Any] = {
    "messages": 16,
    "topics": {"pain": 3, "cost_insurance": 2, "duration": 2, "timing": 1},  # taps are not counted as asked
    "fallback or out of scope": 2,  # one of each
    "guided choice offered": 2,
    "a topic offered tapped": 1,
    "Something else tapped": 1,
    "urgent answers": 1,
    "English": 12,
    "Spanish": 4,  # "ok" and the taps keep their conversation's language
    "web chat": 13,
    "SMS": 3,
}
# The report's own rows (what the bot could not answer), newest last.
MISSES = [
    # (conversation, turn, kind, closest topic, offered, picked, via)
    (4, 1, "not understood", "nlu_fallback", None, None, None),
    (6, 0, "guided choice", "faq/abnormal_findings", ["abnormal_findings", "blocked_tube", "other_tests"],
     "abnormal_findings", "offer"),
    (7, 0, "guided choice", "faq/contrast", ["contrast"], "something else", "list"),
    (8, 0, "out of scope", "out_of_scope", None, None, None),
]  # fmt: skip

COLUMNS = "sender_id, type_name, timestamp, intent_name, action_name, data"
EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id))"""


def week_start(today: date, weeks_back: int = 1) -> date:
    """The Monday `weeks_back` weeks before this week's."""
    return today - timedelta(days=today.weekday(), weeks=weeks_back)


def _parse(text: str, understood: str, language: Optional[str], message_id: str) -> Dict[str, Any]:
    intent = understood.split("/", 1)[0]
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.3 if intent == "nlu_fallback" else 0.95}}
    parse.update(text=text, message_id=message_id, entities=[], intent_ranking=[parse["intent"]])
    if intent == "faq":
        response = {"intent_response_key": understood, "utter_action": "utter_" + understood, "confidence": 0.95}
        parse["response_selector"] = {"all_retrieval_intents": ["faq"], "faq": {"response": response}}
    if language:
        parse["language"] = language
    return parse


def _turn_events(sender: str, at: float, turn: Turn, channel: str, message_id: str) -> List[Tuple]:
    text, understood, language, response = turn
    user = {"event": "user", "timestamp": at, "text": text, "input_channel": channel, "message_id": message_id}
    user["parse_data"] = _parse(text, understood, language, message_id)
    bot = {"event": "bot", "timestamp": at + 0.2, "text": "(made-up answer)", "metadata": {"utter_action": response}}
    rows = [(sender, "user", at, understood.split("/", 1)[0], None, json.dumps(user))]
    if language:
        slot = {"event": "slot", "timestamp": at + 0.1, "name": "language", "value": language}
        rows.append((sender, "slot", at + 0.1, None, "language", json.dumps(slot)))
    rows.append((sender, "bot", at + 0.2, None, None, json.dumps(bot)))
    return rows


def _week(monday: date, zone: ZoneInfo) -> Tuple[List[Tuple], Dict[Tuple[int, int], Tuple[float, str]]]:
    """The tracker's rows of the made-up week, and each message's (time, id)."""
    rows: List[Tuple] = []
    stamps: Dict[Tuple[int, int], Tuple[float, str]] = {}
    for number, (day, channel, turns) in enumerate(CONVERSATIONS):
        start = datetime.combine(monday + timedelta(days=day), time(9 + number), zone).timestamp()
        for index, turn in enumerate(turns):
            at, message_id = start + 60 * index, f"demo-message-{number}-{index}"
            stamps[(number, index)] = (at, message_id)
            rows += _turn_events(f"demo-{number}", at, turn, channel, message_id)
    return rows, stamps


def _misses(stamps: Dict[Tuple[int, int], Tuple[float, str]]) -> Iterator[Tuple[Dict[str, Any], Optional[Dict]]]:
    """The report's rows ("misses") and, for a guided choice, its row of "choices"."""
    for number, index, kind, topic, offered, picked, via in MISSES:
        at, message_id = stamps[(number, index)]
        miss = {"message_id": message_id, "at": at, "kind": kind, "text": CONVERSATIONS[number][2][index][0]}
        miss.update(topic=topic, confidence=0.3, channel=CONVERSATIONS[number][1])
        choice = {"message_id": message_id, "at": at, "offered": json.dumps(offered), "picked": picked, "via": via}
        yield miss, choice if offered else None


def seed(tracker_db: Path, report_db: Path, monday: date, time_zone: str = "America/Denver") -> List[str]:
    """Writes the made-up week starting `monday` (in the clinic's time zone) into both
    SQLite files; returns the message ids of the report's rows, newest first."""
    from editor.report import Report

    rows, stamps = _week(monday, ZoneInfo(time_zone))
    with contextlib.closing(sqlite3.connect(tracker_db)) as db, db:
        db.execute(EVENTS_TABLE)
        db.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows)
    Report(report_db, max_rows_per_day=500)  # creates its tables
    with contextlib.closing(sqlite3.connect(report_db)) as db, db:
        for miss, choice in _misses(stamps):
            db.execute("INSERT INTO misses VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(miss.values()))
            if choice:
                db.execute("INSERT INTO choices VALUES (?, ?, ?, ?, ?)", tuple(choice.values()))
    return [stamps[(number, index)][1] for number, index, *_ in reversed(MISSES)]


def seed_postgresql(engine: Any, monday: date, time_zone: str = "America/Denver") -> List[str]:
    """The same in the production profile's PostgreSQL (its `events` table as Rasa makes
    it, and the report's tables of common/pg.py)."""
    import sqlalchemy as sa

    from common import pg

    rows, stamps = _week(monday, ZoneInfo(time_zone))
    names = COLUMNS.split(", ")
    with engine.begin() as connection:
        connection.execute(sa.text(EVENTS_TABLE.replace("id INTEGER NOT NULL", "id SERIAL")))
        connection.execute(
            sa.text(f"INSERT INTO events ({COLUMNS}) VALUES (:{', :'.join(names)})"),
            [dict(zip(names, row)) for row in rows],
        )
        for miss, choice in _misses(stamps):
            connection.execute(pg.report_misses.insert().values(miss))
            if choice:
                connection.execute(pg.report_choices.insert().values(choice))
    return [stamps[(number, index)][1] for number, index, *_ in reversed(MISSES)]
