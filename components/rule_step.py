"""The shape shared by the pipeline's rule steps that may change the intent
(components/date_correction.py, late_period.py, other_device.py, language.py): nothing to train, no
settings, and one way to put a sure intent first in the parse."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class RuleStep(GraphComponent):
    """A pipeline step with rules and nothing to learn (each subclass registers itself
    with Rasa's recipe, as Rasa asks of every component)."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def set_intent(message: Message, name: Text) -> None:
    """Makes `name` the message's intent, sure (1.0), and first in its ranking."""
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.data[INTENT] = chosen
    message.data["intent_ranking"] = [chosen] + (message.get("intent_ranking") or [])
