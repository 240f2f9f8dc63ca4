"""Rule-based spaCy pipeline that tags DATE and DEVICE mentions (no pretrained model)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, Dict, List

import spacy
from spacy.language import Language

MODEL_NAME = "hsg_dates"
MODEL_VERSION = "1.0.0"

MONTH_RE = (
    r"^(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august"
    r"|sep|sept|september|oct|october|nov|november|dec|december)\.?$"
)
DAY_RE = r"^\d{1,2}(st|nd|rd|th)?$"
ORDINAL_RE = r"^\d{1,2}(st|nd|rd|th)$"
YEAR_RE = r"^(19|20)\d{2}$"
SLASH_DATE_RE = (
    r"^(\d{1,2}/\d{1,2}(/(\d{2}|\d{4}))?|\d{1,2}\.\d{1,2}\.(\d{2}|\d{4})|\d{4}[/.]\d{1,2}[/.]\d{1,2})$"
)
ORDINAL_WORDS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth",
]
UNIT_ORDINAL_WORDS = ORDINAL_WORDS[:9]
NUMBER_WORDS = [
    "a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "fourteen", "twenty", "thirty",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
UNITS = ["day", "days", "week", "weeks", "month", "months"]
DEVICE_RE = r"^(essure|esure|essur|adiana)$"

Pattern = List[Dict[str, Any]]

MONTH: Dict[str, Any] = {"LOWER": {"REGEX": MONTH_RE}}
DOT: Dict[str, Any] = {"ORTH": ".", "OP": "?"}
THE_OPT: Dict[str, Any] = {"LOWER": "the", "OP": "?"}
OF_OPT: Dict[str, Any] = {"LOWER": "of", "OP": "?"}
COMMA_OPT: Dict[str, Any] = {"ORTH": ",", "OP": "?"}
DAY: Dict[str, Any] = {"LOWER": {"REGEX": DAY_RE}}
YEAR: Dict[str, Any] = {"TEXT": {"REGEX": YEAR_RE}}
ORD_WORD: Dict[str, Any] = {"LOWER": {"IN": ORDINAL_WORDS}}
COMPOUND_ORD: Pattern = [
    {"LOWER": {"IN": ["twenty", "thirty"]}},
    {"ORTH": "-", "OP": "?"},
    {"LOWER": {"IN": UNIT_ORDINAL_WORDS}},
]
AMOUNT: Dict[str, Any] = {"LOWER": {"REGEX": r"^(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")$"}}
UNIT: Dict[str, Any] = {"LOWER": {"IN": UNITS}}
WEEKDAY: Dict[str, Any] = {"LOWER": {"IN": WEEKDAYS}}


def _with_optional_year(base: Pattern) -> List[Pattern]:
    """Return the pattern alone and followed by an optional comma/'of' and a year."""
    return [base, base + [COMMA_OPT, OF_OPT, YEAR]]


def _date_patterns() -> List[Pattern]:
    """Token patterns for absolute and relative date expressions."""
    month_first_days: List[Pattern] = [[DAY], [ORD_WORD], COMPOUND_ORD]
    patterns: List[Pattern] = []
    # "November 3", "Nov. 3rd, 2026", "november the third", "Nov 3rd of 2026"
    for day in month_first_days:
        patterns += _with_optional_year([MONTH, DOT, THE_OPT] + day)
    # "3 Nov", "3rd of November 2026", "the third of november"
    patterns += _with_optional_year([THE_OPT, DAY, OF_OPT, MONTH, DOT])
    patterns += _with_optional_year([THE_OPT, ORD_WORD, {"LOWER": "of"}, MONTH, DOT])
    patterns += _with_optional_year([THE_OPT] + COMPOUND_ORD + [{"LOWER": "of"}, MONTH, DOT])
    # "the 12th"
    patterns.append([{"LOWER": "the"}, {"LOWER": {"REGEX": ORDINAL_RE}}])
    # "11/3", "11/3/2026", "3.11.2026", "2026/11/03" (single tokens)
    patterns.append([{"TEXT": {"REGEX": SLASH_DATE_RE}}])
    # "2026-11-03" and "11-3-2026" are split on hyphens by the tokenizer
    patterns.append([
        {"TEXT": {"REGEX": r"^\d{4}$"}}, {"ORTH": "-"},
        {"TEXT": {"REGEX": r"^\d{1,2}$"}}, {"ORTH": "-"}, {"TEXT": {"REGEX": r"^\d{1,2}$"}},
    ])
    patterns.append([
        {"TEXT": {"REGEX": r"^\d{1,2}$"}}, {"ORTH": "-"},
        {"TEXT": {"REGEX": r"^\d{1,2}$"}}, {"ORTH": "-"}, {"TEXT": {"REGEX": r"^(\d{2}|\d{4})$"}},
    ])
    # relative expressions
    patterns.append([{"LOWER": {"IN": ["today", "yesterday", "tonight", "tomorrow"]}}])
    patterns.append([{"LOWER": "this"}, {"LOWER": {"IN": ["morning", "afternoon", "evening"]}}])
    patterns.append([{"LOWER": "last"}, {"LOWER": "night"}])
    patterns.append([THE_OPT, {"LOWER": "day"}, {"LOWER": {"IN": ["before", "after"]}},
                     {"LOWER": {"IN": ["yesterday", "tomorrow"]}}])
    patterns.append([AMOUNT, UNIT, {"LOWER": "ago"}])
    patterns.append([{"LOWER": "a", "OP": "?"}, {"LOWER": "couple"}, OF_OPT, UNIT, {"LOWER": "ago"}])
    patterns.append([{"LOWER": "in"}, AMOUNT, UNIT])
    patterns.append([{"LOWER": "in"}, {"LOWER": "a", "OP": "?"}, {"LOWER": "couple"}, OF_OPT, UNIT])
    patterns.append([WEEKDAY])
    patterns.append([{"LOWER": {"IN": ["last", "on", "next", "this", "past"]}}, WEEKDAY])
    patterns.append([{"LOWER": "this"}, {"LOWER": "past"}, WEEKDAY])
    return patterns


def _entity_patterns() -> List[Dict[str, Any]]:
    """All entity-ruler patterns with their labels."""
    dates = [{"label": "DATE", "pattern": p} for p in _date_patterns()]
    devices = [{"label": "DEVICE", "pattern": [{"LOWER": {"REGEX": DEVICE_RE}}]}]
    return dates + devices


def build_nlp() -> Language:
    """Build a blank English pipeline with a DATE/DEVICE entity ruler."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(_entity_patterns())  # type: ignore[attr-defined]
    nlp.meta["name"] = MODEL_NAME
    nlp.meta["version"] = MODEL_VERSION
    nlp.meta["description"] = "Rule-based DATE and DEVICE entities for the HSG assistant"
    return nlp


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """Return a cached pipeline instance."""
    return build_nlp()


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """A hash of everything the pipeline does (its patterns, labels and spaCy's version):
    it changes whenever a rule changes, so Rasa's training cache retrains what depends
    on the pipeline (components/spacy_nlp.py)."""
    content = json.dumps({"patterns": _entity_patterns(), "spacy": spacy.__version__, "version": MODEL_VERSION},
                         sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:16]
