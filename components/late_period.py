"""Sends a message that says a period is late to the date questions, which answer it
with no dates.

"I'm 4 days late", "my period should have started Monday", "me tocaba el 10": the model
may read these as a timing question, a pregnancy-test question, or not understand them.
This component makes the intent `timing` whatever the model chose (the words are in
common/late_period.py, shared with the date logic), so the timing route starts the date
questions and actions/flow.py gives the late-period answer at once: no exam dates, a
pregnancy test first, call the clinic. The model's own "symptom report" is overridden
too: the red-flag safety net runs after this component and judges the message itself
(on the safety sets it finds every urgent message alone), so a late period with a red
flag still gets the urgent answer, and "me toca desde el 20 y nada" does not. Buttons and
a language switch are left alone. It never logs the text of a message.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.late_period import says_late
from components.rule_step import RuleStep, set_intent

TIMING_INTENT = "timing"
LEFT_ALONE = {"choose_language", TIMING_INTENT}
LATE_PERIOD = "late_period"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LatePeriod(RuleStep):
    """Late-period words -> the timing intent."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get(INTENT_NAME_KEY) in LEFT_ALONE or text.startswith("/") or not says_late(text):
                continue
            set_intent(message, TIMING_INTENT)
            # in the parse, for the measures: this message gets the late-period answer
            message.set(LATE_PERIOD, True, add_to_output=True)
        return messages
