"""An IUD or an arm implant named in a message the model did not place goes to the device
question, which says an HSG does not check those (and gives the clinic's phone).

Patients mix up Essure and Adiana (tube inserts, checked by a confirmation test) with IUDs
and arm implants: "I had my IUD placed Feb 1, when is my confirmation test?". When the
model is unsure (nlu_fallback) and the message names such a device and not Essure or
Adiana (common/devices.py), the intent becomes `device_confirmation`, whose route action
gives that answer. A confident topic answer is left alone ("can I have an HSG with an
IUD in?" is the preparation topic's), and the safety net still runs after this.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.devices import names_other_device
from components.rule_step import RuleStep, set_intent

DEVICE_INTENT = "device_confirmation"
UNSURE = "nlu_fallback"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OtherDevice(RuleStep):
    """nlu_fallback + an IUD or arm implant named -> device_confirmation."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text = message.get(TEXT) or ""
            if intent != UNSURE or text.startswith("/") or not names_other_device(text):
                continue
            set_intent(message, DEVICE_INTENT)
        return messages
