"""Which language a patient writes in: Spanish, English, or not sure (no Rasa imports).

    detect("¿me duele mucho el hsg?")  -> "es"
    detect("does it hurt a lot?")      -> "en"
    detect("ok") / detect("11/3")      -> None   (short replies keep the conversation's language)

Counted from a word list (common/language_words.yml): Spanish and English function
words and everyday words, plus the marks only Spanish uses here (¿ ¡ ñ and accented
vowels). A message is one language when it has enough points (`min_points`) and more
than `ratio` times the other language's points; anything else is None. Spanglish with
Spanish grammar ("mi appointment es el lunes, q tengo q llevar") is Spanish, since the
English list holds no borrowed content words. No model, no network.

The same module knows the messages that ask for a language: "ESPAÑOL", "INGLÉS",
"in spanish please" (`chosen_language`), and the language named in a longer request
("can you answer in spanish", "no hablo inglés": `named_language`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

WORDS_FILE = Path(__file__).resolve().parent / "language_words.yml"
SPANISH, ENGLISH = "es", "en"
TOKEN = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """Lower case, accents removed (ñ too), straight apostrophes dropped: "¿Qué?" -> "¿que?"."""
    text = unicodedata.normalize("NFKD", (text or "").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub("['\u2019\u2018`\u00b4]", "", text)


def _phrase(text: str) -> str:
    """A whole message reduced to its words: "¡EN ESPAÑOL!" -> "en espanol"."""
    return " ".join(TOKEN.findall(fold(text)))


@dataclass(frozen=True)
class Words:
    """The word list, read once."""

    points: Dict[str, Tuple[int, str]]  # folded word -> (points, language)
    marks: List[Tuple[str, int]]  # Spanish-only characters, points once each
    min_points: int
    ratio: float
    choose: Dict[str, str]  # whole-message phrase -> language
    names: Dict[str, str]  # language word -> language
    not_spoken: re.Pattern

    @classmethod
    def read(cls, path: Path = WORDS_FILE) -> Words:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        points: Dict[str, Tuple[int, str]] = {}
        for word in spec["english"]:
            points[fold(str(word))] = (1, ENGLISH)
        for word in spec["spanish"]:
            points[fold(str(word))] = (1, SPANISH)
        for word in spec["spanish_strong"]:
            points[fold(str(word))] = (2, SPANISH)
        return cls(
            points=points,
            marks=[(str(chars), int(value)) for chars, value in spec["spanish_marks"].items()],
            min_points=int(spec["min_points"]),
            ratio=float(spec["ratio"]),
            choose={_phrase(p): language for language, phrases in spec["choose"].items() for p in phrases},
            names={fold(w): language for language, words in spec["names"].items() for w in words},
            not_spoken=re.compile(spec["not_spoken"]),
        )


@lru_cache(maxsize=1)
def words() -> Words:
    return Words.read()


def scores(text: str) -> Dict[str, int]:
    """{"es": points, "en": points} of a message."""
    table = words()
    result = {SPANISH: 0, ENGLISH: 0}
    if not text or text.lstrip().startswith("/"):  # an intent or button payload
        return result
    lowered = text.lower()
    for chars, value in table.marks:
        if any(c in lowered for c in chars):
            result[SPANISH] += value
    for token in TOKEN.findall(fold(text)):
        value, language = table.points.get(token, (0, SPANISH))
        result[language] += value
    return result


def detect(text: str) -> Optional[str]:
    """ "es" or "en" when the message is clearly in that language, else None."""
    table = words()
    points = scores(text)
    es, en = points[SPANISH], points[ENGLISH]
    if es >= table.min_points and es > table.ratio * en:
        return SPANISH
    if en >= table.min_points and en > table.ratio * es:
        return ENGLISH
    return None


def chosen_language(text: str) -> Optional[str]:
    """The language a whole message asks for ("ESPAÑOL", "INGLÉS", "in english please"), else None."""
    if not text or text.lstrip().startswith("/"):
        return None
    return words().choose.get(_phrase(text))


def named_language(text: str) -> Optional[str]:
    """The language a request names ("answer in spanish" -> es); the other one when the
    patient says they do not speak it ("no hablo inglés" -> es); None for none or both."""
    folded = fold(text)
    named = {words().names[t] for t in TOKEN.findall(folded) if t in words().names}
    if len(named) != 1:
        return None
    language = named.pop()
    if words().not_spoken.search(folded):
        return ENGLISH if language == SPANISH else SPANISH
    return language
