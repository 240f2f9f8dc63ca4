"""Date understanding for patient answers: parsing, role assignment and flags (no Rasa imports).

Two languages. English is the default; with `language="es"` a Spanish expression is
first rewritten to the English form that means the same ("el 3 de noviembre" ->
"november 3", "hace dos días" -> "2 days ago", "el lunes pasado" -> "last monday"), so
both languages share one set of rules for years, ranges and refusals; Spanish cue
words give the roles and Spanish wordings raise the flags, beside the English ones (a
patient may mix the two). English results do not depend on the Spanish tables."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Dict, List, Literal, Optional, Tuple, TypedDict

import dateparser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta, weekday
from spacy.tokens import Span

from common.late_period import says_late
from common.nlp import get_nlp

Expect = Literal["past", "future"]
DateOrder = Literal["MDY", "DMY"]
SPANISH = "es"

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
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
ORDINAL_WORDS: Dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
NUMBER_WORDS: Dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "twenty": 20,
    "thirty": 30,
}
WEEKDAYS: Dict[str, weekday] = {
    "mon": MO,
    "monday": MO,
    "tue": TU,
    "tues": TU,
    "tuesday": TU,
    "wed": WE,
    "wednesday": WE,
    "thu": TH,
    "thur": TH,
    "thurs": TH,
    "thursday": TH,
    "fri": FR,
    "friday": FR,
    "sat": SA,
    "saturday": SA,
    "sun": SU,
    "sunday": SU,
}
SAME_DAY = {
    "today",
    "this morning",
    "this afternoon",
    "this evening",
    "tonight",
    "earlier today",
    "now",
    "right now",
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
RE_COMPOUND_ORDINAL = re.compile(r"\b(twenty|thirty)[\s-]+(" + "|".join(list(ORDINAL_WORDS)[:9]) + r")\b")
RE_ORDINAL_WORD = re.compile(r"\b(" + "|".join(ORDINAL_WORDS) + r")\b")
RE_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)\b")
RE_COUPLE = re.compile(r"\b(?:a\s+)?couple(?:\s+of)?\b")
RE_AMOUNT_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b(?=\s+(?:day|week|month)s?\b)")


# ---------------------------------------------------------------- Spanish -> canonical English


def fold(text: str) -> str:
    """Lower-case and drop acute accents and diaereses (not the tilde of ñ): patients
    often leave accents out, so Spanish patterns are written without them."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    kept = "".join(c for c in decomposed if not (unicodedata.combining(c) and c != "\u0303"))
    return unicodedata.normalize("NFC", kept)


MONTHS_ES: Dict[str, int] = {
    "ene": 1,
    "enero": 1,
    "feb": 2,
    "febrero": 2,
    "mar": 3,
    "marzo": 3,
    "abr": 4,
    "abril": 4,
    "may": 5,
    "mayo": 5,
    "jun": 6,
    "junio": 6,
    "jul": 7,
    "julio": 7,
    "ago": 8,
    "agosto": 8,
    "sep": 9,
    "sept": 9,
    "set": 9,
    "septiembre": 9,
    "setiembre": 9,
    "oct": 10,
    "octubre": 10,
    "nov": 11,
    "noviembre": 11,
    "dic": 12,
    "diciembre": 12,
}
NUMBER_WORDS_ES: Dict[str, int] = {
    "un": 1,
    "una": 1,
    "uno": 1,
    "primero": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiun": 21,
    "veintiuno": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
    "treinta": 30,
    "treinta y un": 31,
    "treinta y uno": 31,
}
WEEKDAYS_ES: Dict[str, str] = {
    "lunes": "monday",
    "martes": "tuesday",
    "miercoles": "wednesday",
    "jueves": "thursday",
    "viernes": "friday",
    "sabado": "saturday",
    "domingo": "sunday",
}
UNITS_ES: Dict[str, str] = {
    "dia": "day",
    "dias": "day",
    "semana": "week",
    "semanas": "week",
    "mes": "month",
    "meses": "month",
    "año": "year",
    "años": "year",
    "ano": "year",
    "anos": "year",
}
# whole expressions (after fillers are dropped) and the English they mean
RELATIVE_ES: Dict[str, str] = {
    "hoy": "today",
    "hoy mismo": "today",
    "ahora": "today",
    "ahorita": "today",
    "esta mañana": "today",
    "esta manana": "today",
    "esta tarde": "today",
    "esta noche": "today",
    "ayer": "yesterday",
    "anoche": "last night",
    "antier": "2 days ago",
    "anteayer": "2 days ago",
    "antes de ayer": "2 days ago",
    "antenoche": "2 days ago",
    "antes de anoche": "2 days ago",
    "mañana": "tomorrow",
    "manana": "tomorrow",
    "pasado mañana": "in 2 days",
    "pasado manana": "in 2 days",
}
_MONTH_NAME = {n: max((k for k, v in MONTHS.items() if v == n), key=len) for n in range(1, 13)}
_MONTH_ES_ALT = "|".join(sorted(MONTHS_ES, key=len, reverse=True))
_WEEKDAY_ES_ALT = "|".join(WEEKDAYS_ES)
_UNIT_ES_ALT = "|".join(sorted(UNITS_ES, key=len, reverse=True))
_YEAR_ES = r"(?:\s*(?:,|de|del)?\s*(?P<year>\d{4}|'\d{2}))?"
RE_ES_ORDINAL = re.compile(r"(?<!\d)(\d{1,2})(?:ro|er|do|to|vo|no|mo)\b|(?<!\d)(\d{1,2})\s*[º°ª]")
RE_ES_PAIR = re.compile(r"\bun\s+par\s+de\b")
RE_ES_NUMBER = re.compile(r"\b(" + "|".join(sorted(NUMBER_WORDS_ES, key=len, reverse=True)) + r")\b")
RE_ES_PART_OF_DAY = re.compile(r"\s+(?:en|por|a)\s+la\s+(?:mañana|manana|tarde|noche|madrugada)$|\s+temprano$")
RE_ES_FILLER = re.compile(
    r"^(?:el|del|desde|como|alrededor\s+del?|aproximadamente|aprox|mas\s+o\s+menos|fue|era|creo\s+que"
    r"|quizas?|tal\s+vez|probablemente|a\s+partir\s+del?|dia)\s+"
)
RE_ES_LEADING_WEEKDAY = re.compile(rf"^(?:{_WEEKDAY_ES_ALT})\s*,?\s+(?=(?:el\s+|dia\s+)*\d|(?:{_MONTH_ES_ALT})\b)")
RE_ES_AGO = re.compile(
    rf"^hace\s+(?:como\s+|unos?\s+|unas\s+|aproximadamente\s+|aprox\s+)?(?P<n>\d{{1,2}})\s+(?P<unit>{_UNIT_ES_ALT})$"
    rf"|^(?P<n2>\d{{1,2}})\s+(?P<unit2>{_UNIT_ES_ALT})\s+atras$"
)
RE_ES_IN = re.compile(rf"^(?:en|dentro\s+de)\s+(?P<n>\d{{1,2}})\s+(?P<unit>{_UNIT_ES_ALT})$")
RE_ES_WEEKDAY = re.compile(
    rf"^(?:(?:este|el|del)\s+)?(?:(?P<pre>pasado|proximo|entrante)\s+)?(?P<wd>{_WEEKDAY_ES_ALT})"
    rf"(?:\s+(?P<post>pasado|proximo|entrante|que\s+viene|que\s+paso))?$"
)
RE_ES_DAY_MONTH = re.compile(rf"^(?P<day>\d{{1,3}})\s+(?:de\s+)?(?P<month>{_MONTH_ES_ALT}){_YEAR_ES}$")
RE_ES_MONTH_DAY = re.compile(rf"^(?P<month>{_MONTH_ES_ALT})\s+(?P<day>\d{{1,3}}){_YEAR_ES}$")


def _english_amount(n: str, unit: str) -> str:
    """ "2 day" -> "2 days", "1 week" stays singular."""
    name = UNITS_ES[unit]
    return f"{n} {name}" if n == "1" else f"{n} {name}s"


def canonical_es(s: str) -> str:
    """Rewrite a normalised Spanish date expression to the English form _interpret reads.
    English expressions (and numbers such as "3/11") come out unchanged."""
    s = fold(s)
    s = RE_ES_ORDINAL.sub(lambda m: m.group(1) or m.group(2), s)
    s = RE_ES_PAIR.sub("2", s)
    s = RE_ES_NUMBER.sub(lambda m: str(NUMBER_WORDS_ES[re.sub(r"\s+", " ", m.group(1))]), s)
    s = RE_ES_PART_OF_DAY.sub("", s)
    previous = None
    while previous != s:
        previous = s
        if s in RELATIVE_ES:
            break
        s = RE_ES_FILLER.sub("", s)
        s = RE_ES_LEADING_WEEKDAY.sub("", s)
    if s in RELATIVE_ES:
        return RELATIVE_ES[s]
    m = RE_ES_AGO.match(s)
    if m:
        return _english_amount(m.group("n") or m.group("n2"), m.group("unit") or m.group("unit2")) + " ago"
    m = RE_ES_IN.match(s)
    if m:
        return "in " + _english_amount(m.group("n"), m.group("unit"))
    m = RE_ES_WEEKDAY.match(s)
    if m:
        mod = m.group("post") or m.group("pre") or ""
        prefix = "last " if mod in ("pasado", "que paso") else "next " if mod else ""
        return prefix + WEEKDAYS_ES[m.group("wd")]
    for regex in (RE_ES_DAY_MONTH, RE_ES_MONTH_DAY):
        m = regex.match(s)
        if m:
            text = f"{_MONTH_NAME[MONTHS_ES[m.group('month')]]} {m.group('day')}"
            return f"{text} {m.group('year')}" if m.group("year") else text
    return s


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
    late: bool
    stopped: bool
    not_yet: bool
    cancel: bool


def normalise(text: str) -> str:
    """Lower-case a date expression and reduce it to a canonical form for matching."""
    s = text.lower().replace("\u2019", "'").strip()
    s = re.sub(r"[\s.!?,;:]+$", "", s)
    s = re.sub(r"(?<=[a-z])\.(?=\s|\d)", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = RE_COMPOUND_ORDINAL.sub(lambda m: str(NUMBER_WORDS[m.group(1)] + ORDINAL_WORDS[m.group(2)]), s)
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


def _resolve_month_day(month: int, day: int, today: date, expect: Expect, not_before: Optional[date]) -> Optional[date]:
    """Pick the year for a month/day without one: most recent for past, next for future."""
    pivot, direction = _pivot(today, expect, not_before)
    candidates = [d for d in (_make_date(y, month, day) for y in range(pivot.year - 1, pivot.year + 2)) if d]
    if direction == -1:
        return max((d for d in candidates if d <= pivot), default=None)
    return min((d for d in candidates if d >= pivot), default=None)


def _resolve_day_only(day: int, today: date, expect: Expect, not_before: Optional[date]) -> Optional[date]:
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
    result = dateparser.parse(text, languages=["en"], settings=_dateparser_settings(today, expect, date_order, strict))
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


def _calendar_date(
    month: int, day: int, year_text: Optional[str], today: date, expect: Expect, not_before: Optional[date]
) -> Tuple[Optional[date], Optional[str]]:
    """A month and day, with the year given or chosen by expect; impossible when not on the calendar."""
    if year_text:
        value = _make_date(_full_year(year_text), month, day)
    else:
        value = _resolve_month_day(month, day, today, expect, not_before)
    return (value, None) if value else (None, IMPOSSIBLE)


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
        return _calendar_date(month, day, m.group("year"), today, expect, not_before)

    for regex in (RE_MONTH_DAY, RE_DAY_MONTH):
        m = regex.match(s)
        if m:
            return _calendar_date(
                MONTHS[m.group("month")], int(m.group("day")), m.group("year"), today, expect, not_before
            )

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
    language: str = "en",
) -> ParsedDate:
    """Parse one date expression relative to today; yearless dates resolve by expect (and not_before).
    language "es" reads Spanish expressions as well."""
    if expect not in ("past", "future"):
        raise ValueError(f"expect must be 'past' or 'future', not {expect!r}")
    if date_order not in ("MDY", "DMY"):
        raise ValueError(f"date_order must be 'MDY' or 'DMY', not {date_order!r}")
    s = normalise(text)
    if language == SPANISH:
        s = canonical_es(s)
    value, problem = _interpret(s, today, expect, date_order, not_before)
    if value is None:
        return ParsedDate(text=text, value=None, problem=problem or UNREADABLE)
    return ParsedDate(text=text, value=value, problem=_classify(value, today, expect))


# ---------------------------------------------------------------- roles

STRONG_CUES: List[Tuple[str, str]] = [
    (
        EXPECTED_PERIOD,
        r"\b(?:should|will|would|going\s+to|gonna|supposed\s+to|expected\s+to|likely\s+to|meant\s+to)"
        r"\s+(?:\w+\s+)?(?:start|begin|come|arrive)\b",
    ),
    # "should have started", "was supposed to have come": a period that was due (and is late)
    (
        EXPECTED_PERIOD,
        r"\b(?:should|supposed\s+to|meant\s+to)\s*(?:have|'ve|of|a)\s+(?:\w+\s+)?"
        r"(?:started|begun|come|came|arrived|been\s+here)\b",
    ),
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
    "day",
    "days",
    "time",
    "times",
    "week",
    "weeks",
    "month",
    "months",
    "cycle",
    "cycles",
    "hour",
    "hours",
    "pill",
    "pills",
    "dose",
    "doses",
    "try",
    "attempt",
}

# Spanish cue words (matched on folded text: lower case, no accents), tried beside the English ones.
STRONG_CUES_ES: List[Tuple[str, str]] = [
    (EXPECTED_PERIOD, r"\bme\s+(?:toca|tocaria|tocara|tiene\s+que)\b"),
    (
        EXPECTED_PERIOD,
        r"\b(?:debe|deberia|debia|debio|tiene\s+que|tenia\s+(?:que|q)|va\s+a|iba\s+a)\s+(?:\w+\s+)?"
        r"(?:bajar|llegar|venir|empezar|comenzar|iniciar|bajado|llegado|venido)(?:me)?\b",
    ),
    (EXPECTED_PERIOD, r"\bme\s+tocaba\b"),
    (EXPECTED_PERIOD, r"\b(?:bajara|llegara|vendra|empezara|comenzara|iniciara)\b"),
    (EXPECTED_PERIOD, r"\b(?:proxim[oa]|siguiente)\s+(?:regla|periodo|menstruacion|ciclo|sangrado)\b"),
    (EXPECTED_PERIOD, r"\b(?:regla|periodo|menstruacion)\s+(?:que\s+viene|proxim[oa]|siguiente)\b"),
    (EXPECTED_PERIOD, r"\b(?:espero|esperando|esperad[oa]|esperaba)\b"),
    # "me baja el 5" (present: when it comes), not "no me baja" (no periods)
    (EXPECTED_PERIOD, r"(?<!\bno\s)\bme\s+(?:baja|llega|viene)\b(?!\s+cada\b)"),
    (DEVICE_PLACED, r"\b(?:pusieron|puso|colocaron|coloco|implantaron|implanto|insertaron|inserto)\b"),
    (
        DEVICE_PLACED,
        r"\b(?:colocacion|implantes?|insercion|dispositivo|colocad[oa]s?|implantad[oa]s?"
        r"|insertad[oa]s?)\b",
    ),
    (BLEEDING_END, r"\bultimo\s+dia\b"),
    (BLEEDING_END, r"\bdej[eo]\s+de\s+(?:sangrar|manchar|bajar)\b|\bya\s+no\s+(?:sangr|manch)\w*"),
    (BLEEDING_END, r"\bse\s+(?:me\s+)?(?:quito|fue|corto|detuvo|acabo|termino|acaba|termina|quita|corta|va)\b"),
    (
        BLEEDING_END,
        r"\b(?:termino|termine|terminaron|terminara|acabo|acabe|acabara|paro|pare|pararon|parara|quito"
        r"|finalizo|ceso)\b"
        r"(?!\s+de\s+(?:empezar|comenzar|bajar|llegar|venir))",
    ),
    (PERIOD_START, r"\bprimer\s+dia\b"),
    (PERIOD_START, r"\bdia\s+(?:uno|1)\b"),
    (PERIOD_START, r"\bfur\b"),
    (PERIOD_START, r"\b(?:empezo|empece|empezaron|comenzo|comence|comenzaron|inicio|inicie|iniciaron)\b"),
    (PERIOD_START, r"\b(?:me|le)\s+(?:bajo|llego|vino)\b"),
    (PERIOD_START, r"\b(?:bajo|llego|vino)\s+(?:la\s+|mi\s+|el\s+)?(?:regla|periodo|menstruacion)\b"),
]
WEAK_CUES_ES: List[Tuple[str, str]] = [
    (PERIOD_START, r"\b(?:ultim[oa]|mas\s+reciente|anterior|pasad[oa])\s+(?:regla|periodo|menstruacion|ciclo)\b"),
    (PERIOD_START, r"\bregla\b|\bperiodo\b|\bmenstruacion\b"),
]
STRONG_CUES_BOTH = STRONG_CUES_ES + STRONG_CUES
WEAK_CUES_BOTH = WEAK_CUES_ES + WEAK_CUES
RE_STRONG_BOTH = re.compile("|".join(f"(?P<s{i}>{p})" for i, (_, p) in enumerate(STRONG_CUES_BOTH)))
RE_WEAK_BOTH = re.compile("|".join(f"(?P<w{i}>{p})" for i, (_, p) in enumerate(WEAK_CUES_BOTH)))
RE_BOUNDARY_BOTH = re.compile(
    r"[.;!?,\u00bf\u00a1]|\b(?:and|but|then|so|while|y|e|pero|luego|despues|entonces|mientras|aunque)\b"
    r"|\s[-\u2013\u2014]\s"
)
RE_RANGE_BOTH = re.compile(r"^\s*(?:to|until|till|til|through|thru|al|a|hasta(?:\s+el)?|-|\u2013|\u2014)\s*$")
NOT_A_DATE_NEXT_ES = {
    "dia",
    "dias",
    "semana",
    "semanas",
    "mes",
    "meses",
    "vez",
    "veces",
    "hora",
    "horas",
    "pastilla",
    "pastillas",
    "dosis",
    "ciclo",
    "ciclos",
    "intento",
    "intentos",
}
# "mañana" after these is "morning" ("en la mañana"), not "tomorrow"
MORNING_BEFORE_ES = {"la", "una", "cada", "toda", "esta", "de", "por", "en"}
# "el 12 de este mes" is a date; "el 2 de mi regla" is not
DATE_AFTER_DE_ES = {"este", "ese", "mes"}


class _Cues:
    """The cue tables and clause rules of one language."""

    def __init__(self, language: str) -> None:
        spanish = language == SPANISH
        self.prepare = fold if spanish else str.lower
        self.strong, self.strong_table = (RE_STRONG_BOTH, STRONG_CUES_BOTH) if spanish else (RE_STRONG, STRONG_CUES)
        self.weak, self.weak_table = (RE_WEAK_BOTH, WEAK_CUES_BOTH) if spanish else (RE_WEAK, WEAK_CUES)
        self.boundary = RE_BOUNDARY_BOTH if spanish else RE_BOUNDARY
        self.range = RE_RANGE_BOTH if spanish else RE_RANGE


def _cue_roles(
    text: str, regex: re.Pattern[str], table: List[Tuple[str, str]], prepare: Callable[[str], str] = str.lower
) -> List[str]:
    """Roles of the cues found in text, in order of appearance."""
    roles: List[str] = []
    for m in regex.finditer(prepare(text)):
        index = int((m.lastgroup or "x0")[1:])
        roles.append(table[index][0])
    return roles


def _split_clauses(text: str, boundary: re.Pattern[str] = RE_BOUNDARY) -> Tuple[str, str]:
    """Return (head before the first clause boundary, tail after the last one)."""
    bounds = list(boundary.finditer(text))
    if not bounds:
        return text, text
    return text[: bounds[0].start()], text[bounds[-1].end() :]


def _is_false_date_es(span: Span) -> bool:
    """Spanish spans that are not dates: "el 2 de mi regla", "el 1er día", "en la mañana"."""
    doc = span.doc
    words = [fold(t.text) for t in doc]
    before = words[span.start - 1] if span.start > 0 else ""
    after = words[span.end : span.end + 2]
    if fold(span.text) in ("mañana", "manana") and before in MORNING_BEFORE_ES:
        return True
    if words[span.start] == "del" and after[:2] in (["al", "10"], ["al", "diez"]):
        return True  # "del 1 al 10": a pain scale
    s = canonical_es(normalise(span.text))
    single = bool(RE_DAY_ONLY.match(s) or (RE_NUMERIC.match(s) and s.count("/") + s.count(".") + s.count("-") == 1))
    if not single or not after:
        return False
    if after[0] in NOT_A_DATE_NEXT_ES:
        return True
    return bool(RE_DAY_ONLY.match(s)) and after[0] in ("de", "del") and (after[1:] or [""])[0] not in DATE_AFTER_DE_ES


def _is_false_date(span: Span, language: str = "en") -> bool:
    """True for spans like "the 2nd day" or "1/2 hour" that are not dates."""
    if language == SPANISH and _is_false_date_es(span):
        return True
    doc = span.doc
    if span.end >= len(doc) or doc[span.end].lower_ not in NOT_A_DATE_NEXT:
        return False
    s = normalise(span.text)
    return bool(RE_DAY_ONLY.match(s) or (RE_NUMERIC.match(s) and s.count("/") + s.count(".") + s.count("-") == 1))


def _assign_role(before: str, after: str, previous_role: Optional[str], default_role: str, language: str = "en") -> str:
    """Choose the role of a date from the text around it (nearest strong cue wins)."""
    cues = _Cues(language)
    _, before_tail = _split_clauses(before, cues.boundary)
    after_head, _ = _split_clauses(after, cues.boundary)
    tail_strong = _cue_roles(before_tail, cues.strong, cues.strong_table, cues.prepare)
    if tail_strong:
        return tail_strong[-1]
    head_strong = _cue_roles(after_head, cues.strong, cues.strong_table, cues.prepare)
    if head_strong:
        return head_strong[0]
    if previous_role == PERIOD_START and cues.range.match(cues.prepare(before)):
        return BLEEDING_END
    all_strong = _cue_roles(before, cues.strong, cues.strong_table, cues.prepare)
    if all_strong:
        return all_strong[-1]
    for segment, pick in ((before_tail, -1), (after_head, 0), (before, -1)):
        weak = _cue_roles(segment, cues.weak, cues.weak_table, cues.prepare)
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
    language: str = "en",
) -> List[DateMention]:
    """Find date mentions in a message, give each a role and parse it accordingly
    (language "es": Spanish wordings and cue words as well)."""
    if default_role not in ROLES:
        raise ValueError(f"unknown role {default_role!r}")
    doc = get_nlp()(text)
    spans = [e for e in doc.ents if e.label_ == "DATE" and not _is_false_date(e, language)]
    roles: List[str] = []
    for i, span in enumerate(spans):
        prev_end = spans[i - 1].end_char if i > 0 else 0
        next_start = spans[i + 1].start_char if i + 1 < len(spans) else len(text)
        roles.append(
            _assign_role(
                text[prev_end : span.start_char],
                text[span.end_char : next_start],
                roles[-1] if roles else None,
                default_role,
                language,
            )
        )
    mentions: List[DateMention] = []
    period_start = known_period_start
    was_due = says_late(text)
    for span, role in zip(spans, roles):
        if role == EXPECTED_PERIOD:
            parsed = _parse_expected(span.text, today, date_order, language, was_due)
        else:
            anchor = period_start if role == BLEEDING_END else None
            parsed = parse_date(
                span.text, today, expect="past", date_order=date_order, not_before=anchor, language=language
            )
        if role == PERIOD_START and parsed.value and not parsed.problem:
            period_start = parsed.value
        mentions.append(DateMention(span.text, parsed.value, parsed.problem, role))
    return mentions


def _parse_expected(text: str, today: date, date_order: DateOrder, language: str, was_due: bool) -> ParsedDate:
    """The date a period is (or was) expected. Said with "was due" words ("was due on the 3rd",
    "me tocaba el 10") a yearless date is in the past. Otherwise it is ahead, unless only a
    recent past reading makes sense ("due Dec 5" written on Dec 7 is two days ago, not next
    year): a due date on or before today means the period is late (actions/flow.py)."""
    if was_due:
        return parse_date(text, today, expect="past", date_order=date_order, language=language)
    ahead = parse_date(text, today, expect="future", date_order=date_order, language=language)
    if ahead.problem != TOO_FAR:
        return ahead
    past = parse_date(text, today, expect="past", date_order=date_order, language=language)
    recent = past.value is not None and not past.problem and (today - past.value).days <= MAX_FUTURE_DAYS
    return past if recent else ahead


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
RE_NO = re.compile(
    r"^\s*(?:no|nope|nah|naw|n|not\s+yet|it\s+has\s*n'?o?t|it\s+hasn'?t|hasn'?t|i\s+haven'?t|none|nothing)\b"
)
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


# Spanish wordings (matched on folded text), tried beside the English ones.
_REGLA = r"(?:regla|reglas|periodo|periodos|menstruacion|menstruaciones|sangrado)"
RE_STILL_BLEEDING_ES = re.compile(
    r"\b(?:todavia|aun|sigo|sigue|continuo|continua)\s+(?:estoy\s+|ando\s+|me\s+esta\s+|esta\s+)?"
    rf"(?:sangrando|manchando|bajando|con\s+(?:la\s+|mi\s+|el\s+)?{_REGLA})"
    rf"|\b(?:todavia|aun)\s+(?:tengo|traigo)\s+(?:la\s+|mi\s+|el\s+)?{_REGLA}"
    r"|\b(?:todavia|aun)\s+no\s+(?:se\s+)?(?:me\s+)?(?:ha\s+|han\s+)?(?:termina|terminado|acaba|acabado|quita"
    r"|quitado|para|parado|detiene|detenido|va|ido|corta|cortado)\b"
    r"|\bno\s+(?:se\s+)?(?:me\s+)?(?:ha|han)\s+(?:terminado|acabado|quitado|parado|detenido|ido|cortado)\b"
    r"|\bno\s+se\s+(?:me\s+)?(?:quita|termina|acaba|va|detiene|para|corta)\b"
    r"|\bno\s+(?:deja|para|dejo|paro)\s+de\s+(?:sangrar|manchar|bajar)\b"
    rf"|\b(?:ahorita|ahora|actualmente)\s+(?:estoy|ando)\s+(?:sangrando|con\s+(?:la\s+|mi\s+)?{_REGLA})"
    rf"|\b(?:estoy|ando)\s+(?:sangrando|con\s+(?:la\s+|mi\s+)?{_REGLA})\s+(?:ahorita|ahora|todavia|aun)\b"
    r"|\bestoy\s+en\s+(?:mis\s+dias|mi\s+regla|mi\s+periodo)\b"
)
RE_UNSURE_ES = re.compile(
    r"\bno\s+(?:estoy\s+|me\s+siento\s+)?(?:muy\s+|tan\s+|del\s+todo\s+|100\s*%\s+)?segur[oa]s?\b"
    r"|\bno\s+lo\s+se\b|\bno\s+se(?=\s*(?:$|[.,;!?]|bien\b|exactamente\b|cuando\b|que\s+dia\b|la\s+fecha\b"
    r"|el\s+dia\b))"
    r"|\bno\s+(?:me\s+)?(?:acuerdo|recuerdo)\b|\bno\s+lo\s+recuerdo\b|\bse\s+me\s+olvido\b|\bolvide\b"
    r"|\bni\s+idea\b|\bno\s+tengo\s+(?:ni\s+)?(?:idea|la\s+menor\s+idea)\b"
    r"|\bmas\s+o\s+menos\b|\bcreo\s+que\b|\binsegur[oa]\b|\bquien\s+sabe\b"
)
RE_NO_PERIODS_ES = re.compile(
    r"\bno\s+(?:me\s+)?(?:ha|han)\s+(?:bajado|llegado|venido)\b"
    r"|\bno\s+me\s+(?:baja|llega|viene|bajaba|llegaba|venia)\b"
    rf"|\bno\s+(?:tengo|tuve|he\s+tenido)\s+(?:la\s+|mi\s+|ninguna\s+|una\s+)?{_REGLA}\b"
    r"|\bno\s+(?:he\s+)?(?:menstruado|reglado|menstruo)\b"
    r"|\bsin\s+(?:la\s+)?(?:regla|reglas|periodo|periodos|menstruacion|menstruar|reglar)\b"
    rf"|\bya\s+no\s+(?:me\s+)?(?:baja|llega|viene|tengo\s+(?:la\s+)?{_REGLA})\b"
    r"|\bamenorrea\b"
    rf"|\bdeje\s+de\s+(?:menstruar|reglar|tener\s+(?:la\s+|mi\s+)?{_REGLA})\b"
)
RE_YES_ES = re.compile(
    r"^\s*(?:si+(?!\s+no\b)|sip|simon|claro|ya|aja|correcto|exacto|cierto|asi\s+es|eso\s+es|creo\s+que\s+si"
    r"|por\s+supuesto|de\s+acuerdo|ok|okay|okey|yes|yeah|yep|yup|sure)\b"
)
RE_NO_ES = re.compile(
    r"^\s*(?:no|nop|nel|nada|ninguna?|todavia\s+no|aun\s+no|todavia\s+nada|aun\s+nada|para\s+nada|tampoco)\b"
)
RE_WANTS_DATES_ES = re.compile(
    r"\bcalcul\w*|\bmis\s+(?:mejores\s+|propi[oa]s\s+|exact[oa]s\s+)?(?:dias|fechas)\b"
    r"|\b(?:saca|sacar|sacame|averigu\w+|dime|decirme)\s+(?:mis|las|los)\s+(?:mejores\s+)?(?:dias|fechas)\b"
)
RE_CORRECTION_ES = re.compile(
    r"^\s*no(?:\s+no)*\s+(?:fue|era|es|el|del|la|perdon|espera|en\s+realidad|mas\s+bien|sino|me\s+equivoque)\b"
    rf"|^\s*no\s+(?:el\s+|del\s+)?(?:\d|{_MONTH_ES_ALT})[\w/.-]*(?:\s+\w+){{0,2}}\s*(?:[,;:\-]+|\s+sino|\s+fue)\s*\S"
    r"|\bperdon\b|\bdisculp[ae]\b|\bme\s+equivoque\b|\bequivocad[oa]\b|\bcorrijo\b|\bcorreccion\b"
    r"|\ben\s+realidad\b|\bquise\s+decir\b|\bquiero\s+decir\b|\besta\s+mal\b|\bme\s+confundi\b|\berror\b"
)
_ABOUT_ES = (
    r"(?:usualmente|normalmente|generalmente|siempre|casi|unos|como|mas\s+o\s+menos|aproximadamente|aprox"
    r"|alrededor\s+de)"
)
CYCLE_LENGTH_PATTERNS_ES = [
    re.compile(
        r"\bciclos?\s+(?:menstrual(?:es)?\s+)?(?:regular(?:es)?\s+)?(?:es\s+|son\s+|era\s+|eran\s+|dura\s+"
        rf"|duran\s+|duraba\s+|=\s*|:\s*)?(?:de\s+)?(?:{_ABOUT_ES}\s+)*(\d{{2}})(?:\s*-?\s*dias?|\b)"
    ),
    re.compile(r"\b(\d{2})\s*-?\s*dias?\s+(?:de\s+)?ciclos?\b"),
    re.compile(rf"\bcada\s+(?:{_ABOUT_ES}\s+)?(\d{{2}})\s*dias?\b"),
]


def _cycle_length(text: str, patterns: Optional[List[re.Pattern[str]]] = None) -> Optional[int]:
    """Cycle length in days when stated and plausible (21-45), else None."""
    for regex in patterns or CYCLE_LENGTH_PATTERNS:
        m = regex.search(text)
        if m:
            value = int(m.group(1))
            return value if MIN_CYCLE_LENGTH <= value <= MAX_CYCLE_LENGTH else None
    return None


# Negations and "not yet" words. A short reply is read as a whole: a negation anywhere in it
# is a no ("I have not", "it did not", "ya no me baja"), however it starts.
RE_NEGATION = re.compile(r"\b(?:no|not|nope|nah|naw|never|none|nothing|havent|hasnt|didnt|dont|isnt|aint)\b|n't\b")
RE_NEGATION_ES = re.compile(r"\b(?:no|nop|nel|nada|ningun[oa]?|nunca|tampoco)\b")
RE_NOT_YET = re.compile(r"\b(?:still\s+waiting|waiting|not\s+yet|nothing\s+yet|no\s+sign)\b")
RE_NOT_YET_ES = re.compile(
    r"\b(?:sigo\s+esperando|esperando|todavia\s+no|aun\s+no|no\s+todavia|no\s+aun"
    r"|todavia\s+nada|aun\s+nada|nada\s+todavia|nada\s+aun)\b"
)
SHORT_REPLY_WORDS = 8
# The bleeding has stopped, said without a date (an answer to "when did the bleeding stop?").
RE_STOPPED = re.compile(
    r"^\W*(?:it\s+|the\s+bleeding\s+|bleeding\s+|my\s+period\s+)?(?:has\s+|had\s+)?(?:already\s+)?"
    r"(?:stopped|ended|finished|done|over)\b"
    r"|\b(?:it'?s|its|it\s+is|i'?m|i\s+am|im|it\s+has|it'?s\s+been|i'?ve|i\s+have|bleeding\s+is|period\s+is)\s+"
    r"(?:already\s+|all\s+|completely\s+)?(?:done|over|finished|stopped|ended|gone)\b"
    r"|\balready\s+(?:stopped|ended|finished|done|over|gone)\b|\b(?:stopped|ended|finished|done|over)\s+already\b"
    r"|\bno\s+(?:more\s+)?(?:bleeding|blood|spotting)\b(?!\s+yet)|\bnot\s+bleeding\s+(?:anymore|any\s+more|now)\b"
    r"|^\W*(?:not\s+anymore|no\s+longer|not\s+any\s+more)\b"
)
RE_STOPPED_ES = re.compile(
    r"^\W*ya\s+no\b(?!\s+(?:se\b|quiero|gracias|me\s+acuerdo|recuerdo))"
    r"|\bya\s+(?:(?:se\s+)?(?:me\s+)?(?:paro|pare|quito|fue|corto|detuvo|acabo|termino|termine|acabe))\b"
    r"|\b(?:se\s+(?:me\s+)?)?(?:quito|termino|acabo|paro|corto)\s+ya\b"
    r"|\bya\s+(?:no\s+(?:sangro|mancho|estoy\s+sangrando|hay\s+sangre|tengo))\b"
)
# A clear "stop asking me": the only words (besides the button) that end the date questions.
RE_CANCEL = re.compile(
    r"^\W*(?:(?:ok|okay|oh|um|no|hmm)\W+)?(?:never\s*mind|nevermind|nvm|forget\s+(?:it|about\s+it)|cancel\w*"
    r"|stop(?!ped|s)\b|quit|no\s+thanks?|no\s+thank\s+you|not\s+now|skip\s+(?:it|this)|i\s+don'?t\s+want"
    r"|olvid\w+|dejel[oa]|dejal[oa]|ya\s+no\s+quiero|no\s+quiero|no\s+gracias|ahora\s+no|no\s+importa"
    r"|basta|parar|alto)\b"
)


def _reply_polarity(s: str, folded: str, flags: DateFlags, spanish: bool) -> Tuple[bool, bool]:
    """(yes, no) of a reply, read as a whole: unsure, not-yet and late words, and a negation
    anywhere in a short reply, make it a no whatever it starts with."""
    short = len(s.split()) <= SHORT_REPLY_WORDS
    negated = bool(RE_NEGATION.search(s)) or (spanish and bool(RE_NEGATION_ES.search(folded)))
    no = flags["no"] or flags["not_yet"] or flags["late"] or (short and negated)
    yes = flags["yes"] and not (no or flags["unsure"])
    return yes, no


def detect_flags(text: str, language: str = "en") -> DateFlags:
    """Detect still-bleeding, unsure, no-periods, late, stopped, cancel, correction, a stated
    cycle length, and a yes or no (language "es": Spanish wordings as well)."""
    s = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")).strip()
    flags = _english_flags(s)
    spanish = language == SPANISH
    f = fold(s)
    if spanish:
        flags = DateFlags(
            still_bleeding=flags["still_bleeding"] or bool(RE_STILL_BLEEDING_ES.search(f)),
            unsure=flags["unsure"] or bool(RE_UNSURE_ES.search(f)),
            no_periods=flags["no_periods"] or bool(RE_NO_PERIODS_ES.search(f)),
            correction=flags["correction"] or bool(RE_CORRECTION_ES.search(f)),
            cycle_length=_cycle_length(f, CYCLE_LENGTH_PATTERNS_ES) or flags["cycle_length"],
            yes=bool(RE_YES_ES.search(f)),  # not the English list: its "y" is Spanish "and"
            no=flags["no"] or bool(RE_NO_ES.search(f)),
            wants_dates=flags["wants_dates"] or bool(RE_WANTS_DATES_ES.search(f)),
            late=flags["late"],
            stopped=flags["stopped"],
            not_yet=flags["not_yet"],
            cancel=flags["cancel"],
        )
    flags["yes"], flags["no"] = _reply_polarity(s, f, flags, spanish)
    return flags


def _english_flags(s: str) -> DateFlags:
    """The flags of a lower-cased English message (late, stopped, not-yet and cancel words in
    either language)."""
    return DateFlags(
        still_bleeding=bool(RE_STILL_BLEEDING.search(s)),
        unsure=bool(RE_UNSURE.search(s)),
        no_periods=bool(RE_NO_PERIODS.search(s)),
        correction=bool(RE_CORRECTION.search(s)),
        cycle_length=_cycle_length(s),
        yes=bool(RE_YES.search(s)),
        no=bool(RE_NO.search(s)),
        wants_dates=bool(RE_WANTS_DATES.search(s)),
        late=says_late(s),
        # these three in both languages: a short Spanish reply ("ya no", "olvídelo") may not
        # switch the conversation's language
        stopped=(bool(RE_STOPPED.search(s)) and not RE_STILL_BLEEDING.search(s)) or bool(RE_STOPPED_ES.search(fold(s))),
        not_yet=bool(RE_NOT_YET.search(s) or RE_NOT_YET_ES.search(fold(s))),
        cancel=bool(RE_CANCEL.search(fold(s))),
    )
