"""The editors' report in figures: per week, what patients sent and what the bot did
(no Rasa imports; counts only, never a message's text or its sender).

Read from the conversations Rasa stores (its SQL tracker store's `events` table): the
SQLite file of the embedded default (HSG_TRACKER_DB, default var/tracker.sqlite3), or,
in the production profile (HSG_STORE=postgresql), the same PostgreSQL database as the
rest of the report (common/pg.py). Only what `make purge` has left is there
(`retention.conversation_days`, 30 by default), so older weeks show less or nothing.

Per week (Monday to Sunday in the clinic's time zone):
- messages: the patients' messages (typed, or a button tapped);
- topics: the topic each message was understood as (faq/<key>, or the date and hand-off
  intents), for "the topics asked most";
- fallbacks (the fallback or out-of-scope answer), guided choices offered, and what the
  patient tapped next: one of the topics offered, or "Something else" (the rule of
  common/report_rules.py);
- urgent answers (utter_urgent);
- English and Spanish: the language the message was read in (the parse's `language`,
  else the conversation's `language` slot, else English, as the bot does);
- web and SMS: the channel (Twilio is SMS, the REST channel is the web chat).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

from common.report_rules import FALLBACK_RESPONSES, GUIDED_RESPONSES, OUT_OF_SCOPE_RESPONSES, PICKED_BY_RESPONSE

ROOT = Path(__file__).resolve().parent.parent
URGENT = "utter_urgent"
TOPIC_INTENTS = {"timing", "device_confirmation", "human_handoff"}  # besides the faq/<key> topics
SMS_CHANNELS = {"twilio"}
MAX_WEEKS = 26


@dataclass
class Week:
    """The counts of one week."""

    messages: int = 0
    topics: Counter = field(default_factory=Counter)
    fallbacks: int = 0
    out_of_scope: int = 0
    guided_offered: int = 0
    guided_picked: int = 0
    something_else: int = 0
    urgent: int = 0
    languages: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(start: date) -> str:
    """'2026-W48' (ISO week), as an <input type=week> writes it."""
    year, number, _ = start.isocalendar()
    return f"{year}-W{number:02d}"


def parse_week(value: str) -> date:
    """The Monday of an ISO week written '2026-W48'; ValueError for anything else."""
    year, _, number = (value or "").strip().upper().partition("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def period(today: date, start: str = "", end: str = "", default_weeks: int = 8) -> Tuple[date, date, str]:
    """(first Monday, last Monday, a note) of the weeks asked for: by default the last
    `default_weeks` weeks up to today's; weeks that cannot be read, or a period longer
    than MAX_WEEKS, give the default (or a shorter period) and a note saying so."""
    last = monday(today)
    first = last - timedelta(weeks=default_weeks - 1)
    if not start and not end:
        return first, last, ""
    try:
        first, last = parse_week(start) if start else first, parse_week(end) if end else last
    except ValueError:
        return last - timedelta(weeks=default_weeks - 1), last, "Those weeks could not be read: the last 8 weeks."
    note = ""
    if first > last:
        first, last = last, first
    if (last - first).days // 7 + 1 > MAX_WEEKS:
        first, note = last - timedelta(weeks=MAX_WEEKS - 1), f"At most {MAX_WEEKS} weeks: the last {MAX_WEEKS}."
    return first, last, note


def _engine(url: Optional[str]) -> Any:
    import sqlalchemy as sa

    from common import pg

    if url:
        return sa.create_engine(url)
    if pg.enabled():
        return pg.engine()
    path = Path(os.environ.get("HSG_TRACKER_DB") or ROOT / "var" / "tracker.sqlite3")
    if not path.exists():
        return None
    return sa.create_engine(sa.engine.URL.create("sqlite", database=str(path.resolve())))


def _events(engine: Any, start: float, end: float) -> Iterator[Tuple[str, str, Optional[str], float, str]]:
    """(sender, type, action or slot name, time, data) of the messages, replies and
    language slots in [start, end), conversation by conversation, in order."""
    import sqlalchemy as sa

    query = sa.text(
        "SELECT sender_id, type_name, action_name, timestamp, data FROM events "
        "WHERE timestamp >= :start AND timestamp < :end "
        "AND (type_name IN ('user', 'bot') OR (type_name = 'slot' AND action_name = 'language')) "
        "ORDER BY sender_id, id"
    )
    with engine.connect() as connection:
        yield from connection.execute(query, {"start": start, "end": end})


def topic_of(parse: Dict[str, Any]) -> Optional[str]:
    """The topic a message was understood as: the faq answer's key, or a topic intent."""
    intent = (parse.get("intent") or {}).get("name")
    if intent == "faq":
        selected = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        key = selected.get("intent_response_key") or ""
        return key.split("/", 1)[1] if "/" in key else None
    return intent if intent in TOPIC_INTENTS else None


class _Conversation:
    """What one conversation is doing while its events are read: its language, whether
    a guided choice waits for a tap, whether the last message was a tap."""

    def __init__(self) -> None:
        self.language = "en"
        self.offer_open = False
        self.tapped = False


def _count_user(week: Week, data: Dict[str, Any], state: _Conversation) -> None:
    parse = data.get("parse_data") or {}
    text = data.get("text") or ""
    week.messages += 1
    language = parse.get("language") or state.language
    state.language = language
    week.languages["Spanish" if language == "es" else "English"] += 1
    week.channels["SMS" if data.get("input_channel") in SMS_CHANNELS else "web"] += 1
    topic = topic_of(parse)
    if topic and not text.startswith("/"):
        week.topics[topic] += 1
    state.tapped = text.startswith("/")
    if not state.tapped:
        state.offer_open = False  # typed instead of tapping: the choice is left


def _count_bot(week: Week, data: Dict[str, Any], state: _Conversation) -> None:
    response = (data.get("metadata") or {}).get("utter_action") or ""
    if response == URGENT:
        week.urgent += 1
    if response in FALLBACK_RESPONSES:
        week.fallbacks += 1
    elif response in OUT_OF_SCOPE_RESPONSES:
        week.out_of_scope += 1
    if state.offer_open and state.tapped:  # the reply to the tap after a guided choice
        picked = response.split("/", 1)[1] if response.startswith("utter_faq/") else PICKED_BY_RESPONSE.get(response)
        if picked == "something else":
            week.something_else += 1
        elif picked:
            week.guided_picked += 1
        state.offer_open = state.tapped = False
    if response in GUIDED_RESPONSES:
        week.guided_offered += 1
        state.offer_open, state.tapped = True, False


def empty_weeks(first: date, last: date) -> Dict[date, Week]:
    return {first + timedelta(weeks=n): Week() for n in range((last - first).days // 7 + 1)}


def weekly(
    first: date, last: date, time_zone: str, url: Optional[str] = None
) -> Dict[date, Week]:  # fmt: skip
    """{Monday: Week} for every week from `first` to `last` (Mondays), all of them,
    empty when nothing is stored."""
    zone = ZoneInfo(time_zone)
    weeks = empty_weeks(first, last)
    engine = _engine(url)
    if engine is None:
        return weeks
    start = datetime.combine(first, time(), zone).timestamp()
    end = datetime.combine(last + timedelta(days=7), time(), zone).timestamp()
    states: Dict[str, _Conversation] = defaultdict(_Conversation)
    for sender, kind, _slot, at, raw in _events(engine, start, end):
        week = weeks.get(monday(datetime.fromtimestamp(at, zone).date()))
        data = json.loads(raw or "{}")
        state = states[sender]
        if kind == "slot":
            state.language = data.get("value") or state.language
        elif week is not None and kind == "user":
            _count_user(week, data, state)
        elif week is not None and kind == "bot":
            _count_bot(week, data, state)
    return weeks


def top_topics(weeks: Dict[date, Week], how_many: int = 8) -> List[Tuple[str, int]]:
    """The topics asked most over the period, with their totals."""
    totals: Counter = Counter()
    for week in weeks.values():
        totals.update(week.topics)
    return totals.most_common(how_many)
