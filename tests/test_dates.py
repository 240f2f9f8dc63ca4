"""Tests for common/nlp.py and actions/dates.py (today is always passed in)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from actions.dates import DateMention, ParsedDate, detect_flags, extract_dates, parse_date
from common.nlp import build_nlp, get_nlp, pipeline_fingerprint

ROOT = Path(__file__).resolve().parents[1]
D = date
TODAY = D(2026, 11, 20)  # a Friday
EARLY_JAN = D(2027, 1, 5)  # a Tuesday
LEAP_MARCH = D(2028, 3, 10)
PLAIN_MARCH = D(2027, 3, 10)


# ---------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    "text, today, expect, order, value, problem",
    [
        # month names, abbreviations, ordinals, optional "of", optional year
        ("November 3", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("Nov 3rd", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("Nov. 3", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("nov 3", TODAY, "past", "MDY", D(2026, 11, 3), None),  # lower-cased by the pipeline
        ("3 Nov", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("3rd of November", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("the 3rd of November 2026", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("November 3rd, 2026", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("November 3rd of 2026", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("november the 3rd", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("the third of november", TODAY, "past", "MDY", D(2026, 11, 3), None),  # ordinal word
        ("October twenty-first", TODAY, "past", "MDY", D(2026, 10, 21), None),  # compound ordinal word
        ("Tuesday, November 3", TODAY, "past", "MDY", D(2026, 11, 3), None),  # leading weekday ignored
        ("Sept 3", TODAY, "past", "MDY", D(2026, 9, 3), None),
        ("on Nov 3", TODAY, "past", "MDY", D(2026, 11, 3), None),  # leading "on"
        ("Nov 3.", TODAY, "past", "MDY", D(2026, 11, 3), None),  # trailing punctuation
        # numeric forms and date order
        ("11/3", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("11/3/2026", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("11/3/26", TODAY, "past", "MDY", D(2026, 11, 3), None),  # 2-digit year
        ("11-3-2026", TODAY, "past", "MDY", D(2026, 11, 3), None),
        ("2026-11-03", TODAY, "past", "MDY", D(2026, 11, 3), None),  # ISO ignores date order
        ("2026-11-03", TODAY, "past", "DMY", D(2026, 11, 3), None),
        ("3/11", TODAY, "past", "DMY", D(2026, 11, 3), None),  # DMY clinic
        ("3/11/2026", TODAY, "past", "DMY", D(2026, 11, 3), None),
        ("3.11.2026", TODAY, "past", "DMY", D(2026, 11, 3), None),
        ("11/3", TODAY, "past", "DMY", D(2026, 3, 11), None),  # 11 March in a DMY clinic
        # a bare day of the month: most recent for past, next for future
        ("the 12th", TODAY, "past", "MDY", D(2026, 11, 12), None),
        ("the 12th", TODAY, "future", "MDY", D(2026, 12, 12), None),
        ("the 20th", TODAY, "past", "MDY", D(2026, 11, 20), None),  # today itself
        ("the 21st", TODAY, "past", "MDY", D(2026, 10, 21), None),  # tomorrow's day -> last month
        ("the 31st", TODAY, "past", "MDY", D(2026, 10, 31), None),  # November has no 31st
        ("the 30th", D(2026, 3, 5), "past", "MDY", D(2026, 1, 30), None),  # skips February
        ("12", TODAY, "past", "MDY", D(2026, 11, 12), None),  # bare number
        ("the first", TODAY, "past", "MDY", D(2026, 11, 1), None),
        # relative expressions
        ("today", TODAY, "past", "MDY", TODAY, None),
        ("this morning", TODAY, "past", "MDY", TODAY, None),
        ("yesterday", TODAY, "past", "MDY", D(2026, 11, 19), None),
        ("last night", TODAY, "past", "MDY", D(2026, 11, 19), None),
        ("the day before yesterday", TODAY, "past", "MDY", D(2026, 11, 18), None),
        ("3 days ago", TODAY, "past", "MDY", D(2026, 11, 17), None),
        ("three days ago", TODAY, "past", "MDY", D(2026, 11, 17), None),
        ("a couple of days ago", TODAY, "past", "MDY", D(2026, 11, 18), None),
        ("a week ago", TODAY, "past", "MDY", D(2026, 11, 13), None),
        ("2 weeks ago", TODAY, "past", "MDY", D(2026, 11, 6), None),
        ("two weeks ago", TODAY, "past", "MDY", D(2026, 11, 6), None),
        ("a month ago", TODAY, "past", "MDY", D(2026, 10, 20), None),
        ("last Monday", TODAY, "past", "MDY", D(2026, 11, 16), None),
        ("on Monday", TODAY, "past", "MDY", D(2026, 11, 16), None),
        ("this past monday", TODAY, "past", "MDY", D(2026, 11, 16), None),
        ("Friday", TODAY, "past", "MDY", D(2026, 11, 13), None),  # said on a Friday: a week ago
        ("monday", TODAY, "future", "MDY", D(2026, 11, 23), None),
        ("next Monday", TODAY, "future", "MDY", D(2026, 11, 23), None),
        ("tomorrow", TODAY, "future", "MDY", D(2026, 11, 21), None),
        ("in 2 weeks", TODAY, "future", "MDY", D(2026, 12, 4), None),
        ("in five days", TODAY, "future", "MDY", D(2026, 11, 25), None),
        # expected period dates without a year: the next one
        ("Dec 1", TODAY, "future", "MDY", D(2026, 12, 1), None),
        ("Nov 20", TODAY, "future", "MDY", TODAY, None),  # today counts
        ("Nov 20", TODAY, "past", "MDY", TODAY, None),
        ("Jan 19 2027", TODAY, "future", "MDY", D(2027, 1, 19), None),  # 60 days ahead: allowed
        # early January: a December date without a year is last year's
        ("Dec 28", EARLY_JAN, "past", "MDY", D(2026, 12, 28), None),
        ("12/28", EARLY_JAN, "past", "MDY", D(2026, 12, 28), None),
        ("the 28th", EARLY_JAN, "past", "MDY", D(2026, 12, 28), None),
        ("Jan 2", EARLY_JAN, "past", "MDY", D(2027, 1, 2), None),
        ("Jan 20", D(2026, 12, 28), "future", "MDY", D(2027, 1, 20), None),  # next year for a future date
        ("the 3rd", D(2026, 12, 28), "future", "MDY", D(2027, 1, 3), None),
        # leap years
        ("2/29/2028", LEAP_MARCH, "past", "MDY", D(2028, 2, 29), None),
        ("Feb 29", LEAP_MARCH, "past", "MDY", D(2028, 2, 29), None),
        ("29 February 2028", LEAP_MARCH, "past", "MDY", D(2028, 2, 29), None),
        ("Feb 29, 2027", PLAIN_MARCH, "past", "MDY", None, "impossible"),
        ("2/29/2027", PLAIN_MARCH, "past", "MDY", None, "impossible"),
        ("Feb 29", PLAIN_MARCH, "past", "MDY", None, "impossible"),  # no Feb 29 in the past year
        # impossible dates
        ("February 30", TODAY, "past", "MDY", None, "impossible"),
        ("Feb 30th", TODAY, "past", "MDY", None, "impossible"),
        ("30 Feb 2026", TODAY, "past", "MDY", None, "impossible"),
        ("Nov 31", TODAY, "past", "MDY", None, "impossible"),
        ("99/99/9999", TODAY, "past", "MDY", None, "impossible"),
        ("13/45", TODAY, "past", "MDY", None, "impossible"),  # dateparser alone reads 1945-11-13
        ("13/45", TODAY, "past", "DMY", None, "impossible"),
        ("13/3", TODAY, "past", "MDY", None, "impossible"),  # no month 13 in a US clinic
        ("0/12", TODAY, "past", "MDY", None, "impossible"),
        ("2026-13-01", TODAY, "past", "MDY", None, "impossible"),
        ("the 32nd", TODAY, "past", "MDY", None, "impossible"),
        # too old: more than a year before today
        ("May 1 1990", TODAY, "past", "MDY", D(1990, 5, 1), "too_old"),
        ("1990-05-01", TODAY, "past", "MDY", D(1990, 5, 1), "too_old"),
        ("11/19/2025", TODAY, "past", "MDY", D(2025, 11, 19), "too_old"),  # a year and a day
        ("11/20/2025", TODAY, "past", "MDY", D(2025, 11, 20), None),  # exactly a year: allowed
        ("1990-05-01", TODAY, "future", "MDY", D(1990, 5, 1), "too_old"),
        # too far: future date for a past event, expected period more than 60 days ahead
        ("tomorrow", TODAY, "past", "MDY", D(2026, 11, 21), "too_far"),
        ("11/25/2026", TODAY, "past", "MDY", D(2026, 11, 25), "too_far"),
        ("next Monday", TODAY, "past", "MDY", D(2026, 11, 23), "too_far"),
        ("11/3/2027", TODAY, "future", "MDY", D(2027, 11, 3), "too_far"),  # a year away
        ("Nov 3", TODAY, "future", "MDY", D(2027, 11, 3), "too_far"),  # next Nov 3 is a year away
        ("Jan 20 2027", TODAY, "future", "MDY", D(2027, 1, 20), "too_far"),  # 61 days
        ("in 3 months", TODAY, "future", "MDY", D(2027, 2, 20), "too_far"),
        # unreadable
        ("gibberish", TODAY, "past", "MDY", None, "unreadable"),
        ("", TODAY, "past", "MDY", None, "unreadable"),
        ("asdf 12", TODAY, "past", "MDY", None, "unreadable"),
        ("november", TODAY, "past", "MDY", None, "unreadable"),  # no day (dateparser would invent one)
        ("early november", TODAY, "past", "MDY", None, "unreadable"),
        ("3 days", TODAY, "past", "MDY", None, "unreadable"),  # a duration, not a date
        ("a few days ago", TODAY, "past", "MDY", None, "unreadable"),  # vague
    ],
)
def test_parse_date(
    text: str, today: date, expect: str, order: str, value: Optional[date], problem: Optional[str]
) -> None:
    """Each phrasing gives the right date or problem code."""
    assert parse_date(text, today, expect=expect, date_order=order) == ParsedDate(text, value, problem)  # type: ignore[arg-type]


def test_parse_date_not_before_anchor() -> None:
    """A stop date without a month is counted from the period start, not from today."""
    assert parse_date("the 8th", D(2026, 12, 10), not_before=D(2026, 11, 3)).value == D(2026, 11, 8)
    assert parse_date("Jan 2", EARLY_JAN, not_before=D(2026, 12, 28)).value == D(2027, 1, 2)


@pytest.mark.parametrize("kwargs", [{"expect": "soon"}, {"date_order": "YMD"}])
def test_parse_date_rejects_bad_options(kwargs: dict) -> None:
    """Unknown options are programming errors."""
    with pytest.raises(ValueError):
        parse_date("Nov 3", TODAY, **kwargs)


# ---------------------------------------------------------------- extract_dates

Expected = List[Tuple[str, Optional[date], Optional[str]]]


@pytest.mark.parametrize(
    "text, today, expected",
    [
        # the example from the issue
        (
            "my period started Nov 3 and stopped on the 8th",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        # same, lower-cased as Rasa passes it
        (
            "my period started november 3rd and stopped on the 8th.",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        # a lone date defaults to the period start
        ("Nov 3", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("the 12th", TODAY, [("period_start", D(2026, 11, 12), None)]),
        ("no, it was the 12th", TODAY, [("period_start", D(2026, 11, 12), None)]),  # correction
        ("last Monday", TODAY, [("period_start", D(2026, 11, 16), None)]),
        # period start wordings
        ("it began on 11/3", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("my LMP was 11/3", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("the first day of my last period was Oct 30", TODAY, [("period_start", D(2026, 10, 30), None)]),
        ("my period was 3 days ago", TODAY, [("period_start", D(2026, 11, 17), None)]),
        ("it started, I think, on Nov 3", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("Nov 3 is when it started", TODAY, [("period_start", D(2026, 11, 3), None)]),
        # bleeding end wordings
        ("bleeding stopped Nov 8", TODAY, [("bleeding_end", D(2026, 11, 8), None)]),
        ("it ended yesterday", TODAY, [("bleeding_end", D(2026, 11, 19), None)]),
        ("I finished on the 9th", TODAY, [("bleeding_end", D(2026, 11, 9), None)]),
        ("the last day of my period was Nov 8", TODAY, [("bleeding_end", D(2026, 11, 8), None)]),
        ("I was done bleeding on Monday", TODAY, [("bleeding_end", D(2026, 11, 16), None)]),
        # two dates in either order, ranges
        (
            "Nov 3 is when it started and Nov 8 is when it stopped",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        (
            "it began last monday and ended yesterday",
            TODAY,
            [("period_start", D(2026, 11, 16), None), ("bleeding_end", D(2026, 11, 19), None)],
        ),
        (
            "bleeding stopped on the 8th, it started on the 3rd",
            TODAY,
            [("bleeding_end", D(2026, 11, 8), None), ("period_start", D(2026, 11, 3), None)],
        ),
        ("Nov 3 to Nov 8", TODAY, [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)]),
        (
            "my period was from the 3rd through the 8th",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        # stop date without a month follows the start date (today is in December)
        (
            "it started Nov 3 and stopped on the 8th",
            D(2026, 12, 10),
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        (
            "it started Nov 28 and stopped on the 2nd",
            D(2026, 12, 10),
            [("period_start", D(2026, 11, 28), None), ("bleeding_end", D(2026, 12, 2), None)],
        ),
        # year boundary: December period told in early January
        (
            "my period started Dec 28 and stopped Jan 2",
            EARLY_JAN,
            [("period_start", D(2026, 12, 28), None), ("bleeding_end", D(2027, 1, 2), None)],
        ),
        # expected period (parsed as a future date)
        ("my next period is due Dec 1", TODAY, [("expected_period", D(2026, 12, 1), None)]),
        ("my next period should start on Dec 1st", TODAY, [("expected_period", D(2026, 12, 1), None)]),
        ("I'm expecting it on the 5th", TODAY, [("expected_period", D(2026, 12, 5), None)]),
        ("it will probably start on Monday", TODAY, [("expected_period", D(2026, 11, 23), None)]),
        (
            "my period started Nov 3 and my next period is due Dec 1",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("expected_period", D(2026, 12, 1), None)],
        ),
        ("next period expected 11/3/2027", TODAY, [("expected_period", D(2027, 11, 3), "too_far")]),
        # device placement
        ("I had Essure placed on March 3", TODAY, [("device_placed", D(2026, 3, 3), None)]),
        ("i got my adiana put in on 9/15", TODAY, [("device_placed", D(2026, 9, 15), None)]),
        ("I had my essure done on August 30", TODAY, [("device_placed", D(2026, 8, 30), None)]),
        ("the device was inserted on 2026-06-01", TODAY, [("device_placed", D(2026, 6, 1), None)]),
        ("they implanted it 2 months ago", TODAY, [("device_placed", D(2026, 9, 20), None)]),
        # problems are passed through
        ("my period started February 30", TODAY, [("period_start", None, "impossible")]),
        ("my period started May 1 1990", TODAY, [("period_start", D(1990, 5, 1), "too_old")]),
        ("it started 99/99/9999", TODAY, [("period_start", None, "impossible")]),
        # not dates
        ("the 2nd day of my period was Nov 4", TODAY, [("period_start", D(2026, 11, 4), None)]),
        ("this is the 1st time I have an HSG", TODAY, []),
        ("hello, what is an HSG?", TODAY, []),
        ("I am not sure", TODAY, []),
    ],
)
def test_extract_dates(text: str, today: date, expected: Expected) -> None:
    """Dates are found, given a role from nearby words and parsed for that role."""
    found = [(m.role, m.value, m.problem) for m in extract_dates(text, today)]
    assert found == expected


def test_extract_dates_keeps_text() -> None:
    """Each mention keeps the words the patient used."""
    assert extract_dates("my period started Nov 3rd", TODAY) == [
        DateMention("Nov 3rd", D(2026, 11, 3), None, "period_start")
    ]


def test_extract_dates_default_role_and_known_start() -> None:
    """The caller can say what was asked, and what period start is already known."""
    ended = extract_dates("the 8th", D(2026, 12, 10), default_role="bleeding_end", known_period_start=D(2026, 11, 3))
    assert [(m.role, m.value) for m in ended] == [("bleeding_end", D(2026, 11, 8))]
    expected = extract_dates("Dec 1", TODAY, default_role="expected_period")
    assert [(m.role, m.value) for m in expected] == [("expected_period", D(2026, 12, 1))]
    with pytest.raises(ValueError):
        extract_dates("Dec 1", TODAY, default_role="birthday")


def test_extract_dates_dmy() -> None:
    """The clinic's date order is used for numeric dates."""
    assert [m.value for m in extract_dates("it started 3/11", TODAY, "DMY")] == [D(2026, 11, 3)]


# ---------------------------------------------------------------- detect_flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("still bleeding", "still_bleeding"),
        ("I'm still bleeding", "still_bleeding"),
        ("it hasn't stopped", "still_bleeding"),
        ("it hasnt stopped", "still_bleeding"),
        ("it has not stopped", "still_bleeding"),
        ("not stopped yet", "still_bleeding"),
        ("I'm still on my period", "still_bleeding"),
        ("it isn't over yet", "still_bleeding"),
        ("not sure", "unsure"),
        ("I'm not really sure", "unsure"),
        ("I don't know", "unsure"),
        ("dont remember", "unsure"),
        ("I can't remember", "unsure"),
        ("no idea", "unsure"),
        ("unsure", "unsure"),
        ("idk", "unsure"),
        ("no periods", "no_periods"),
        ("I don't get periods", "no_periods"),
        ("I haven't had a period in months", "no_periods"),
        ("irregular, none since spring", "no_periods"),
        ("amenorrhea", "no_periods"),
        ("I stopped getting my periods", "no_periods"),
        ("no, it was the 12th", "correction"),
        ("no it was the 12th", "correction"),
        ("nope - the 4th", "correction"),
        ("actually the 4th", "correction"),
        ("I meant the 4th", "correction"),
        ("sorry, the 4th", "correction"),
        ("that's wrong, it was Nov 4", "correction"),
        ("no no no, the 19th", "correction"),
        ("not the 20th, the 19th", "correction"),
        ("not nov 20 but nov 19", "correction"),
    ],
)
def test_detect_flags_true(text: str, flag: str) -> None:
    """Each phrasing raises its flag, and only that one."""
    flags = detect_flags(text)
    assert flags[flag] is True  # type: ignore[literal-required]
    others = {k for k in ("still_bleeding", "unsure", "no_periods", "correction") if k != flag}
    assert not any(flags[k] for k in others), flags  # type: ignore[literal-required]


@pytest.mark.parametrize(
    "text",
    [
        "my period started Nov 3",  # plain answer
        "my period stopped on the 8th",  # "stopped" alone is not "still bleeding"
        "no",  # a bare no is a deny, not a correction
        "Nov 3",
        "I don't have cramps",  # "don't" alone is not unsure
    ],
)
def test_detect_flags_false(text: str) -> None:
    """Plain answers raise no flags."""
    flags = detect_flags(text)
    assert not any(flags[k] for k in ("still_bleeding", "unsure", "no_periods", "correction"))  # type: ignore[literal-required]
    assert flags["cycle_length"] is None


@pytest.mark.parametrize(
    "text, length",
    [
        ("my cycle is 32 days", 32),
        ("35 day cycles", 35),
        ("I have 28-day cycles", 28),
        ("my cycles are about 30 days long", 30),
        ("cycle length is 26 days", 26),
        ("my periods come every 33 days", 33),
        ("my cycle is 21 days", 21),  # lower limit
        ("my cycle is 45 days", 45),  # upper limit
        ("my cycle is 20 days", None),  # too short to trust
        ("my cycle is 60 days", None),  # too long to trust
        ("my period started Nov 3", None),
    ],
)
def test_detect_cycle_length(text: str, length: Optional[int]) -> None:
    """A stated cycle length is returned only when 21-45 days."""
    assert detect_flags(text)["cycle_length"] == length


# ---------------------------------------------------------------- nlp

Ents = List[Tuple[str, str]]


@pytest.mark.parametrize(
    "text, ents",
    [
        ("My period started November 3 and stopped on the 8th.", [("November 3", "DATE"), ("the 8th", "DATE")]),
        ("Nov 3rd, 2026", [("Nov 3rd, 2026", "DATE")]),
        ("Nov. 3", [("Nov. 3", "DATE")]),
        ("3 Nov", [("3 Nov", "DATE")]),
        ("the 3rd of November 2026", [("the 3rd of November 2026", "DATE")]),
        ("November 3rd of 2026", [("November 3rd of 2026", "DATE")]),
        ("the twenty-first of May", [("the twenty-first of May", "DATE")]),
        ("it was the 12th", [("the 12th", "DATE")]),
        ("11/3", [("11/3", "DATE")]),
        ("11/3/2026", [("11/3/2026", "DATE")]),
        ("2026-11-03", [("2026-11-03", "DATE")]),
        ("99/99/9999", [("99/99/9999", "DATE")]),
        ("today", [("today", "DATE")]),
        ("yesterday", [("yesterday", "DATE")]),
        ("3 days ago", [("3 days ago", "DATE")]),
        ("three days ago", [("three days ago", "DATE")]),
        ("a week ago", [("a week ago", "DATE")]),
        ("2 weeks ago", [("2 weeks ago", "DATE")]),
        ("a couple of days ago", [("a couple of days ago", "DATE")]),
        ("last Monday", [("last Monday", "DATE")]),
        ("on Monday", [("on Monday", "DATE")]),
        ("this morning", [("this morning", "DATE")]),
        ("in 2 weeks", [("in 2 weeks", "DATE")]),
        ("I had Essure placed on March 3", [("Essure", "DEVICE"), ("March 3", "DATE")]),
        ("got my ADIANA in June", [("ADIANA", "DEVICE")]),
        ("what is an HSG?", []),
    ],
)
def test_entity_ruler(text: str, ents: Ents) -> None:
    """DATE and DEVICE spans are found in original and lower-cased text."""
    nlp = get_nlp()
    assert [(e.text, e.label_) for e in nlp(text).ents] == ents
    assert [(e.text, e.label_) for e in nlp(text.lower()).ents] == [(t.lower(), label) for t, label in ents]


def test_get_nlp_is_cached() -> None:
    """get_nlp builds the pipeline once."""
    assert get_nlp() is get_nlp()
    assert build_nlp() is not get_nlp()


def test_the_fingerprint_follows_the_rules(monkeypatch) -> None:
    """A changed rule changes the pipeline's fingerprint (so Rasa retrains what depends on
    it); building again with the same rules does not."""
    from common import nlp

    before = pipeline_fingerprint()
    nlp.pipeline_fingerprint.cache_clear()
    assert nlp.pipeline_fingerprint() == before
    original = nlp._entity_patterns
    monkeypatch.setattr(nlp, "_entity_patterns", lambda: original() + [{"label": "DATE", "pattern": "payday"}])
    nlp.pipeline_fingerprint.cache_clear()
    try:
        assert nlp.pipeline_fingerprint() != before
    finally:
        monkeypatch.setattr(nlp, "_entity_patterns", original)
        nlp.pipeline_fingerprint.cache_clear()


def test_rasas_spacy_component_gets_the_pipeline_from_code() -> None:
    """components/spacy_nlp.py: the model Rasa's tokenizer and extractor get is the rules
    pipeline, named with the rules' fingerprint, and nothing is read from a folder."""
    from components.spacy_nlp import SpacyNLP

    model = SpacyNLP.load_model("ignored")
    assert model.model_name.endswith(pipeline_fingerprint())
    assert SpacyNLP.fingerprint_addon({}) == pipeline_fingerprint()
    doc = model.model("i had essure placed on nov 3rd and my period started 3 days ago")
    assert [(e.text, e.label_) for e in doc.ents] == [("essure", "DEVICE"), ("nov 3rd", "DATE"), ("3 days ago", "DATE")]


# ---------------------------------------------------------------- no Rasa

MODULES = ["common/nlp.py", "actions/dates.py", "actions/window.py"]


@pytest.mark.parametrize("module", MODULES)
def test_no_rasa_import_statements(module: str) -> None:
    """The date logic does not import rasa or rasa_sdk (checked on the source)."""
    tree = ast.parse((ROOT / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"rasa", "rasa_sdk"}


def test_no_rasa_in_sys_modules() -> None:
    """Importing the date logic loads neither rasa nor rasa_sdk (checked in a fresh interpreter)."""
    code = (
        "import sys, common.nlp, actions.dates, actions.window;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_actions_init_is_empty() -> None:
    """actions/__init__.py exists and is empty, so importing the package imports nothing else."""
    assert (ROOT / "actions" / "__init__.py").read_text().strip() == ""


# ---------------------------------------------------------------- Spanish (language="es")
# The same rules as English: the clinic's Spanish date order (clinic.yml date_order_es:
# DMY), years by expect, the same problem codes. TODAY is Friday, November 20, 2026.


@pytest.mark.parametrize(
    "text, today, expect, value, problem",
    [
        # month names, abbreviations, "de", optional year, ordinals
        ("3 de noviembre", TODAY, "past", D(2026, 11, 3), None),
        ("el 3 de noviembre", TODAY, "past", D(2026, 11, 3), None),
        ("el 3 de nov", TODAY, "past", D(2026, 11, 3), None),
        ("el 3 de nov.", TODAY, "past", D(2026, 11, 3), None),
        ("el 3 de noviembre de 2026", TODAY, "past", D(2026, 11, 3), None),
        ("el 3 de noviembre del 2026", TODAY, "past", D(2026, 11, 3), None),
        ("El 3 de Noviembre", TODAY, "past", D(2026, 11, 3), None),
        ("el día 3 de noviembre", TODAY, "past", D(2026, 11, 3), None),
        ("martes, 3 de noviembre", TODAY, "past", D(2026, 11, 3), None),  # leading weekday ignored
        ("noviembre 3", TODAY, "past", D(2026, 11, 3), None),
        ("el primero de noviembre", TODAY, "past", D(2026, 11, 1), None),
        ("el 1° de noviembre", TODAY, "past", D(2026, 11, 1), None),
        ("el 1ro de nov", TODAY, "past", D(2026, 11, 1), None),
        ("el treinta y uno de octubre", TODAY, "past", D(2026, 10, 31), None),
        ("el 14 de septiembre", TODAY, "past", D(2026, 9, 14), None),
        ("el 14 de setiembre", TODAY, "past", D(2026, 9, 14), None),
        # numbers: day first (DMY), with or without "el"
        ("3/11", TODAY, "past", D(2026, 11, 3), None),
        ("el 3/11", TODAY, "past", D(2026, 11, 3), None),
        ("el 3/11/2026", TODAY, "past", D(2026, 11, 3), None),
        ("el 11/3", TODAY, "past", D(2026, 3, 11), None),  # 11 de marzo
        ("12/30", TODAY, "past", None, "impossible"),  # no month 30
        # a bare day of the month
        ("el día 12", TODAY, "past", D(2026, 11, 12), None),
        ("el 12", TODAY, "past", D(2026, 11, 12), None),
        ("el 12", TODAY, "future", D(2026, 12, 12), None),
        ("del 3", TODAY, "past", D(2026, 11, 3), None),
        # relative days
        ("hoy", TODAY, "past", TODAY, None),
        ("esta mañana", TODAY, "past", TODAY, None),
        ("esta manana", TODAY, "past", TODAY, None),
        ("ayer", TODAY, "past", D(2026, 11, 19), None),
        ("ayer en la mañana", TODAY, "past", D(2026, 11, 19), None),
        ("anoche", TODAY, "past", D(2026, 11, 19), None),
        ("antier", TODAY, "past", D(2026, 11, 18), None),
        ("anteayer", TODAY, "past", D(2026, 11, 18), None),
        ("antes de ayer", TODAY, "past", D(2026, 11, 18), None),
        ("hace dos días", TODAY, "past", D(2026, 11, 18), None),
        ("hace 2 dias", TODAY, "past", D(2026, 11, 18), None),  # no accent
        ("hace un par de días", TODAY, "past", D(2026, 11, 18), None),
        ("hace una semana", TODAY, "past", D(2026, 11, 13), None),
        ("hace como 3 semanas", TODAY, "past", D(2026, 10, 30), None),
        ("hace un mes", TODAY, "past", D(2026, 10, 20), None),
        ("3 días atrás", TODAY, "past", D(2026, 11, 17), None),
        ("el lunes pasado", TODAY, "past", D(2026, 11, 16), None),
        ("el pasado lunes", TODAY, "past", D(2026, 11, 16), None),
        ("el lunes", TODAY, "past", D(2026, 11, 16), None),
        ("el miércoles", TODAY, "past", D(2026, 11, 18), None),
        ("el miercoles", TODAY, "past", D(2026, 11, 18), None),
        ("el viernes", TODAY, "past", D(2026, 11, 13), None),  # said on a Friday: a week ago
        ("el lunes", TODAY, "future", D(2026, 11, 23), None),
        ("el próximo lunes", TODAY, "future", D(2026, 11, 23), None),
        ("el lunes que viene", TODAY, "future", D(2026, 11, 23), None),
        ("mañana", TODAY, "future", D(2026, 11, 21), None),
        ("pasado mañana", TODAY, "future", D(2026, 11, 22), None),
        ("en dos semanas", TODAY, "future", D(2026, 12, 4), None),
        ("dentro de 5 días", TODAY, "future", D(2026, 11, 25), None),
        ("el 5 de diciembre", TODAY, "future", D(2026, 12, 5), None),
        # early January: a December date without a year is last year's
        ("el 28 de diciembre", EARLY_JAN, "past", D(2026, 12, 28), None),
        ("28/12", EARLY_JAN, "past", D(2026, 12, 28), None),
        # leap years and impossible dates
        ("29 de febrero de 2028", LEAP_MARCH, "past", D(2028, 2, 29), None),
        ("29 de febrero de 2027", PLAIN_MARCH, "past", None, "impossible"),
        ("30 de febrero", TODAY, "past", None, "impossible"),
        ("el 31 de noviembre", TODAY, "past", None, "impossible"),
        ("99/99/9999", TODAY, "past", None, "impossible"),
        ("el 32", TODAY, "past", None, "impossible"),
        # too old, a future date for a past event, a year ahead for an expected one
        ("3 de marzo de 1990", TODAY, "past", D(1990, 3, 3), "too_old"),
        ("19/11/2025", TODAY, "past", D(2025, 11, 19), "too_old"),
        ("el 25/11/2026", TODAY, "past", D(2026, 11, 25), "too_far"),
        ("mañana", TODAY, "past", D(2026, 11, 21), "too_far"),
        ("el próximo lunes", TODAY, "past", D(2026, 11, 23), "too_far"),
        ("el 3/11/2027", TODAY, "future", D(2027, 11, 3), "too_far"),
        ("el 3 de noviembre", TODAY, "future", D(2027, 11, 3), "too_far"),  # the next one is a year away
        ("en 3 meses", TODAY, "future", D(2027, 2, 20), "too_far"),
        # unreadable: rough or vague
        ("a principios de noviembre", TODAY, "past", None, "unreadable"),
        ("noviembre", TODAY, "past", None, "unreadable"),
        ("hace unos días", TODAY, "past", None, "unreadable"),
        ("3 días", TODAY, "past", None, "unreadable"),  # a duration, not a date
        # English in a Spanish conversation still reads
        ("yesterday", TODAY, "past", D(2026, 11, 19), None),
        ("Nov 3", TODAY, "past", D(2026, 11, 3), None),
    ],
)
def test_parse_date_spanish(text: str, today: date, expect: str, value: Optional[date], problem: Optional[str]) -> None:
    """Each Spanish phrasing gives the right date or problem code (day-first numbers)."""
    parsed = parse_date(text, today, expect=expect, date_order="DMY", language="es")  # type: ignore[arg-type]
    assert parsed == ParsedDate(text, value, problem)


def test_spanish_words_do_not_change_english_parsing() -> None:
    """Without language="es" the Spanish words are not read: English behaviour is unchanged."""
    assert parse_date("ayer", TODAY).problem == "unreadable"
    assert parse_date("el 3 de noviembre", TODAY).problem == "unreadable"
    assert parse_date("3/11", TODAY).value == D(2026, 3, 11)  # the English (MDY) order


@pytest.mark.parametrize(
    "text, today, expected",
    [
        # period start wordings
        ("mi regla empezó el 3 de noviembre", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("Mi regla empezó el 3 de Noviembre.", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("comenzó el 3 de nov", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("inició el 3/11", TODAY, [("period_start", D(2026, 11, 3), None)]),
        ("me bajó hace dos días", TODAY, [("period_start", D(2026, 11, 18), None)]),
        ("me llegó el lunes pasado", TODAY, [("period_start", D(2026, 11, 16), None)]),
        ("me bajó ayer en la mañana", TODAY, [("period_start", D(2026, 11, 19), None)]),
        ("el primer día de mi regla fue el 30 de octubre", TODAY, [("period_start", D(2026, 10, 30), None)]),
        ("mi última regla fue el 30 de octubre", TODAY, [("period_start", D(2026, 10, 30), None)]),
        ("el 3 de noviembre", TODAY, [("period_start", D(2026, 11, 3), None)]),  # a lone date
        ("el día 12", TODAY, [("period_start", D(2026, 11, 12), None)]),
        ("el 12", TODAY, [("period_start", D(2026, 11, 12), None)]),
        ("hoy", TODAY, [("period_start", TODAY, None)]),
        ("antier", TODAY, [("period_start", D(2026, 11, 18), None)]),
        ("anteayer", TODAY, [("period_start", D(2026, 11, 18), None)]),
        ("hace 2 dias", TODAY, [("period_start", D(2026, 11, 18), None)]),
        ("hace una semana", TODAY, [("period_start", D(2026, 11, 13), None)]),
        ("el lunes", TODAY, [("period_start", D(2026, 11, 16), None)]),
        # bleeding end wordings
        ("terminó el 8", TODAY, [("bleeding_end", D(2026, 11, 8), None)]),
        ("se me quitó ayer", TODAY, [("bleeding_end", D(2026, 11, 19), None)]),
        ("dejé de sangrar el lunes", TODAY, [("bleeding_end", D(2026, 11, 16), None)]),
        ("paró antier", TODAY, [("bleeding_end", D(2026, 11, 18), None)]),
        ("acabó el 8 de noviembre", TODAY, [("bleeding_end", D(2026, 11, 8), None)]),
        ("el último día de mi regla fue el 8", TODAY, [("bleeding_end", D(2026, 11, 8), None)]),
        # two dates, either order, ranges
        (
            "me bajó el 3 y terminó el 8",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        (
            "mi regla empezó el 3 de noviembre y se me quitó el 8",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        (
            "comenzó el lunes pasado y paró ayer",
            TODAY,
            [("period_start", D(2026, 11, 16), None), ("bleeding_end", D(2026, 11, 19), None)],
        ),
        (
            "terminó el 8, empezó el 3",
            TODAY,
            [("bleeding_end", D(2026, 11, 8), None), ("period_start", D(2026, 11, 3), None)],
        ),
        (
            "mi regla fue del 3 al 8 de noviembre",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("bleeding_end", D(2026, 11, 8), None)],
        ),
        (
            "del 28 de octubre al 2 de noviembre",
            TODAY,
            [("period_start", D(2026, 10, 28), None), ("bleeding_end", D(2026, 11, 2), None)],
        ),
        # a stop date without a month follows the start date (today is in December)
        (
            "empezó el 28 de noviembre y terminó el 2",
            D(2026, 12, 10),
            [("period_start", D(2026, 11, 28), None), ("bleeding_end", D(2026, 12, 2), None)],
        ),
        # expected period
        ("me toca el 5 de diciembre", TODAY, [("expected_period", D(2026, 12, 5), None)]),
        ("me debe bajar el 5 de diciembre", TODAY, [("expected_period", D(2026, 12, 5), None)]),
        ("espero mi regla el 5", TODAY, [("expected_period", D(2026, 12, 5), None)]),
        ("mi próxima regla es el 1 de diciembre", TODAY, [("expected_period", D(2026, 12, 1), None)]),
        ("me va a bajar el lunes", TODAY, [("expected_period", D(2026, 11, 23), None)]),
        ("me baja el 5", TODAY, [("expected_period", D(2026, 12, 5), None)]),
        (
            "me bajó el 3 de noviembre y me toca el 1 de diciembre",
            TODAY,
            [("period_start", D(2026, 11, 3), None), ("expected_period", D(2026, 12, 1), None)],
        ),
        ("mi próxima regla es el 3/11/2027", TODAY, [("expected_period", D(2027, 11, 3), "too_far")]),
        # device placement
        ("me pusieron el Essure el 3 de marzo", TODAY, [("device_placed", D(2026, 3, 3), None)]),
        ("me colocaron el adiana el 15/9", TODAY, [("device_placed", D(2026, 9, 15), None)]),
        ("me pusieron el dispositivo hace 2 meses", TODAY, [("device_placed", D(2026, 9, 20), None)]),
        # problems are passed through
        ("mi regla empezó el 30 de febrero", TODAY, [("period_start", None, "impossible")]),
        ("me bajó el 3 de marzo de 1990", TODAY, [("period_start", D(1990, 3, 3), "too_old")]),
        ("mi regla empezó el 25/11/2026", TODAY, [("period_start", D(2026, 11, 25), "too_far")]),
        # not dates
        ("a principios de noviembre", TODAY, []),
        ("el 2 de mi regla fue el 4 de nov", TODAY, [("period_start", D(2026, 11, 4), None)]),
        ("el día 12 del ciclo es muy tarde?", TODAY, []),
        ("me hicieron el hsg en la mañana", TODAY, []),
        ("del 1 al 10 cuánto duele", TODAY, []),
        ("¿qué es la histerosalpingografía?", TODAY, []),
        ("no estoy segura", TODAY, []),
    ],
)
def test_extract_dates_spanish(text: str, today: date, expected: Expected) -> None:
    """Spanish dates are found and given a role from the Spanish words around them."""
    found = [(m.role, m.value, m.problem) for m in extract_dates(text, today, "DMY", language="es")]
    assert found == expected


def test_extract_dates_spanish_keeps_text() -> None:
    """Each mention keeps the patient's words (shown back when a date is refused)."""
    assert extract_dates("mi regla empezó el 3 de nov.", TODAY, "DMY", language="es") == [
        DateMention("el 3 de nov.", D(2026, 11, 3), None, "period_start")
    ]


@pytest.mark.parametrize(
    "text, flag",
    [
        ("todavía estoy sangrando", "still_bleeding"),
        ("todavia estoy sangrando", "still_bleeding"),
        ("sigo con la regla", "still_bleeding"),
        ("sigo sangrando", "still_bleeding"),
        ("aún no termina", "still_bleeding"),
        ("aun no se me quita", "still_bleeding"),
        ("no se me quita", "still_bleeding"),
        ("no ha parado", "still_bleeding"),
        ("todavía tengo la regla", "still_bleeding"),
        ("no estoy segura", "unsure"),
        ("No estoy seguro", "unsure"),
        ("más o menos", "unsure"),
        ("creo que", "unsure"),
        ("no sé", "unsure"),
        ("no me acuerdo", "unsure"),
        ("ni idea", "unsure"),
        ("no me ha bajado", "no_periods"),
        ("no tengo regla", "no_periods"),
        ("no me baja", "no_periods"),
        ("no he tenido mi regla en meses", "no_periods"),
        ("no, fue el 12", "correction"),
        ("perdón, el 19", "correction"),
        ("perdon, el 19", "correction"),
        ("no, no, el 19", "correction"),
        ("no no, el 19", "correction"),
        ("no el 20, el 19", "correction"),
        ("me equivoqué, fue el 12", "correction"),
        ("corrijo: el 12", "correction"),
    ],
)
def test_detect_flags_spanish_true(text: str, flag: str) -> None:
    """Each Spanish phrasing raises its flag, and only that one."""
    flags = detect_flags(text, "es")
    assert flags[flag] is True  # type: ignore[literal-required]
    others = {k for k in ("still_bleeding", "unsure", "no_periods", "correction") if k != flag}
    assert not any(flags[k] for k in others), flags  # type: ignore[literal-required]


@pytest.mark.parametrize(
    "text",
    [
        "mi regla empezó el 3 de noviembre",
        "terminó el 8",
        "no",
        "no no",
        "el 3 de noviembre",
        "no tengo cólicos",
        "no tengo dolor y dejé de sangrar el 8",
    ],
)
def test_detect_flags_spanish_false(text: str) -> None:
    """Plain Spanish answers raise no flags ("no" alone is a no, not a correction)."""
    flags = detect_flags(text, "es")
    raised = [k for k in ("still_bleeding", "unsure", "no_periods", "correction") if flags[k]]  # type: ignore[literal-required]
    assert raised == [], flags
    assert flags["cycle_length"] is None


@pytest.mark.parametrize(
    "text, yes, no",
    [
        ("sí", True, False),
        ("si", True, False),
        ("ya me bajó", True, False),
        ("claro que sí", True, False),
        ("no", False, True),
        ("todavía no", False, True),
        ("aún no", False, True),
        ("y terminó el 8", False, False),
    ],  # "y" is "and", not "yes"
)
def test_detect_yes_no_spanish(text: str, yes: bool, no: bool) -> None:
    """Short Spanish answers to "has a new period started since then?"."""
    flags = detect_flags(text, "es")
    assert (flags["yes"], flags["no"]) == (yes, no)


@pytest.mark.parametrize(
    "text, length",
    [
        ("mi ciclo es de 30 días", 30),
        ("ciclos de 32 días", 32),
        ("mis ciclos son de 28 dias", 28),
        ("mi ciclo dura 26 días", 26),
        ("ciclo de 35", 35),
        ("me baja cada 33 días", 33),
        ("tengo ciclos de 21 días", 21),
        ("mi ciclo es de 45 días", 45),
        ("mi ciclo es de 20 días", None),  # too short to trust
        ("mi ciclo es de 60 días", None),  # too long to trust
        ("my cycle is 32 days", 32),  # English still read
        ("mi regla empezó el 3 de noviembre", None),
    ],
)
def test_detect_cycle_length_spanish(text: str, length: Optional[int]) -> None:
    """A stated Spanish cycle length, only when 21-45 days."""
    assert detect_flags(text, "es")["cycle_length"] == length


def test_spanish_flags_are_not_read_in_english() -> None:
    """An English conversation's flags are the English ones only."""
    assert detect_flags("todavía estoy sangrando") == detect_flags("hello")
    assert detect_flags("y", "en")["yes"] is True and detect_flags("y", "es")["yes"] is False


@pytest.mark.parametrize(
    "text, ents",
    [
        ("Mi regla empezó el 3 de noviembre", [("el 3 de noviembre", "DATE")]),
        ("el 3 de nov", [("el 3 de nov", "DATE")]),
        ("el 3 de noviembre de 2026", [("el 3 de noviembre de 2026", "DATE")]),
        ("3/11", [("3/11", "DATE")]),
        ("el 3/11", [("el 3/11", "DATE")]),
        ("hoy", [("hoy", "DATE")]),
        ("ayer", [("ayer", "DATE")]),
        ("antier", [("antier", "DATE")]),
        ("anteayer", [("anteayer", "DATE")]),
        ("hace dos días", [("hace dos días", "DATE")]),
        ("hace 2 dias", [("hace 2 dias", "DATE")]),
        ("hace una semana", [("hace una semana", "DATE")]),
        ("el lunes pasado", [("el lunes pasado", "DATE")]),
        ("el lunes", [("el lunes", "DATE")]),
        ("el día 12", [("el día 12", "DATE")]),
        ("fue el 12", [("el 12", "DATE")]),
        ("30 de febrero", [("30 de febrero", "DATE")]),
        ("me bajó el 1° de noviembre", [("el 1° de noviembre", "DATE")]),
        ("del 3 al 8 de noviembre", [("del 3", "DATE"), ("8 de noviembre", "DATE")]),
        ("me pusieron el Essure el 3 de marzo", [("Essure", "DEVICE"), ("el 3 de marzo", "DATE")]),
        ("a principios de noviembre", []),
        ("¿qué es la histerosalpingografía?", []),
    ],
)
def test_entity_ruler_spanish(text: str, ents: Ents) -> None:
    """The one pipeline also tags Spanish dates (the NLU's DATE entity and the actions)."""
    nlp = get_nlp()
    assert [(e.text, e.label_) for e in nlp(text).ents] == ents
    assert [(e.text, e.label_) for e in nlp(text.lower()).ents] == [(t.lower(), label) for t, label in ents]


@pytest.mark.parametrize(
    "text, before, after",
    [
        ("no, fue el 12", "deny", "inform"),
        ("no no, el 19", "deny", "inform"),
        ("perdón, el 19", "nlu_fallback", "inform"),
        ("me equivoqué, fue el 12", "nlu_fallback", "inform"),
        ("corrijo: el 12", "nlu_fallback", "inform"),
        ("no el 20, el 19", "deny", "inform"),
        ("no, gracias", "deny", "deny"),  # no date: a plain no
        ("me gustaría saber más sobre el estudio que me hicieron el 12", "nlu_fallback", "nlu_fallback"),
    ],  # a story
)
def test_spanish_correction_makes_a_dated_no_a_date(text: str, before: str, after: str) -> None:
    """components/date_correction.py: a Spanish "no" / "perdón" with a date becomes inform."""
    from rasa.shared.nlu.training_data.message import Message

    from components.date_correction import DateCorrection

    entities = [{"entity": e.label_, "value": e.text} for e in get_nlp()(text).ents]
    message = Message(data={"text": text, "intent": {"name": before, "confidence": 0.9}, "entities": entities})
    DateCorrection().process([message])
    assert message.get("intent")["name"] == after
