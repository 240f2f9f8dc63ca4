"""SMS segment counting for the two encodings carriers use (no Rasa imports).

GSM-7: 160 characters in one segment, 153 per segment when split (characters of
the extension table, such as [ ] { } ~ \\ | ^ and the euro sign, count twice).
Any other character makes the whole message UCS-2: 70 in one segment, 67 per
segment when split (characters outside the Basic Multilingual Plane count twice).

Spanish: ñ Ñ é É ü Ü ¿ ¡ are in the GSM-7 alphabet, but á í ó ú (and Á Í Ó Ú) are not,
so nearly every Spanish text goes as UCS-2: 70 characters, or 67 per segment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def encoding(text: str) -> str:
    """'GSM-7' when every character fits the GSM 03.38 alphabet, else 'UCS-2'."""
    return "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text) else "UCS-2"


def segments(text: str) -> Tuple[str, int]:
    """(encoding, number of SMS segments) for a message body."""
    if encoding(text) == "GSM-7":
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
        name = "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi = 70, 67
        name = "UCS-2"
    if units <= single:
        return name, 1 if units else 0
    return name, -(-units // multi)


CHOICES_FILE = Path(__file__).resolve().parent.parent / "content" / "sms_choices.yml"


def choice_words(language: str = "en", path: Path = CHOICES_FILE) -> Dict[str, str]:
    """How numbered choices are worded in a language (content/sms_choices.yml)."""
    with open(path, encoding="utf-8") as handle:
        rows = yaml.safe_load(handle) or {}
    return rows.get(language) or rows["en"]


def numbered(text: str, buttons: List[Dict[str, Any]], language: str = "en") -> str:
    """The SMS body: the text, then the buttons as numbered choices, in `language`."""
    if not buttons:
        return text
    words = choice_words(language)
    choices = words["joiner"].join(
        words["choice"].format(number=number, title=button["title"]) for number, button in enumerate(buttons, start=1)
    )
    return f"{text}\n" + words["reply"].format(choices=choices)
