"""The language a patient writes in, for the slot `language` (issue 16).

Sets `language` ("es" or "en") in the parse result when common/language.py is sure of
the message's language; short replies ("ok", "sí", "1", a date alone) get none, so the
conversation keeps its language. It is a field of the parse, not an entity: it marks the
whole message, not a span of it (so Rasa's entity evaluation of the test stories is not
asked to find it); components/rasa_patches.py puts it into the slot `language`. A whole
message that asks for a language ("ESPAÑOL", "ENGLISH", "INGLÉS", "en español") becomes
the intent `choose_language` with that language; when the model itself chose
`choose_language` ("can you answer in spanish", "no hablo inglés"), it is the language
the request names.

Runs after the classifiers and before the safety net (config.yml): the urgent answer
still wins on intent. Intent payloads ("/choose_language{"language":"es"}") never reach
it: Rasa's RegexMessageHandler reads them before the NLU pipeline. It never logs text.
"""

from __future__ import annotations

from typing import List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from common.language import chosen_language, detect, named_language
from components.rule_step import RuleStep

CHOOSE_INTENT = "choose_language"
LANGUAGE = "language"  # the parse field (and the slot it fills)
TOPIC_EXTRACTOR = "TopicClassifier"  # its faq_mode/topic entities mean nothing for a language choice


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(RuleStep):
    """Sets the parse's `language`; "ESPAÑOL"/"ENGLISH" alone -> choose_language."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language: Optional[str] = chosen_language(text)
            if language:
                chosen = {INTENT_NAME_KEY: CHOOSE_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != CHOOSE_INTENT]
                message.data[INTENT] = chosen
                message.data[INTENT_RANKING_KEY] = [chosen] + ranking
                message.data.pop("response_selector", None)
                message.set(
                    ENTITIES,
                    [e for e in message.get(ENTITIES) or [] if e.get("extractor") != TOPIC_EXTRACTOR],
                    add_to_output=True,
                )
            elif (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == CHOOSE_INTENT:
                language = named_language(text) or detect(text)
            else:
                language = detect(text)
            if language:
                message.set(LANGUAGE, language, add_to_output=True)
        return messages
