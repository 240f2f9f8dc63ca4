"""The SMS keywords carriers act on (CTIA: opt out, opt back in, help), in one place.

The SMS channel (components/twilio_sms.py) answers them in any conversation state, and
the editor's checks (editor/checks.py) refuse an SMS choice titled one of them, since a
patient who replies with it would opt out (or get the help text) instead of choosing.
Matched on the whole message, in capitals. The Spanish ones are for patients who write
in Spanish; they are answered in Spanish.
"""

from __future__ import annotations

from typing import FrozenSet

SPANISH_STOP_WORDS: FrozenSet[str] = frozenset({"PARAR", "ALTO", "BAJA", "CANCELAR"})
SPANISH_START_WORDS: FrozenSet[str] = frozenset({"COMENZAR", "REANUDAR", "SI", "SÍ"})
SPANISH_HELP_WORDS: FrozenSet[str] = frozenset({"AYUDA"})
STOP_WORDS = (
    frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}) | SPANISH_STOP_WORDS
)
# YES/SÍ count only for a number that opted out
START_WORDS = frozenset({"START", "UNSTOP", "YES"}) | SPANISH_START_WORDS
HELP_WORDS = frozenset({"HELP", "INFO"}) | SPANISH_HELP_WORDS
SPANISH_WORDS = SPANISH_STOP_WORDS | SPANISH_START_WORDS | SPANISH_HELP_WORDS
ALL_WORDS = STOP_WORDS | START_WORDS | HELP_WORDS


def is_carrier_keyword(text: str) -> bool:
    """True when `text`, as a whole message, is a keyword the carrier or the channel acts on."""
    return text.strip().upper() in ALL_WORDS
