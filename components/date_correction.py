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
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

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
class DateCorrection(GraphComponent):
    """deny / nlu_fallback + a DATE entity -> inform."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DateCorrection:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

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
            corrected = {INTENT_NAME_KEY: DATE_GIVEN, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.data[INTENT] = corrected
            message.data["intent_ranking"] = [corrected] + (message.get("intent_ranking") or [])
        return messages
