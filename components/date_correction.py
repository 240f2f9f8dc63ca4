"""A "no" that carries a date is a correction, not a refusal.

"no no no, the 19th" read as `deny` would end the date questions (the rule "patient
stops the form"), and "not the 20th, the 19th" is too unlike any training example to
pass the fallback threshold. When the entity ruler found a DATE in a message whose
intent is `deny` or `nlu_fallback`, this component makes it `inform` (a date given),
so inside a form the form reads the corrected date, and outside one the date route
answers it. Only a short message that starts like a correction ("no", "nope", "not",
"wrong", "actually", ...; in Spanish "no", "perdón", "me equivoqué", "corrijo", ...)
counts: a long story with a date in it that the model did not understand stays
`nlu_fallback`. It never touches any other intent, so the urgent
answer (the safety net runs after it) and every topic are unchanged.
"""

from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.rule_step import RuleStep, set_intent

CORRECTABLE = {"deny", "nlu_fallback"}
DATE_GIVEN = "inform"
CORRECTION_START = re.compile(
    r"^\W*(?:no+|nope|nah|not|wrong|incorrect|actually|sorry|oops|i\s+meant"
    # Spanish: "no, fue el 12", "no no, el 19", "perdón, el 19", "me equivoqué, fue el 12", "corrijo: el 12"
    r"|perd[oó]n|disculp[ae]|me\s+equivoqu[eé]|me\s+confund[ií]|corrijo|correcci[oó]n|en\s+realidad"
    r"|quise\s+decir|est[aá]\s+mal|equivocad[oa])\b",
    re.I,
)
MAX_WORDS = 12  # a correction is short: "no no no, it was the 19th not the 20th"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class DateCorrection(RuleStep):
    """deny / nlu_fallback + a DATE entity -> inform."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) not in CORRECTABLE:
                continue
            if not any(entity.get("entity") == "DATE" for entity in message.get(ENTITIES) or []):
                continue
            text = message.get(TEXT) or ""
            if not CORRECTION_START.match(text) or len(text.split()) > MAX_WORDS:
                continue
            set_intent(message, DATE_GIVEN)
        return messages
