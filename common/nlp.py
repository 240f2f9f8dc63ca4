"""Rule-based spaCy pipeline that tags DATE and DEVICE mentions (no pretrained model).

One pipeline for both languages: the Spanish patterns ("el 3 de noviembre", "hace dos
días", "el lunes pasado", "el 3/11") sit beside the English ones and use words no
English date uses, so English messages are tagged exactly as before."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, Dict, List

import spacy
from spacy.language import Language

MODEL_NAME = "hsg_dates"
MODEL_VERSION = "1.1.0"

MONTH_RE = (
    r"^(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august"
    r"|sep|sept|september|oct|october|nov|november|dec|december)\.?$"
)
DAY_RE = r"^\d{1,2}(st|nd|rd|th)?$"
ORDINAL_RE = r"^\d{1,2}(st|nd|rd|th)$"
YEAR_RE = r"^(19|20)\d{2}$"
SLASH_DATE_RE = r"^(\d{1,2}/\d{1,2}(/(\d{2}|\d{4}))?|\d{1,2}\.\d{1,2}\.(\d{2}|\d{4})|\d{4}[/.]\d{1,2}[/.]\d{1,2})$"
ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
]
UNIT_ORDINAL_WORDS = ORDINAL_WORDS[:9]
NUMBER_WORDS = [
    "a",
    "an",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fourteen",
    "twenty",
    "thirty",
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
    patterns.append(
        [
            {"TEXT": {"REGEX": r"^\d{4}$"}},
            {"ORTH": "-"},
            {"TEXT": {"REGEX": r"^\d{1,2}$"}},
            {"ORTH": "-"},
            {"TEXT": {"REGEX": r"^\d{1,2}$"}},
        ]
    )
    patterns.append(
        [
            {"TEXT": {"REGEX": r"^\d{1,2}$"}},
            {"ORTH": "-"},
            {"TEXT": {"REGEX": r"^\d{1,2}$"}},
            {"ORTH": "-"},
            {"TEXT": {"REGEX": r"^(\d{2}|\d{4})$"}},
        ]
    )
    # relative expressions
    patterns.append([{"LOWER": {"IN": ["today", "yesterday", "tonight", "tomorrow"]}}])
    patterns.append([{"LOWER": "this"}, {"LOWER": {"IN": ["morning", "afternoon", "evening"]}}])
    patterns.append([{"LOWER": "last"}, {"LOWER": "night"}])
    patterns.append(
        [
            THE_OPT,
            {"LOWER": "day"},
            {"LOWER": {"IN": ["before", "after"]}},
            {"LOWER": {"IN": ["yesterday", "tomorrow"]}},
        ]
    )
    patterns.append([AMOUNT, UNIT, {"LOWER": "ago"}])
    patterns.append([{"LOWER": "a", "OP": "?"}, {"LOWER": "couple"}, OF_OPT, UNIT, {"LOWER": "ago"}])
    patterns.append([{"LOWER": "in"}, AMOUNT, UNIT])
    patterns.append([{"LOWER": "in"}, {"LOWER": "a", "OP": "?"}, {"LOWER": "couple"}, OF_OPT, UNIT])
    patterns.append([WEEKDAY])
    patterns.append([{"LOWER": {"IN": ["last", "on", "next", "this", "past"]}}, WEEKDAY])
    patterns.append([{"LOWER": "this"}, {"LOWER": "past"}, WEEKDAY])
    return patterns


# ---------------------------------------------------------------- Spanish
# Month names and abbreviations after "de" ("3 de nov."); month first ("noviembre 3")
# only with names that are no English word ("set", "ago" and "mar" are).
MONTH_ES_RE = (
    r"^(ene|enero|feb|febrero|mar|marzo|abr|abril|may|mayo|jun|junio|jul|julio|ago|agosto"
    r"|sep|sept|set|septiembre|setiembre|oct|octubre|nov|noviembre|dic|diciembre)\.?$"
)
MONTH_ES_FIRST_RE = (
    r"^(ene|enero|febrero|marzo|abr|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|dic|diciembre)\.?$"
)
DAY_ES_RE = r"^(\d{1,2}|1(ro|er|º|°|o))$"
DAY_WORDS_ES = [
    "primero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "dieciseis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintiún",
    "veintidós",
    "veintidos",
    "veintitrés",
    "veintitres",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintiseis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
    "treinta",
]
AMOUNT_WORDS_ES = [
    "un",
    "una",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "veinte",
    "treinta",
]
UNITS_ES = ["día", "días", "dia", "dias", "semana", "semanas", "mes", "meses"]
WEEKDAYS_ES = ["lunes", "martes", "miércoles", "miercoles", "jueves", "viernes", "sábado", "sabado", "domingo"]
PARTS_OF_DAY_ES = ["mañana", "manana", "tarde", "noche"]

MONTH_ES: Dict[str, Any] = {"LOWER": {"REGEX": MONTH_ES_RE}}
MONTH_ES_FIRST: Dict[str, Any] = {"LOWER": {"REGEX": MONTH_ES_FIRST_RE}}
DE: Dict[str, Any] = {"LOWER": "de"}
DET_ES: Dict[str, Any] = {"LOWER": {"IN": ["el", "del"]}}
DET_ES_OPT: Dict[str, Any] = {**DET_ES, "OP": "?"}
DIA_OPT: Dict[str, Any] = {"LOWER": {"IN": ["día", "dia"]}, "OP": "?"}
DEGREE_OPT: Dict[str, Any] = {"ORTH": {"IN": ["°", "º"]}, "OP": "?"}
DAY_ES: Dict[str, Any] = {"LOWER": {"REGEX": DAY_ES_RE}}
DAY_WORD_ES: Dict[str, Any] = {"LOWER": {"IN": DAY_WORDS_ES}}
THIRTY_ONE_ES: Pattern = [{"LOWER": "treinta"}, {"LOWER": "y"}, {"LOWER": {"IN": ["uno", "un"]}}]
AMOUNT_ES: Dict[str, Any] = {"LOWER": {"REGEX": r"^(\d{1,2}|" + "|".join(AMOUNT_WORDS_ES) + r")$"}}
UNIT_ES: Dict[str, Any] = {"LOWER": {"IN": UNITS_ES}}
ABOUT_ES_OPT: Dict[str, Any] = {"LOWER": {"IN": ["como", "unos", "unas", "aproximadamente", "aprox"]}, "OP": "?"}
WEEKDAY_ES: Dict[str, Any] = {"LOWER": {"IN": WEEKDAYS_ES}}
WEEKDAY_DET_OPT: Dict[str, Any] = {"LOWER": {"IN": ["el", "este", "del"]}, "OP": "?"}
PAST_ES: Dict[str, Any] = {"LOWER": {"IN": ["pasado", "próximo", "proximo", "entrante"]}}
YESTERDAY_ES = ["hoy", "ayer", "anoche", "antier", "anteayer", "antenoche"]


def _with_optional_year_es(base: Pattern) -> List[Pattern]:
    """The pattern alone and followed by "de 2026", "del 2026", ", 2026" or "2026"."""
    return [base, base + [{"LOWER": {"IN": ["de", "del", ","]}, "OP": "?"}, YEAR]]


def _date_patterns_es() -> List[Pattern]:
    """Token patterns for Spanish date expressions."""
    patterns: List[Pattern] = []
    days: List[Pattern] = [[DAY_ES, DEGREE_OPT], [DAY_WORD_ES], THIRTY_ONE_ES]
    # "3 de noviembre", "el 3 de nov. de 2026", "el día 1° de noviembre", "el primero de mayo"
    for day in days:
        patterns += _with_optional_year_es([DET_ES_OPT, DIA_OPT] + day + [DE, MONTH_ES, DOT])
    # "noviembre 3", "noviembre 3 de 2026"
    patterns += _with_optional_year_es([MONTH_ES_FIRST, DOT, {"LOWER": {"REGEX": r"^\d{1,2}$"}}])
    # "el 12", "el día 12", "del 3", "el 3/11", "el primero"
    patterns.append([DET_ES, DIA_OPT, DAY_ES, DEGREE_OPT])
    patterns.append([DET_ES, DIA_OPT, {"LOWER": "primero"}])
    patterns.append([{"LOWER": {"IN": ["día", "dia"]}}, {"LOWER": {"REGEX": r"^\d{1,2}$"}}])
    patterns.append([DET_ES, {"TEXT": {"REGEX": SLASH_DATE_RE}}])
    # relative days
    patterns.append([{"LOWER": {"IN": YESTERDAY_ES}}])
    patterns.append(
        [
            {"LOWER": {"IN": YESTERDAY_ES}},
            {"LOWER": {"IN": ["en", "por", "a"]}},
            {"LOWER": "la"},
            {"LOWER": {"IN": PARTS_OF_DAY_ES}},
        ]
    )
    patterns.append([{"LOWER": "antes"}, DE, {"LOWER": {"IN": ["ayer", "anoche"]}}])
    patterns.append([{"LOWER": "esta"}, {"LOWER": {"IN": PARTS_OF_DAY_ES}}])
    patterns.append([{"LOWER": {"IN": ["mañana", "manana"]}}])
    patterns.append([{"LOWER": "pasado"}, {"LOWER": {"IN": ["mañana", "manana"]}}])
    # "hace dos días", "hace como 3 semanas", "hace un par de días", "3 días atrás"
    patterns.append([{"LOWER": "hace"}, ABOUT_ES_OPT, AMOUNT_ES, UNIT_ES])
    patterns.append([{"LOWER": "hace"}, {"LOWER": "un"}, {"LOWER": "par"}, DE, UNIT_ES])
    patterns.append([AMOUNT_ES, UNIT_ES, {"LOWER": {"IN": ["atrás", "atras"]}}])
    # "en 2 semanas", "dentro de cinco días"
    patterns.append([{"LOWER": "en"}, AMOUNT_ES, UNIT_ES])
    patterns.append([{"LOWER": "dentro"}, DE, AMOUNT_ES, UNIT_ES])
    patterns.append([{"LOWER": "en"}, {"LOWER": "un"}, {"LOWER": "par"}, DE, UNIT_ES])
    # "el lunes", "el lunes pasado", "el pasado lunes", "el próximo lunes", "el lunes que viene"
    patterns.append([WEEKDAY_DET_OPT, WEEKDAY_ES])
    patterns.append([WEEKDAY_DET_OPT, WEEKDAY_ES, PAST_ES])
    patterns.append([WEEKDAY_DET_OPT, PAST_ES, WEEKDAY_ES])
    patterns.append([WEEKDAY_DET_OPT, WEEKDAY_ES, {"LOWER": "que"}, {"LOWER": {"IN": ["viene", "pasó", "paso"]}}])
    return patterns


def _entity_patterns() -> List[Dict[str, Any]]:
    """All entity-ruler patterns with their labels."""
    dates = [{"label": "DATE", "pattern": p} for p in _date_patterns() + _date_patterns_es()]
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
    content = json.dumps(
        {"patterns": _entity_patterns(), "spacy": spacy.__version__, "version": MODEL_VERSION}, sort_keys=True
    )
    return hashlib.sha256(content.encode()).hexdigest()[:16]
