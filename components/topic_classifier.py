"""Rasa's side of the topic model (components/topic_model.py): one NLU component that
picks the intent and, for exam questions, the answer (`faq/<key>`), in the format of
Rasa's ResponseSelector, so `utter_faq`, `POST /model/parse` and the rules work as
they do with Rasa's own classifiers.

It also tells the dialogue how to answer, as the entity `faq_mode` (slot `faq_mode`):
- none: one question, Rasa's `utter_faq` answers it;
- `two`: two questions in one message; the `topic` entities hold both answers'
  keys in the order asked, and `action_answer_topics` sends both;
- `choose`: unsure (below `unsure_below`, the fallback threshold; a topic below its
  language's guided-choice band `choose_below`; or two topics too close to call): the
  `topic` entities are the message's likely topics, best first
  (up to three; components/topic_model.py `candidates`), and `action_answer_topics`
  offers them as the guided choice ("Is it about A?", "A or B?", "A, B or C?", each
  with "Something else"), whose payload `/faq/<key>` this component reads back as
  that topic for sure. The intent stays `faq` when the two best together are sure
  enough, else the FallbackClassifier makes it `nlu_fallback`: the same action answers
  both.
- `story`: the same, for a message that asks nothing ("my HSG is tomorrow and I'm
  terrified"): a short acknowledgement comes first.
An unsure message with nothing about the HSG (components/hsg_words.yml, or the model's
topics together below `hsg_mass`) gets no `topic` entities: the out-of-scope answer or
the fallback.

One model per language (docs/languages.md): the English model learns the English
examples, and each language under `languages` in config.yml gets its own model from
the examples whose intent carries `metadata: {language: <code>}` (data/nlu/es/), with
that language's story sentences and patient words. A message is read by the model of
the language common/language.py finds in it; when that is unsure ("ok", "sí", a
date), by the model surest of its reading.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Union

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.language import detect
from components import rasa_patches
from components.topic_model import PerLanguage, TopicModel

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
RETRIEVAL_INTENT = "faq"
PAYLOAD = re.compile(r"^/faq/(\w+)$")
EXTRACTOR = "TopicClassifier"
RANKING_LENGTH = 10
DEFAULT_LANGUAGE = "en"


def _read_yaml(path: Text) -> Any:
    full = Path(path) if Path(path).is_absolute() else ROOT / path
    return yaml.safe_load(full.read_text(encoding="utf-8"))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TopicClassifier(GraphComponent, IntentClassifier):
    """Intent and FAQ answer from the clause-by-clause topic model."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Files the model learns from besides the NLU data, and its thresholds."""
        return {
            "story_file": "components/context_sentences.yml",
            "words_file": "components/patient_words.yml",
            "C": 10.0,
            "story_copies": 3,
            "second_threshold": 0.55,
            "unsure_below": 0.55,
            "unsure_margin": 0.25,
            "unsure_pair_min": 0.55,
            "whole_weight": 1.0,
            # the guided choice: topics within this share of the best one's score, at
            # least candidate_floor, at most max_candidates (docs/model-choice.md)
            "candidate_ratio": 0.1,
            "candidate_floor": 0.05,
            "max_candidates": 3,
            # a topic below this gets the guided choice, not its answer (None: unsure_below)
            "choose_below": None,
            # what makes an unsure message "about the HSG" (components/topic_model.py)
            "vocabulary_file": "components/hsg_words.yml",
            # stories without a question: the topics each situation offers
            "story_topics_file": "components/story_topics.yml",
            "hsg_mass": 0.5,
            # {language: {story_file, words_file}}: a model of its own for each (English is
            # the default model, from story_file and words_file above); a language may also
            # set its own choose_below, candidate_ratio, candidate_floor and max_candidates
            # (calibrated on its real development messages, docs/model-choice.md)
            "languages": {},
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the story sentences or the patient words change."""
        config = {**cls.get_default_config(), **(config or {})}
        digest = hashlib.sha256()
        files = [config["story_file"], config["words_file"], config["vocabulary_file"], config["story_topics_file"]]
        for language in sorted(config["languages"] or {}):
            files += [config["languages"][language]["story_file"], config["languages"][language]["words_file"]]
        for name in files:
            path = Path(name) if Path(name).is_absolute() else ROOT / name
            digest.update(path.read_bytes() if path.exists() else b"")
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Union[TopicModel, PerLanguage, None] = None,
    ) -> None:
        # Every process that loads the model (rasa run, make shell, rasa test) builds this
        # component, so the Rasa fixes apply wherever Rasa answers patients (once).
        rasa_patches.apply()
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicClassifier:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    def _new_model(self, synonyms: Dict[str, List[str]], language: Text = DEFAULT_LANGUAGE) -> TopicModel:
        """One language's model, with that language's own thresholds where config.yml sets them."""
        c = {**self.config, **{k: v for k, v in (self.config.get("languages") or {}).get(language, {}).items()}}
        vocabulary = [pattern for patterns in (_read_yaml(c["vocabulary_file"]) or {}).values() for pattern in patterns]
        return TopicModel(
            c=float(c["C"]),
            story_copies=int(c["story_copies"]),
            second_threshold=float(c["second_threshold"]),
            unsure_below=float(c["unsure_below"]),
            unsure_margin=float(c["unsure_margin"]),
            unsure_pair_min=float(c["unsure_pair_min"]),
            whole_weight=float(c["whole_weight"]),
            synonyms=synonyms,
            candidate_ratio=float(c["candidate_ratio"]),
            candidate_floor=float(c["candidate_floor"]),
            max_candidates=int(c["max_candidates"]),
            choose_below=None if c.get("choose_below") is None else float(c["choose_below"]),
            vocabulary=vocabulary,
            hsg_mass=float(c["hsg_mass"]),
            story_situations=(_read_yaml(c["story_topics_file"]) or {}).get("situations") or [],
        )

    @staticmethod
    def _language(example: Message) -> Text:
        """A training example's language: its intent's metadata `language`, else English."""
        metadata = example.get("metadata") or {}
        intent_metadata = metadata.get("intent") if isinstance(metadata, dict) else None
        language = intent_metadata.get("language") if isinstance(intent_metadata, dict) else None
        return str(language) if language else DEFAULT_LANGUAGE

    def train(self, training_data: TrainingData) -> Resource:
        """Learns every intent and faq/<key> from the NLU examples (plus story sentences),
        one model per language."""
        others = self.config.get("languages") or {}
        examples: Dict[Text, List[Any]] = {}
        for example in training_data.intent_examples:
            label = example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)
            if example.get(TEXT) and label:
                language = self._language(example)
                examples.setdefault(language if language in others else DEFAULT_LANGUAGE, []).append(
                    (example.get(TEXT), label)
                )
        english_words = _read_yaml(self.config["words_file"]) or {}
        models: Dict[Text, TopicModel] = {}
        for language, pairs in examples.items():
            files = others.get(language) or {"story_file": self.config["story_file"], "words_file": None}
            synonyms = {word: list(patterns) for word, patterns in english_words.items()}
            for word, patterns in ((_read_yaml(files["words_file"]) or {}) if files["words_file"] else {}).items():
                synonyms.setdefault(word, []).extend(patterns)
            story = (_read_yaml(files["story_file"]) or {}).get("sentences") or []
            texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
            models[language] = self._new_model(synonyms, language).fit(texts, labels, story)
        self.model = models[DEFAULT_LANGUAGE] if set(models) == {DEFAULT_LANGUAGE} else PerLanguage(models, detect)
        with self.model_storage.write_to(self.resource) as directory:
            (directory / "topic_model.pkl").write_bytes(pickle.dumps(self.model))
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicClassifier:
        """The trained component from the model archive."""
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / "topic_model.pkl").read_bytes())
        except (ValueError, FileNotFoundError) as error:
            # Without it every message would fail later, in Rasa's FallbackClassifier
            # (KeyError: 'intent'): say so once, at load time (review L7).
            raise RasaException("The model has no trained topic model: run `make train`") from error
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets intent, intent ranking, the FAQ answer and how to answer."""
        for message in messages:
            if self.model is None:
                continue
            text = message.get(TEXT) or ""
            chosen = PAYLOAD.match(text.strip())
            if chosen and f"{RETRIEVAL_INTENT}/{chosen.group(1)}" in self.model.labels_:
                self._set(message, [(f"{RETRIEVAL_INTENT}/{chosen.group(1)}", 1.0)], "one", [])
                continue
            reading = self.model.read(text)
            if reading.both:
                first = (reading.both[0], reading.both_confidence)
                self._set(
                    message,
                    [first] + [r for r in reading.ranking if r[0] != reading.both[0]],
                    "two",
                    list(reading.both),
                )
            elif reading.story_topics:  # a story without a question: what it tells says the topics
                self._set(message, reading.ranking, "story", reading.story_topics)
            elif reading.unsure(reading.threshold) and reading.about_hsg and reading.candidates:
                self._set(
                    message,
                    reading.ranking,
                    "story" if reading.story else "choose",
                    reading.candidates,
                    reading.unsure_between,
                )
            else:
                self._set(message, reading.ranking, "one", [])
        return messages

    @staticmethod
    def _set(message: Message, ranking: List[Any], mode: Text, topics: List[Text], pair: Optional[Any] = None) -> None:
        label, confidence = ranking[0]
        if pair:
            # "A or B?": the chance that it is one of the two; the fallback judges that, not the top guess
            scores = dict(ranking)
            confidence = scores[pair[0]] + scores[pair[1]]
        intents: Dict[Text, float] = {}
        for name, score in ranking:
            intent = name.split("/", 1)[0]
            intents[intent] = max(intents.get(intent, 0.0), float(score))
        top_intent = label.split("/", 1)[0]
        intents[top_intent] = max(intents[top_intent], float(confidence))
        intent_ranking = [
            {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: score}
            for name, score in sorted(intents.items(), key=lambda item: -item[1])
        ][:RANKING_LENGTH]
        message.set(
            INTENT, {INTENT_NAME_KEY: top_intent, PREDICTED_CONFIDENCE_KEY: float(confidence)}, add_to_output=True
        )
        message.set(INTENT_RANKING_KEY, intent_ranking, add_to_output=True)
        if top_intent == RETRIEVAL_INTENT:
            TopicClassifier._select(message, ranking, label, confidence)
        entities = [e for e in message.get(ENTITIES) or [] if e.get("extractor") != EXTRACTOR]
        if mode != "one":  # one answer is Rasa's plain `utter_faq`; action_answer_topics resets the slot
            entities.append({"entity": "faq_mode", "value": mode, "start": 0, "end": 0, "extractor": EXTRACTOR})
        for topic in topics:
            entities.append(
                {"entity": "topic", "value": topic.split("/", 1)[-1], "start": 0, "end": 0, "extractor": EXTRACTOR}
            )
        message.set(ENTITIES, entities, add_to_output=True)

    @staticmethod
    def _select(message: Message, ranking: List[Any], label: Text, confidence: float) -> None:
        """The FAQ answer, as Rasa's ResponseSelector gives it."""
        faq_ranking = [
            {INTENT_RESPONSE_KEY: name, PREDICTED_CONFIDENCE_KEY: float(score)}
            for name, score in ranking
            if name.startswith(RETRIEVAL_INTENT + "/")
        ][:RANKING_LENGTH]
        selected = {
            "response": {
                "responses": [],
                PREDICTED_CONFIDENCE_KEY: float(confidence),
                INTENT_RESPONSE_KEY: label,
                "utter_action": f"utter_{label}",
            },
            "ranking": faq_ranking,
        }
        selectors = message.get("response_selector") or {}
        selectors["all_retrieval_intents"] = [RETRIEVAL_INTENT]
        selectors[RETRIEVAL_INTENT] = selected
        message.set("response_selector", selectors, add_to_output=True)
