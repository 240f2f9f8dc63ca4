"""Makes sure a described symptom always reaches the urgent answer.

Runs last in the NLU pipeline. When the message matches the red-flag patterns in
safety/red_flags.yml and the model chose another intent, the intent becomes
`report_symptoms`. It only ever adds urgent answers; it never removes one.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
URGENT_INTENT = "report_symptoms"


class RedFlags:
    """The compiled patterns of a red-flags file (no Rasa types, tested directly)."""

    def __init__(self, path: Path) -> None:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        self.personal_now = re.compile(spec["personal_now"])
        self.current = [re.compile(p) for p in spec["current_symptoms"]]
        self.after_exam = [re.compile(p) for p in spec["after_exam"]]
        self.question = re.compile(spec["question_start"])
        self.hypothetical = re.compile(spec["hypothetical"])

    def is_urgent(self, text: Text) -> bool:
        """True when the message describes a worrying symptom the patient has."""
        text = " ".join(text.lower().replace("’", "'").split())
        question = bool(self.question.search(text) or text.endswith("?"))
        now = bool(self.personal_now.search(text)) and not self.hypothetical.search(text)
        if not (now or not question):
            return False
        return any(p.search(text) for p in self.current + self.after_exam)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SymptomSafetyNet(GraphComponent):
    """Overrides the intent with report_symptoms when red-flag patterns match."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Where the patterns live."""
        return {"patterns_file": "safety/red_flags.yml"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.flags = RedFlags(Path(config["patterns_file"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SymptomSafetyNet":
        """Creates the component and compiles the patterns."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to learn."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Sends red-flag messages to the urgent intent."""
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get(INTENT_NAME_KEY) == URGENT_INTENT or text.startswith("/"):
                continue
            if self.flags.is_urgent(text):
                logger.info("Safety net: a message was sent to the urgent answer")
                urgent = {INTENT_NAME_KEY: URGENT_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.data[INTENT] = urgent
                message.data["intent_ranking"] = [urgent] + (message.get("intent_ranking") or [])
        return messages
