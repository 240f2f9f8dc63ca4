"""Rasa's SpacyNLP, with the project's rule-based spaCy pipeline built from code
(common/nlp.py) instead of loaded from a folder by name.

Rasa's own SpacyNLP loads a pipeline with `spacy.load(name)` and fingerprints it by
that name only, so a changed date pattern in a folder of the same name would never
retrain what depends on it, and the folder would have to be shipped beside the model.
This one builds the pipeline from code when the model is loaded, and its fingerprint
(Rasa's training cache) and the name it hands on (SpacyModel.model_name, which the
tokenizer and the entity extractor are fingerprinted by) carry a hash of the rules
(`common.nlp.pipeline_fingerprint()`). So a changed rule retrains, and
`models/hsg.tar.gz` plus the code is all a deployment needs.

It keeps the class name `SpacyNLP`: Rasa finds the model provider of SpacyTokenizer
and SpacyEntityExtractor by that name (`model_from="SpacyNLP"`). config.yml uses it as
`components.spacy_nlp.SpacyNLP` (no `model:` setting).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel

from common.nlp import build_nlp, pipeline_fingerprint

MODEL_NAME = "hsg-rules"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Provides the pipeline built from code to SpacyTokenizer and SpacyEntityExtractor."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**spacy_utils.SpacyNLP.get_default_config(), "model": MODEL_NAME}

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        return SpacyModel(model=build_nlp(), model_name=f"{MODEL_NAME}-{pipeline_fingerprint()}")

    @staticmethod
    def ensure_proper_language_model(nlp: Optional[Any]) -> None:
        if nlp is None or "entity_ruler" not in nlp.pipe_names:
            raise ValueError("The project's spaCy pipeline (common/nlp.py) has no entity ruler")

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        return pipeline_fingerprint()
