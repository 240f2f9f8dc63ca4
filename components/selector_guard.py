"""Sends low-confidence FAQ answers to the fallback.

The known Rasa trap: the `faq` intent can be confident while the ResponseSelector
is unsure which answer fits. FallbackClassifier only looks at the intent, so a
patient could get a confident but wrong answer. This component runs after the
ResponseSelector and turns such messages into `nlu_fallback`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import fallback_classifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

RESPONSE_SELECTOR = "response_selector"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class RetrievalConfidenceGuard(GraphComponent):
    """Replaces a retrieval intent with nlu_fallback when its answer is uncertain."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The selector confidence below which the answer is not trusted."""
        return {"threshold": 0.4, "retrieval_intents": ["faq"]}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.threshold = float(config["threshold"])
        self.retrieval_intents = set(config["retrieval_intents"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RetrievalConfidenceGuard":
        """Creates the component from its config."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to learn."""
        return training_data

    def selector_confidence(self, message: Message, intent_name: Text) -> float:
        """Confidence of the answer the ResponseSelector picked for this intent."""
        selectors = message.get(RESPONSE_SELECTOR) or {}
        selected = selectors.get(intent_name) or selectors.get("default") or {}
        return float((selected.get("response") or {}).get(PREDICTED_CONFIDENCE_KEY, 0.0))

    def process(self, messages: List[Message]) -> List[Message]:
        """Marks uncertain retrieval answers as nlu_fallback."""
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            if name not in self.retrieval_intents:
                continue
            confidence = self.selector_confidence(message, name)
            if confidence < self.threshold:
                message.data[INTENT] = fallback_classifier._fallback_intent(confidence)
                ranking = message.get("intent_ranking") or []
                message.data["intent_ranking"] = [message.data[INTENT]] + ranking
        return messages
