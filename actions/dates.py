"""Date understanding for patient answers: parsing, role assignment and flags (no Rasa imports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Literal, Optional, Tuple, TypedDict

import dateparser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta, weekday
from spacy.tokens import Span

from common.nlp import get_nlp

Expect = Literal["past", "future"]
DateOrder = Literal["MDY", "DMY"]

# problem codes
IMPOSSIBLE = "impossible"
TOO_OLD = "too_old"
TOO_FAR = "too_far"
UNREADABLE = "unreadable"

# roles
PERIOD_START = "period_start"
BLEEDING_END = "bleeding_end"
EXPECTED_PERIOD = "expected_period"
DEVICE_PLACED = "device_placed"
ROLES = (PERIOD_START, BLEEDING_END, EXPECTED_PERIOD, DEVICE_PLACED)

MAX_PAST = relativedelta(years=1)  # older than this is "too_old"
MAX_FUTURE_DAYS = 60  # an expected period further ahead than this is "too_far"
MIN_CYCLE_LENGTH = 21
MAX_CYCLE_LENGTH = 45

MONTHS: Dict[str, int] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}
ORDINAL_WORDS: Dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
NUMBER_WORDS: Dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "twenty": 20, "thirty": 30,
}
WEEKDAYS: Dict[str, weekday] = {
    "mon": MO, "monday": MO, "tue": TU, "tues": TU, "tuesday": TU, "wed": WE,
    "wednesday": WE, "thu": TH, "thur": TH, "thurs": TH, "thursday": TH, "fri": FR,
    "friday": FR, "sat": SA, "saturday": SA, "sun": SU, "sunday": SU,
}
SAME_DAY = {
    "today", "this morning", "this afternoon", "this evening", "tonight", "earlier today",
    "now", "right now",
}
DAY_BEFORE = {"last night": 1}

_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_ALT = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_YEAR_PART = r"(?:\s*,?\s*(?:of\s+)?(?P<year>\d{4}|'\d{2}))?"
RE_MONTH_DAY = re.compile(rf"^(?P<month>{_MONTH_ALT})\s*(?:the\s+)?(?P<day>\d{{1,3}}){_YEAR_PART}$")
RE_DAY_MONTH = re.compile(rf"^(?:the\s+)?(?P<day>\d{{1,3}})\s*(?:of\s+)?(?P<month>{_MONTH_ALT}){_YEAR_PART}$")
RE_DAY_ONLY = re.compile(r"^(?:the\s+)?(?P<day>\d{1,2})$")
RE_ISO = re.compile(r"^(?P<year>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})$")
RE_NUMERIC = re.compile(r"^(?P<a>\d{1,2})\s*[/.-]\s*(?P<b>\d{1,2})(?:\s*[/.-]\s*(?P<year>\d{2}|\d{4}))?$")
RE_WEEKDAY = re.compile(rf"^(?:(?P<mod>this past|past|last|this|next|on)\s+)?(?P<wd>{_WEEKDAY_ALT})$")
RE_BARE_DURATION = re.compile(r"^\d+\s+(?:day|week|month|year)s?$")
RE_HAS_MONTH = re.compile(rf"\b(?:{_MONTH_ALT})\b")
RE_HAS_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
RE_LEADING_FILLER = re.compile(
    r"^(?:on|since|around|about|approximately|approx|roughly|maybe|probably|from|it was|was)\s+"
)
RE_LEADING_WEEKDAY = re.compile(rf"^(?:{_WEEKDAY_ALT})\s*,?\s+(?=(?:the\s+)?\d|(?:{_MONTH_ALT})\b)")
RE_COMPOUND_ORDINAL = re.compile(
    r"\b(twenty|thirty)[\s-]+(" + "|".join(list(ORDINAL_WORDS)[:9]) + r")\b"
)
RE_ORDINAL_WORD = re.compile(r"\b(" + "|".join(ORDINAL_WORDS) + r")\b")
RE_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)\b")
RE_COUPLE = re.compile(r"\b(?:a\s+)?couple(?:\s+of)?\b")
RE_AMOUNT_WORD = re.compile(
    r"\b(" + "|".join(NUMBER_WORDS) + r")\b(?=\s+(?:day|week|month)s?\b)"
)


@dataclass
class ParsedDate:
    """A parsed date expression: value when understood, problem code when not usable."""

    text: str
    value: Optional[date]
    problem: Optional[str]


@dataclass
class DateMention:
    """A date found in a message, with what it refers to (role)."""

    text: str
    value: Optional[date]
    problem: Optional[str]
    role: str


class DateFlags(TypedDict):
    """Non-date facts detected in a message."""

    still_bleeding: bool
    unsure: bool
    no_periods: bool
    correction: bool
    cycle_length: Optional[int]
    yes: bool
    no: bool
    wants_dates: bool


def normalise(text: str) -> str:
    """Lower-case a date expression and reduce it to a canonical form for matching."""
    s = text.lower().replace("\u2019", "'").strip()
    s = re.sub(r"[\s.!?,;:]+$", "", s)
    s = re.sub(r"(?<=[a-z])\.(?=\s|\d)", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = RE_COMPOUND_ORDINAL.sub(
        lambda m: str(NUMBER_WORDS[m.group(1)] + ORDINAL_WORDS[m.group(2)]), s
    )
    s = RE_ORDINAL_WORD.sub(lambda m: str(ORDINAL_WORDS[m.group(1)]), s)
    s = RE_ORDINAL_SUFFIX.sub(r"\1", s)
    s = RE_COUPLE.sub("2", s)
    s = RE_AMOUNT_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(1)]), s)
    previous = None
    while previous != s:
        previous = s
        s = RE_LEADING_FILLER.sub("", s)
    s = RE_LEADING_WEEKDAY.sub("", s)
    return s


def _make_date(year: int, month: int, day: int) -> Optional[date]:
    """Build a date or return None when it does not exist on the calendar."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(year_text: str) -> int:
    """Expand a 2-digit ("26" or "'26") year to 20xx."""
    digits = year_text.lstrip("'")
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def _pivot(today: date, expect: Expect, not_before: Optional[date]) -> Tuple[date, int]:
    """Reference date and search direction: -1 = on/before today, +1 = on/after the pivot."""
    if expect == "past":
        return (today, -1) if not_before is None else (not_before, 1)
    return max(today, not_before or today), 1


def _resolve_month_day(
    month: int, day: int, today: date, expect: Expect, not_before: Optional[date]
) -> Optional[date]:
    """Pick the year for a month/day without one: most recent for past, next for future."""
    pivot, direction = _pivot(today, expect, not_before)
    candidates = [
        d for d in (_make_date(y, month, day) for y in range(pivot.year - 1, pivot.year + 2)) if d
    ]
    if direction == -1:
        return max((d for d in candidates if d <= pivot), default=None)
    return min((d for d in candidates if d >= pivot), default=None)


def _resolve_day_only(
    day: int, today: date, expect: Expect, not_before: Optional[date]
) -> Optional[date]:
    """Pick month and year for a bare day of month ("the 12th")."""
    if not 1 <= day <= 31:
        return None
    pivot, direction = _pivot(today, expect, not_before)
    first_of_month = pivot.replace(day=1)
    for offset in range(14):
        month = first_of_month + relativedelta(months=direction * offset)
        candidate = _make_date(month.year, month.month, day)
        if candidate and (candidate <= pivot if direction == -1 else candidate >= pivot):
            return candidate
    return None


def _resolve_weekday(mod: Optional[str], wd: weekday, today: date, expect: Expect) -> date:
    """Resolve "monday", "last monday", "next monday" to 1-7 days before/after today."""
    forward = mod == "next" or (expect == "future" and mod not in ("last", "past", "this past"))
    if forward:
        return today + relativedelta(days=1, weekday=wd(+1))
    return today + relativedelta(days=-1, weekday=wd(-1))


def _dateparser_settings(today: date, expect: Expect, date_order: DateOrder, strict: bool) -> Dict[str, object]:
    """Settings for dateparser anchored on the given today."""
    return {
        "PREFER_DATES_FROM": expect,
        "DATE_ORDER": date_order,
        "RELATIVE_BASE": datetime.combine(today, time()),
        "STRICT_PARSING": strict,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


def _dateparser(text: str, today: date, expect: Expect, date_order: DateOrder, strict: bool) -> Optional[date]:
    """Run dateparser (English only) and return a date or None."""
    result = dateparser.parse(
        text, languages=["en"], settings=_dateparser_settings(today, expect, date_order, strict)
    )
    return result.date() if result else None


def _classify(value: date, today: date, expect: Expect) -> Optional[str]:
    """Return a problem code for a real date outside the plausible range, else None."""
    if value < today - MAX_PAST:
        return TOO_OLD
    if expect == "past" and value > today:
        return TOO_FAR
    if expect == "future" and value > today + timedelta(days=MAX_FUTURE_DAYS):
        return TOO_FAR
    return None


def _interpret(
    s: str, today: date, expect: Expect, date_order: DateOrder, not_before: Optional[date]
) -> Tuple[Optional[date], Optional[str]]:
    """Interpret a normalised expression; returns (value, problem) before range checks."""
    if not s:
        return None, UNREADABLE
    if s in SAME_DAY:
        return today, None
    if s in DAY_BEFORE:
        return today - timedelta(days=DAY_BEFORE[s]), None

    m = RE_WEEKDAY.match(s)
    if m:
        return _resolve_weekday(m.group("mod"), WEEKDAYS[m.group("wd")], today, expect), None

    m = RE_ISO.match(s)
    if m:
        value = _make_date(int(m.group("year")), int(m.group("a")), int(m.group("b")))
        return (value, None) if value else (None, IMPOSSIBLE)

    m = RE_NUMERIC.match(s)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (a, b) if date_order == "MDY" else (b, a)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None, IMPOSSIBLE
        if m.group("year"):
            value = _make_date(_full_year(m.group("year")), month, day)
        else:
            value = _resolve_month_day(month, day, today, expect, not_before)
        return (value, None) if value else (None, IMPOSSIBLE)

    for regex in (RE_MONTH_DAY, RE_DAY_MONTH):
        m = regex.match(s)
        if m:
            month, day = MONTHS[m.group("month")], int(m.group("day"))
            if m.group("year"):
                value = _make_date(_full_year(m.group("year")), month, day)
            else:
                value = _resolve_month_day(month, day, today, expect, not_before)
            return (value, None) if value else (None, IMPOSSIBLE)

    m = RE_DAY_ONLY.match(s)
    if m:
        value = _resolve_day_only(int(m.group("day")), today, expect, not_before)
        return (value, None) if value else (None, IMPOSSIBLE)

    if RE_BARE_DURATION.match(s):  # "3 days" is a duration, not a date
        return None, UNREADABLE
    # relative expressions ("3 days ago", "yesterday", "in 2 weeks") and full dates
    value = _dateparser(s, today, expect, date_order, strict=True)
    if value:
        return value, None
    # other wordings that name a month: take month/day from dateparser, choose the year here
    if RE_HAS_MONTH.search(s) and re.search(r"\d", s):
        loose = _dateparser(s, today, expect, date_order, strict=False)
        if loose:
            if RE_HAS_YEAR.search(s):
                return loose, None
            value = _resolve_month_day(loose.month, loose.day, today, expect, not_before)
            return (value, None) if value else (None, IMPOSSIBLE)
    return None, UNREADABLE


def parse_date(
    text: str,
    today: date,
    *,
    expect: Expect = "past",
    date_order: DateOrder = "MDY",
    not_before: Optional[date] = None,
) -> ParsedDate:
    """Parse one date expression relative to today; yearless dates resolve by expect (and not_before)."""
    if expect not in ("past", "future"):
        raise ValueError(f"expect must be 'past' or 'future', not {expect!r}")
    if date_order not in ("MDY", "DMY"):
        raise ValueError(f"date_order must be 'MDY' or 'DMY', not {date_order!r}")
    value, problem = _interpret(normalise(text), today, expect, date_order, not_before)
    if value is None:
        return ParsedDate(text=text, value=None, problem=problem or UNREADABLE)
    return ParsedDate(text=text, value=value, problem=_classify(value, today, expect))


# ---------------------------------------------------------------- roles

STRONG_CUES: List[Tuple[str, str]] = [
    (EXPECTED_PERIOD, r"\b(?:should|will|would|going\s+to|gonna|supposed\s+to|expected\s+to|likely\s+to|meant\s+to)"
                      r"\s+(?:\w+\s+)?(?:start|begin|come|arrive)\b"),
    (EXPECTED_PERIOD, r"\bnext\s+(?:period|cycle|menstrual\s+period|menses)\b"),
    (EXPECTED_PERIOD, r"\bdue\b"),
    (EXPECTED_PERIOD, r"\bexpect(?:ed|ing)?\b"),
    (DEVICE_PLACED, r"\b(?:had|got|get|have)\s+(?:my\s+|the\s+|an?\s+)?(?:essure|adiana)\b"),
    (DEVICE_PLACED, r"\b(?:placed|placement|inserted|insertion|implant(?:ed|s)?|put\s+in)\b"),
    (DEVICE_PLACED, r"\b(?:essure|adiana|device|micro-?inserts?)\b"),
    (BLEEDING_END, r"\blast\s+day\b"),
    (BLEEDING_END, r"\bdone\s+bleeding\b"),
    (BLEEDING_END, r"\b(?:was|is|were|got)\s+(?:done|over|finished)\b"),
    (BLEEDING_END, r"\b(?:stopped|stop|stops|ended|ending|ends|finished|went\s+away|no\s+more\s+bleeding)\b"),
    (PERIOD_START, r"\bfirst\s+day\b"),
    (PERIOD_START, r"\bday\s+(?:one|1)\b"),
    (PERIOD_START, r"\blmp\b|\bl\.m\.p\b"),
    (PERIOD_START, r"\b(?:started|start|starts|starting|began|begin|begins|beginning|came|got\s+my\s+period)\b"),
]
WEAK_CUES: List[Tuple[str, str]] = [
    (PERIOD_START, r"\b(?:last|latest|most\s+recent|previous)\s+(?:period|cycle)\b"),
    (PERIOD_START, r"\bperiod\b|\bmenstruation\b|\bmenses\b"),
]
RE_STRONG = re.compile("|".join(f"(?P<s{i}>{p})" for i, (_, p) in enumerate(STRONG_CUES)))
RE_WEAK = re.compile("|".join(f"(?P<w{i}>{p})" for i, (_, p) in enumerate(WEAK_CUES)))
RE_BOUNDARY = re.compile(r"[.;!?,]|\b(?:and|but|then|so|while)\b|\s[-\u2013\u2014]\s")
RE_RANGE = re.compile(r"^\s*(?:to|until|till|til|through|thru|-|\u2013|\u2014)\s*$")
NOT_A_DATE_NEXT = {
    "day", "days", "time", "times", "week", "weeks", "month", "months", "cycle", "cycles",
    "hour", "hours", "pill", "pills", "dose", "doses", "try", "attempt",
}


def _cue_roles(text: str, regex: re.Pattern[str], table: List[Tuple[str, str]]) -> List[str]:
    """Roles of the cues found in text, in order of appearance."""
    roles: List[str] = []
    for m in regex.finditer(text.lower()):
        index = int((m.lastgroup or "x0")[1:])
        roles.append(table[index][0])
    return roles


def _split_clauses(text: str) -> Tuple[str, str]:
    """Return (head before the first clause boundary, tail after the last one)."""
    bounds = list(RE_BOUNDARY.finditer(text))
    if not bounds:
        return text, text
    return text[: bounds[0].start()], text[bounds[-1].end():]


def _is_false_date(span: Span) -> bool:
    """True for spans like "the 2nd day" or "1/2 hour" that are not dates."""
    doc = span.doc
    if span.end >= len(doc) or doc[span.end].lower_ not in NOT_A_DATE_NEXT:
        return False
    s = normalise(span.text)
    return bool(RE_DAY_ONLY.match(s) or (RE_NUMERIC.match(s) and s.count("/") + s.count(".") + s.count("-") == 1))


def _assign_role(before: str, after: str, previous_role: Optional[str], default_role: str) -> str:
    """Choose the role of a date from the text around it (nearest strong cue wins)."""
    _, before_tail = _split_clauses(before)
    after_head, _ = _split_clauses(after)
    tail_strong = _cue_roles(before_tail, RE_STRONG, STRONG_CUES)
    if tail_strong:
        return tail_strong[-1]
    head_strong = _cue_roles(after_head, RE_STRONG, STRONG_CUES)
    if head_strong:
        return head_strong[0]
    if previous_role == PERIOD_START and RE_RANGE.match(before):
        return BLEEDING_END
    all_strong = _cue_roles(before, RE_STRONG, STRONG_CUES)
    if all_strong:
        return all_strong[-1]
    for segment, pick in ((before_tail, -1), (after_head, 0), (before, -1)):
        weak = _cue_roles(segment, RE_WEAK, WEAK_CUES)
        if weak:
            return weak[pick]
    return default_role


def extract_dates(
    text: str,
    today: date,
    date_order: DateOrder = "MDY",
    *,
    default_role: str = PERIOD_START,
    known_period_start: Optional[date] = None,
) -> List[DateMention]:
    """Find date mentions in a message, give each a role and parse it accordingly."""
    if default_role not in ROLES:
        raise ValueError(f"unknown role {default_role!r}")
    doc = get_nlp()(text)
    spans = [e for e in doc.ents if e.label_ == "DATE" and not _is_false_date(e)]
    roles: List[str] = []
    for i, span in enumerate(spans):
        prev_end = spans[i - 1].end_char if i > 0 else 0
        next_start = spans[i + 1].start_char if i + 1 < len(spans) else len(text)
        roles.append(
            _assign_role(
                text[prev_end:span.start_char],
                text[span.end_char:next_start],
                roles[-1] if roles else None,
                default_role,
            )
        )
    mentions: List[DateMention] = []
    period_start = known_period_start
    for span, role in zip(spans, roles):
        expect: Expect = "future" if role == EXPECTED_PERIOD else "past"
        anchor = period_start if role == BLEEDING_END else None
        parsed = parse_date(span.text, today, expect=expect, date_order=date_order, not_before=anchor)
        if role == PERIOD_START and parsed.value and not parsed.problem:
            period_start = parsed.value
        mentions.append(DateMention(span.text, parsed.value, parsed.problem, role))
    return mentions


# ---------------------------------------------------------------- flags

RE_STILL_BLEEDING = re.compile(
    r"\bstill\s+(?:bleeding|spotting|flowing|on\s+(?:my\s+|the\s+)?period"
    r"|(?:having|have|got)\s+(?:my\s+|a\s+)?(?:period|bleeding|flow))"
    r"|\b(?:has|have|is|it's|its|it)?\s*(?:n'?t|not)\s+(?:stopped|ended|finished)"
    r"|\bhas(?:nt|n't)\s+(?:stopped|ended|finished)"
    r"|\bnot\s+(?:over|done)\s+yet\b"
    r"|\b(?:is|it's|its)\s*(?:n'?t|not)\s+over\b"
    r"|\bcurrently\s+(?:bleeding|on\s+my\s+period)\b"
    r"|\b(?:bleeding|on\s+my\s+period)\s+(?:right\s+)?now\b"
)
RE_UNSURE = re.compile(
    r"\bnot\s+(?:really\s+|totally\s+|100%\s+)?(?:sure|certain)\b|\bunsure\b|\buncertain\b"
    r"|\b(?:don'?t|do\s+not)\s+(?:really\s+)?(?:know|remember|recall)\b|\bdunno\b"
    r"|\b(?:can'?t|cannot|can\s+not)\s+(?:remember|recall)\b"
    r"|\bno\s+(?:idea|clue)\b|\bidk\b|\bi\s+forg[eo]t\b"
)
RE_NO_PERIODS = re.compile(
    r"\bno\s+(?:menstrual\s+)?periods?\b"
    r"|\b(?:don'?t|do\s+not|never)\s+(?:get|have)\s+(?:a\s+period|periods|my\s+periods)\b"
    r"|\b(?:haven'?t|have\s+not|not)\s+had\s+(?:a\s+|my\s+|any\s+)?periods?\b"
    r"|\bnone\s+since\b"
    r"|\bamenorrh?o?ea\b"
    r"|\bstopped\s+(?:getting|having)\s+(?:my\s+)?periods?\b"
    r"|\bperiods\s+(?:have|had)\s+stopped\b"
    r"|\bno\s+(?:period|af|cycle)s?\s+(?:for|in|since)\b"
    r"|\b(?:haven'?t|have\s+not|hasn'?t|has\s+not)\s+(?:had|gotten|got|come|came)\b[^.?!]{0,25}"
    r"\b(?:months?|years?|ages|a\s+long\s+time|since\s+(?:i\s+had|having|giving\s+birth|the\s+baby))\b"
    r"|\b(?:months?|years?)\s+(?:without|with\s+no)\s+(?:a\s+)?periods?\b"
    r"|\bperiods?\s+(?:has|have|hasn'?t|haven'?t)\s+(?:not\s+)?(?:come\s+back|returned)\b"
)
# A short answer to a yes/no question ("has a new period started since then?").
RE_YES = re.compile(r"^\s*(?:yes|yeah|yeh|yep|yup|ya|yea|y|yess+|it\s+has|it\s+did|i\s+have|i\s+did|sure|correct)\b")
RE_NO = re.compile(r"^\s*(?:no|nope|nah|naw|n|not\s+yet|it\s+has\s*n'?o?t|it\s+hasn'?t|hasn'?t|i\s+haven'?t|none|nothing)\b")
# The patient asks for their own dates ("work out my best days"), not the general rule.
RE_WANTS_DATES = re.compile(
    r"\b(?:work|figure|sort)\s+out\s+(?:my|the|our)\b|\bcalculate\b|\bcount\s+(?:my|the)\s+days\b"
    r"|\bmy\s+(?:best\s+|own\s+|exact\s+|personal\s+)?(?:days|dates|window)\b"
)
RE_CORRECTION = re.compile(
    r"^\s*(?:no|nope|nah)(?:[\s,.!\-]+(?:no|nope|nah))*\s*[,.!\-]+\s*\S"
    r"|^\s*(?:no|nope)(?:\s+no)*\s+(?:it|it's|its|i|that|that's|wait|the|my|sorry|actually|not)\b"
    r"|^\s*not\s+(?:on\s+)?(?:the\s+)?(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[\w/.-]*(?:\s+\w+)?"
    r"\s*(?:[,;:\-]+|\s+but)\s*\S"
    r"|\bactually\b|\bi\s+meant?\b|\bsorry\b|\bwrong\b|\bmistake\b|\btypo\b|\bcorrection\b"
    r"|\bi\s+mis(?:typed|spoke|read)\b"
)
CYCLE_LENGTH_PATTERNS = [
    re.compile(r"\b(\d{2})\s*-?\s*days?\s+(?:long\s+)?(?:menstrual\s+)?cycles?\b"),
    re.compile(
        r"\bcycles?\s+(?:length\s+)?(?:is|are|was|were|of|lasts?|runs?|=|:)?\s*"
        r"(?:usually|normally|typically|about|around|roughly|approximately|approx|like|~|\s)*"
        r"(\d{2})(?:\s*-?\s*days?|\b)"
    ),
    re.compile(r"\bevery\s+(?:about\s+|around\s+|roughly\s+)?(\d{2})\s*days?\b"),
]


def _cycle_length(text: str) -> Optional[int]:
    """Cycle length in days when stated and plausible (21-45), else None."""
    for regex in CYCLE_LENGTH_PATTERNS:
        m = regex.search(text)
        if m:
            value = int(m.group(1))
            return value if MIN_CYCLE_LENGTH <= value <= MAX_CYCLE_LENGTH else None
    return None


def detect_flags(text: str) -> DateFlags:
    """Detect still-bleeding, unsure, no-periods, correction and a stated cycle length."""
    s = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")).strip()
    return DateFlags(
        still_bleeding=bool(RE_STILL_BLEEDING.search(s)),
        unsure=bool(RE_UNSURE.search(s)),
        no_periods=bool(RE_NO_PERIODS.search(s)),
        correction=bool(RE_CORRECTION.search(s)),
        cycle_length=_cycle_length(s),
        yes=bool(RE_YES.search(s)),
        no=bool(RE_NO.search(s)),
        wants_dates=bool(RE_WANTS_DATES.search(s)),
    )
