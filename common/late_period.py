"""Words that say a period is due but has not come: "I'm 4 days late", "it should have
started yesterday", "me tocaba el 10", "no me ha bajado".

A late period may be an early pregnancy, and the HSG's timing rule exists to keep X-rays
away from one, so these words lead to the late-period answer (no exam dates, a pregnancy
test first, call the clinic) whatever date comes with them. Both languages' wordings are
always tried (patients mix them). Used by the bot's pipeline (components/late_period.py,
to route the message to the date questions) and by the date logic (actions/dates.py, for
the decision itself), so the two never disagree.

A negation just before the words ("I'm not late", "no estoy atrasada") cancels them;
a period that came late ("it came 3 days late") is not late now, which the date logic
decides from the start date given (actions/flow.py).
"""

from __future__ import annotations

import re
import unicodedata
from typing import List

_PERIOD = r"(?:period|af|a\.f\.|menses|menstruation|cycle|aunt\s+flo)"
_COUNT = (
    r"(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|few|several"
    r"|a\s+couple(?:\s+of)?|couple(?:\s+of)?)"
)
_ARRIVE = r"(?:come|came|started|start|arrived|arrive|shown\s+up|show\s+up|showed\s+up|begun|begin|began)"
_NOT = r"(?:has\s*n'?t|hasnt|has\s+not|have\s*n'?t|havent|have\s+not|did\s*n'?t|didnt|did\s+not|is\s*n'?t|isnt)"

# English, on lower-cased text with straight apostrophes.
LATE_EN: List[str] = [
    rf"\b{_PERIOD}\s+(?:is|was|'s|s|has\s+been|seems|looks|seems\s+to\s+be|is\s+running|running)?\s*"
    r"(?:(?!not\b|never\b|n't\b)\w+\s+){0,2}(?:late|overdue)\b",
    rf"\b(?:i'?m|i\s+am|im|am|i\s+was|i've\s+been|i\s+have\s+been)\s+(?:now\s+|currently\s+|already\s+|like\s+"
    rf"|about\s+|around\s+|almost\s+|nearly\s+|over\s+|officially\s+|so\s+)*(?:{_COUNT}\s*)?"
    r"(?:days?|d|dys|weeks?|wks?)?\s*(?:late|overdue)\b(?!\s+(?:for|to)\s+(?!(?:my\s+|the\s+)?(?:period|af)\b))",
    r"\bi\s+was\s+due\b",
    r"\b\d+\s*(?:days?|d|dys|weeks?|wks?)\s+(?:late|overdue)\b",
    rf"\blate\s+(?:{_PERIOD}|for\s+(?:my\s+)?{_PERIOD})\b",
    r"\boverdue\b",
    rf"\b(?:missed|skipped|missing)\s+(?:my\s+|a\s+|the\s+|this\s+month'?s\s+|one\s+)?{_PERIOD}\b",
    r"\bshould\s*(?:have|'ve|of|a)\s+been\s+(?:here|due)\b",
    rf"\bshould\s*(?:have|'ve|of|a)\s+(?:already\s+)?(?:started|come|came|arrived|begun|gotten|got|had\s+(?:my|a)\s+{_PERIOD})\b",
    r"\b(?:was|were|is)\s+supposed\s+to\s+(?:have\s+)?(?:start|come|arrive|begin|get|be\s+here)\w*",
    rf"\b(?:{_PERIOD}|it)\s+(?:was|were)\s+(?:due|expected)\b",
    r"\bdue\s+(?:yesterday|(?:\d+|a|one|two|three|four|five|six|seven|a\s+few|several)\s+days?\s+ago|last\s+\w+)\b",
    rf"\b(?:was|were|i\s+was)\s+expecting\s+(?:my\s+|it|af|the\s+|{_PERIOD})",
    rf"\b(?:{_PERIOD}|it)\s+(?:still\s+)?{_NOT}\s+(?:yet\s+)?(?:\w+\s+)?{_ARRIVE}\b",
    rf"\b{_NOT}\s+(?:yet\s+)?(?:got|gotten|get|had|started|start)\s+(?:my|a|the|any)\s+{_PERIOD}\s+yet\b",
    rf"\bstill\s+(?:no|waiting\s+(?:for|on))\s+(?:my\s+|a\s+|the\s+|any\s+)?{_PERIOD}\b",
    rf"\bno\s+(?:sign\s+of\s+(?:my\s+)?)?{_PERIOD}\s+yet\b",
    rf"\b{_PERIOD}\s+(?:is\s*n'?t|isnt|is\s+not|not)\s+(?:here|back)\s+yet\b",
]

_REGLA = r"(?:regla|periodo|menstruacion|menstruacion|sangrado|mes)"
_BAJAR = r"(?:bajar|venir|llegar|empezar|comenzar)(?:me)?"
# Spanish, on folded text (lower case, no acute accents).
LATE_ES: List[str] = [
    r"\bme\s+tocaba\b",
    r"\bme\s+toca\s+desde\b",
    rf"\b(?:me\s+)?tenia\s+(?:que|q)\s+(?:haber\s+)?(?:me\s+)?{_BAJAR}\b",
    rf"\b(?:me\s+)?(?:debia|deberia|debio|tuvo\s+que|tendria\s+que|debe\s+de\s+haber|deberia\s+de)\s+(?:de\s+)?"
    rf"(?:haber(?:me)?\s+)?(?:me\s+)?(?:{_BAJAR}|bajado|venido|llegado|empezado)\b",
    r"\batrasad[oa]s?\b",
    r"\batraso\b",
    r"\bretras(?:o|ada|ado|adas|ados)\b",
    r"\bse\s+(?:me\s+)?(?:atraso|retraso)\b",
    r"\bno\s+me\s+(?:ha|han|a)\s+(?:bajado|llegado|venido)\b",
    r"\bno\s+me\s+(?:llego|bajo|vino)\b",
    r"\b(?:todavia|aun|aunque)\s+no\s+me\s+(?:baja|llega|viene)\b",
    r"\bno\s+me\s+(?:baja|llega|viene)\s+(?:todavia|aun|la\s+regla|el\s+periodo)\b",
    rf"\b(?:la\s+|mi\s+)?{_REGLA}\s+no\s+(?:me\s+)?(?:ha\s+|han\s+)?(?:llega|llegado|llego|baja|bajado|bajo|viene"
    r"|venido|vino)\b",
    rf"\bsigo\s+(?:sin|esperando)\s+(?:la\s+|mi\s+)?{_REGLA}\b",
    r"\bfalta\s+(?:de\s+)?(?:la\s+|mi\s+)?(?:regla|menstruacion)\b",
]

RE_LATE_EN = re.compile("|".join(f"(?:{p})" for p in LATE_EN))
RE_LATE_ES = re.compile("|".join(f"(?:{p})" for p in LATE_ES))
# A negation just before (at most one word between) cancels ("I'm not late", "no estoy atrasada", "my period
# isn't late"); the Spanish wordings that start with "no" carry their own.
RE_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bnunca)\s+(?:\w+\s+)?$|\bno\s+(?:estoy|esta|estaba|ando|es|era|va)\s+(?:\w+\s+)?$"
)
# Not about now: "what if my period is late", "will the HSG make my period late" (the topic
# answers those: the pregnancy-test answer says what to do if it is late).
RE_NOT_NOW_BEFORE = re.compile(
    r"\b(?:if|whether|in\s+case|make|makes|made|making|cause|causes|caused|delay|delays|affect|affects"
    r"|si|hace|hacer|puede|pueda|causa|causar|retrasar)\s+(?:\S+\s+){0,2}$"
)


def fold(text: str) -> str:
    """Lower case, straight apostrophes, no acute accents or diaereses (ñ kept)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("\u2019", "'"))
    kept = "".join(c for c in decomposed if not (unicodedata.combining(c) and c != "\u0303"))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", kept)).strip()


def _found(regex: re.Pattern[str], text: str, own_negation: bool) -> bool:
    for m in regex.finditer(text):
        if own_negation and m.group(0).startswith("no "):
            return True
        before = text[: m.start()]
        if not RE_NEGATED_BEFORE.search(before) and not RE_NOT_NOW_BEFORE.search(before):
            return True
    return False


def says_late(text: str) -> bool:
    """True when the message says a period is due but has not come, in English or Spanish."""
    s = fold(text)
    return _found(RE_LATE_EN, s, False) or _found(RE_LATE_ES, s, True)
