"""Which topic a patient's message asks about, read the way a person would read it
(no Rasa imports; components/topic_classifier.py puts it into Rasa's pipeline).

Patients write stories: "hi, sorry for the long message, we've been trying for two
years and my doctor ordered an HSG... does it hurt?". A classifier that reads the
whole message at once lets the story pull it to the wrong topic. This model:

1. scores the whole message and each of its sentences or clauses with one linear
   classifier (TF-IDF of words and character n-grams, logistic regression);
2. takes the main topic from the whole message (`whole_weight` 1.0: mixing in the surest
   asking clause was measured and not kept, docs/model-choice.md), and tells the clauses
   that ask something (a "?" or a question word) from the ones that tell the story;
3. finds a second question when two asking clauses are each sure of a different
   answerable topic (in the order asked);
4. says it is unsure between two topics when the best two are close, so the
   assistant can ask "do you mean A or B?" instead of guessing;
5. when it is unsure, names the message's likely topics (the guided choice: up to
   `max_candidates` whose score is at least `candidate_ratio` of the best one's), whether
   the message is about the HSG at all (`about_hsg`), and whether it asks anything or
   only tells a story (`story`).

docs/model-choice.md has the comparison behind these choices and their numbers.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# Where a message splits into clauses: sentence ends, line breaks, and the words
# patients use to start another question ("also", "and another thing", "btw"), in
# English and in Spanish ("¿", "también", "además", "otra pregunta", "y cuánto ...").
# The Spanish question words carry their accents here: "y que"/"y como" without them
# are as often the story going on ("y como estoy nerviosa...").
_ES_ASKING = (
    r"qué|cuándo|cómo|cuánto|cuánta|cuántos|cuántas|dónde|por qué|xq|pq|puedo|puede|pueden|podemos|se puede|hay que|"
    r"tengo que|debo|necesito|es normal|es seguro"
)
CLAUSE_BREAK = re.compile(
    r"(?<=[.!?])\s+|[\n\r]+|\?+|¿+|(?<=\w)\s*[;:]\s+"
    r"|\s+(?=(?:also|and also|plus|oh and|btw|by the way|another question|one more thing|second question|"
    r"and (?:what|when|how|why|is|are|can|could|do|does|will|would|should|did)\b|"
    r"but (?:what|when|how|why|is|are|can|could|do|does|will|would|should|did)\b|"
    r"(?:y |pero )?(?:también|tambien|tmb|además|ademas|otra pregunta|otra cosa|por cierto)|una pregunta más|"
    r"y (?:" + _ES_ASKING + r")\b|pero (?:" + _ES_ASKING + r")\b)\b)",
    re.IGNORECASE,
)
QUESTION_START = re.compile(
    r"^\W*(?:and |but |so |also |plus |oh and |btw |ok |okay |hi |hey |um+ |well |"
    r"y |pero |entonces |también |tambien |tmb |además |ademas |oiga |oye |hola |bueno |pues |disculpe |perdón |"
    r"perdon |otra pregunta,? )*"
    r"(?:what|whats|what's|wat|when|whens|how|hows|how's|why|where|who|which|is|isn't|isnt|are|aren't|can|cant|can't|"
    r"could|do|does|doesnt|don't|dont|did|will|wont|won't|would|should|shall|may|might|am|have|has|any|anyone|"
    r"wondering|i wonder|i was wondering|tell me|explain|need to know|want to know|wanna know|curious|"
    # Spanish: question words (with or without their accents), and the verbs a question starts with
    r"qué|que|q|cuándo|cuando|cómo|como|cuánto|cuanto|cuánta|cuanta|cuántos|cuantos|cuántas|cuantas|dónde|donde|"
    r"quién|quien|cuál|cual|por qué|por que|porqué|xq|pq|puedo|puede|pueden|podemos|podría|podria|se puede|"
    r"hay|tengo que|tengo q|debo|debería|deberia|necesito|es normal|es seguro|es peligroso|es cierto|es verdad|"
    r"duele|me van a|me pueden|me puedo|me dan|me tengo que|quisiera saber|quiero saber|"
    r"me gustaría saber|me gustaria saber|una pregunta|alguien sabe|me pueden explicar|explíqueme|explicame|"
    r"expliqueme|sabe si|saben si)\b",
    re.IGNORECASE,
)
# Words that ask, anywhere in a message (a story "asks nothing" without them and without
# "?" or "¿"): question words and asking phrases. Spanish question words only with their
# accents: without them "que", "como", "cuando" are as often the story going on.
QUESTION_WORDS = re.compile(
    r"\b(?:what|whats|what's|wat|when|how|hows|how's|why|where|who|which|whether|wonder|wondering|curious|"
    r"tips?|advice|anyone|anybody|any idea|is it|is this|is that|is there|are there|will it|will i|can i|can you|"
    r"can they|could i|could you|should i|do i|do you|do they|does it|does anyone|did anyone|need to know|"
    r"want to know|tell me|explain|questions?|query|to ask)\b"
    r"|(?<!\w)(?:qué|cuándo|cómo|cuánto|cuánta|cuántos|cuántas|dónde|quién|cuál|por qué|porqué|xq|pq|"
    r"quisiera saber|quiero saber|quería saber|queria saber|me gustaría saber|me gustaria saber|"
    r"quería preguntar|queria preguntar|quisiera preguntar|alguien sabe|me pueden explicar|"
    r"me puede explicar|explíqueme|expliqueme|sabe si|saben si|es normal|es seguro|se puede|puedo|debo|"
    r"necesito saber|consejos?|preguntas?|dudas?)(?!\w)",
    re.IGNORECASE,
)
# A story tells about the patient: it has a word in the first person.
FIRST_PERSON = re.compile(
    r"(?<!\w)(?:i|i'm|im|i've|ive|i'd|i'll|me|my|mine|myself|we|we're|we've|us|our|"
    r"yo|mi|mis|me|conmigo|estoy|tengo|tuve|nosotros|nosotras|nuestro|nuestra|estamos)(?!\w)",
    re.IGNORECASE,
)
DEFAULT_LANGUAGE = "en"
OPENING_MARKS = re.compile("[¿¡]")
Stories = Union[Sequence[str], Mapping[str, Sequence[str]]]
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
STORY_MIN_WORDS = 4


def clauses(text: str) -> List[str]:
    """The message's sentences and clauses, each with at least two words."""
    parts = [p.strip(" ,.-") for p in CLAUSE_BREAK.split(text or "") if p and p.strip(" ,.-")]
    return [p for p in parts if len(WORD.findall(p.lower())) >= 2]


def asks_something(text: str) -> bool:
    """True when a message asks anything: a "?" or "¿", a question word or asking phrase
    anywhere (QUESTION_WORDS: "...and I'm wondering how long", "...quisiera saber cuánto"),
    or a clause shaped like a question (QUESTION_START: "is the dye safe", "duele mucho")."""
    text = text or ""
    if "?" in text or "¿" in text or QUESTION_WORDS.search(text):
        return True
    return any(asks(part, text) for part in clauses(text)) or bool(QUESTION_START.search(text))


def is_story(text: str) -> bool:
    """A story without a question ("my HSG is tomorrow and I'm terrified"): at least
    STORY_MIN_WORDS words, the patient telling about themselves (a first-person word:
    I, my, we...; yo, mi, estoy...), and nothing asked. Fewer words, or a list of things
    ("the dye and breastfeeding and antibiotics"), are a question put short."""
    text = text or ""
    return (
        len(WORD.findall(text.lower())) >= STORY_MIN_WORDS
        and bool(FIRST_PERSON.search(text))
        and not asks_something(text)
    )


def asks(clause: str, original: str) -> bool:
    """True when a clause is shaped like a question (it ended in "?" or starts like one)."""
    if QUESTION_START.search(clause):
        return True
    position = original.find(clause)
    if position < 0:
        return False
    rest = original[position + len(clause) : position + len(clause) + 3]
    before = original[max(0, position - 3) : position]
    return rest.lstrip().startswith("?") or before.rstrip().endswith("¿")


@dataclass
class Reading:
    """What the model made of one message."""

    label: str  # the topic it answers: an intent or faq/<key>
    confidence: float
    ranking: List[Tuple[str, float]]
    # two questions in one message: both topics, in the order asked, and how sure
    both: Optional[Tuple[str, str]] = None
    both_confidence: float = 0.0
    unsure_between: Optional[Tuple[str, str]] = None  # "do you mean A or B?"
    clause_labels: List[Tuple[str, str, float]] = field(default_factory=list)
    # the likely topics to offer when unsure (best first), whether the message is about
    # the HSG, and whether it only tells a story (asks nothing)
    candidates: List[str] = field(default_factory=list)
    about_hsg: bool = False
    story: bool = False
    # below this the reading model is unsure of its top guess (TopicModel.threshold_for)
    threshold: float = 0.55
    # a story's topics by what it tells (components/story_topics.yml), best first
    story_topics: List[str] = field(default_factory=list)

    def unsure(self, below: float) -> bool:
        """Unsure of its one answer: "do you mean A or B?", or below `below` (the fallback
        threshold); never when it found two questions."""
        return not self.both and (self.unsure_between is not None or self.confidence < below)


@dataclass
class TopicModel:
    """A linear classifier over words and character n-grams, read clause by clause."""

    c: float = 10.0
    # A second question needs its own clause this sure of an answerable topic (the
    # fallback threshold: each answer is given only as surely as a single one).
    second_threshold: float = 0.55
    # "Do you mean A or B?" when the best guess is below `unsure_below` and the
    # runner-up is within `unsure_margin` of it, both answerable topics.
    unsure_below: float = 0.55
    unsure_margin: float = 0.25
    # ...and only when the two together are this likely (else: the fallback).
    unsure_pair_min: float = 0.55
    # The guided choice's band (calibrated per language on real patients' messages,
    # docs/model-choice.md): a top guess that is a topic (`topical`) below this gets the
    # guided choice instead of its answer; None: the same as `unsure_below`. Other intents
    # (yes, no, a date, hello) keep `unsure_below`, the FallbackClassifier's threshold.
    choose_below: Optional[float] = None
    # Weight of the whole-message reading against the best asking clause (1: the
    # whole message decides the main topic; clauses find a second question).
    whole_weight: float = 1.0
    answerable_prefix: str = "faq/"
    # Each training question is also seen this many times with a story sentence
    # before or after it (0: off), so the story's words weigh on no topic.
    story_copies: int = 3
    # Labels that are never given a story (short replies and small talk).
    no_story_labels: Tuple[str, ...] = ("greet", "goodbye", "thankyou", "affirm", "deny", "inform", "topic_menu")
    # The guided choice (docs/model-choice.md "The guided choice"): the topics offered when
    # unsure are the best `max_candidates` topics whose score is at least `candidate_ratio`
    # of the best topic's and at least `candidate_floor`. Topics are the answerable
    # faq/<key> labels and the intents in `topic_intents`, which have answers of their own.
    candidate_ratio: float = 0.1
    candidate_floor: float = 0.05
    max_candidates: int = 3
    topic_intents: Tuple[str, ...] = ("timing", "device_confirmation")
    # Safety: the chance that a message describes a symptom counts for the warning-signs
    # answer (when to call, 911), so an unsure message that may be a symptom offers it.
    symptom_votes: Tuple[str, str] = ("report_symptoms", "faq/warning_signs")
    # A message is about the HSG when it has one of these words (components/hsg_words.yml,
    # regular expressions) or when the topics together have at least `hsg_mass`.
    vocabulary: List[str] = field(default_factory=list)
    hsg_mass: float = 0.5
    # Stories without a question (components/story_topics.yml): [{name, words, topics}];
    # the first situation a story tells gives the topics to offer. A story the model is
    # unsure of, or answers with a faq/<key>, gets them; any other sure reading (a date,
    # a symptom, Essure, small talk) keeps its answer.
    story_situations: List[Dict] = field(default_factory=list)
    # ...after the model's own likely topics that score at least this (at most two)
    story_model_floor: float = 0.15
    seed: int = 42
    # {canonical word: [patterns]}: patients' words for the same thing (patient_words.yml)
    synonyms: Dict[str, List[str]] = field(default_factory=dict)
    labels_: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._synonyms = [
            (word, re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE))
            for word, patterns in self.synonyms.items()
        ]
        self._vocabulary = (
            re.compile(r"\b(?:" + "|".join(self.vocabulary) + r")\b", re.IGNORECASE) if self.vocabulary else None
        )
        self._situations = [
            (re.compile(r"(?<!\w)(?:" + "|".join(item["words"]) + r")(?!\w)", re.IGNORECASE), list(item["topics"]))
            for item in self.story_situations
        ]
        self.words = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True, token_pattern=r"(?u)\b\w+\b"
        )
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
        self.classifier = LogisticRegression(C=self.c, max_iter=3000)

    # ---------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        story: Stories = (),
        languages: Optional[Sequence[str]] = None,
    ) -> TopicModel:
        """Learns the labels. `story` is one list of story sentences, or one per language
        ({"en": [...], "es": [...]}) with `languages` giving each text's language (a text
        gets the story of its own language; English when not given)."""
        texts, labels = list(texts), list(labels)
        stories = dict(story) if isinstance(story, Mapping) else {DEFAULT_LANGUAGE: list(story)}
        langs = list(languages) if languages is not None else [DEFAULT_LANGUAGE] * len(texts)
        if any(stories.values()) and self.story_copies:
            rng = random.Random(self.seed)
            extra = [
                (self._with_story(text, rng.choice(stories.get(lang) or stories[DEFAULT_LANGUAGE]), rng), label)
                for _ in range(self.story_copies)
                for text, label, lang in zip(texts, labels, langs)
                if label not in self.no_story_labels
            ]
            texts += [t for t, _ in extra]
            labels += [label for _, label in extra]

        features = self._features(texts, fit=True)
        self.classifier.fit(features, list(labels))
        self.labels_ = list(self.classifier.classes_)
        return self

    @staticmethod
    def _with_story(text: str, sentence: str, rng: random.Random) -> str:
        if rng.random() < 0.6:
            return f"{sentence}{rng.choice(['. ', ', ', '! ', ' '])}{text}"
        return f"{text}{rng.choice(['. ', ' ', '? '])}{sentence}"

    def expand(self, text: str) -> str:
        """The text plus the canonical word of every patient word it uses."""
        extra = [word for word, pattern in self._synonyms if pattern.search(text)]
        return f"{text} {' '.join(extra)}" if extra else text

    def _features(self, texts: Sequence[str], fit: bool = False):
        # Spanish opening marks say "a question" on any topic: they are not features
        texts = [self.expand(OPENING_MARKS.sub(" ", t)) for t in texts]
        if fit:
            return hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)]).tocsr()
        return hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's probability of every label.

        The classifier multiplies the sparse features by its coefficients transposed;
        scipy copies that dense operand whenever it is not C-contiguous, which the
        transpose of sklearn's `coef_` (a slice of its weights) never is: a copy of every
        coefficient (labels x features) on every message, most of the model's time. Kept
        in Fortran order, its transpose is C-contiguous and read in place: the same numbers."""
        if not self.classifier.coef_.flags.f_contiguous:
            self.classifier.coef_ = np.asfortranarray(self.classifier.coef_)
        return self.classifier.predict_proba(self._features(texts))

    # ---------------------------------------------------------------- reading
    def read(self, text: str) -> Reading:
        parts = clauses(text)
        rows = self.probabilities([text] + parts)
        whole, per_clause = rows[0], rows[1:]
        asking = [i for i, part in enumerate(parts) if asks(part, text)]
        candidates = asking or list(range(len(parts)))
        combined = whole
        if len(parts) > 1 and candidates:
            best = max(candidates, key=lambda i: per_clause[i].max())
            combined = self.whole_weight * whole + (1 - self.whole_weight) * per_clause[best]
        order = np.argsort(-combined)
        ranking = [(self.labels_[i], float(combined[i])) for i in order]
        label, confidence = ranking[0]
        clause_labels = [(part, self.labels_[int(np.argmax(p))], float(p.max())) for part, p in zip(parts, per_clause)]
        reading = Reading(label, confidence, ranking, clause_labels=clause_labels, threshold=self.threshold_for(label))
        asking_labels = [clause_labels[i] for i in asking]
        reading.both = self._two_questions(label, asking_labels)
        if reading.both:
            # each question is answered as surely as its own clause was read
            reading.both_confidence = min(max(p for _, topic, p in asking_labels if topic == t) for t in reading.both)
        else:
            reading.unsure_between = self._unsure(ranking)
        reading.candidates = self.candidates(ranking)
        reading.about_hsg = self.about_hsg(text, ranking)
        reading.story = is_story(text)
        if reading.story and reading.about_hsg:
            reading.story_topics = self.story_topics(text, reading)
        return reading

    def threshold_for(self, label: str) -> float:
        """Below this the top guess `label` is unsure: the guided choice's band for an
        answerable faq/<key>, the fallback threshold for any other intent."""
        # Only a faq/<key> guess: a timing or device question keeps its own route (which asks
        # for dates), and a `choose` mode on it would outlive the message in the faq_mode slot.
        if self.choose_below is not None and self._answerable(label):
            return max(self.choose_below, self.unsure_below)
        return self.unsure_below

    def story_topics(self, text: str, reading: Reading) -> List[str]:
        """The topics to offer a story without a question, best first: the topics of the
        first situation the story tells (`story_situations`), the model's best guess first
        when it is sure of one of them, at most `max_candidates`; the warning signs stay
        among them when the model's best guess is a symptom. [] when no situation fits, or
        when the model is sure of another answer: a concern of the story's own ("I'm
        allergic to iodine and my HSG is tomorrow"), a date, a symptom, Essure."""
        situation = next((topics for pattern, topics in self._situations if pattern.search(text)), None)
        if situation is None:
            return []
        labels = [key if key in self.topic_intents else self.answerable_prefix + key for key in situation]
        sure = reading.confidence >= reading.threshold and reading.unsure_between is None
        if sure and reading.label not in labels:
            return []  # a concern of its own ("I'm allergic to iodine and my HSG is tomorrow"): its answer
        scores = dict(reading.ranking)
        symptom, signs = self.symptom_votes
        # the model's own likely topics first (a long story names them), then the situation's
        offered = [
            label
            for label in reading.candidates
            if scores.get(label, 0.0) >= self.story_model_floor and (label != signs or reading.label == signs)
        ][: self.max_candidates - 1]
        offered += [label for label in labels if label not in offered]
        offered = offered[: self.max_candidates]
        if reading.label == symptom and signs not in offered:
            offered = offered[: self.max_candidates - 1] + [signs]
        return offered

    def topical(self, label: str) -> bool:
        """A topic the guided choice may offer: an answerable faq/<key>, or an intent with
        its own answer (the timing and device questions)."""
        return self._answerable(label) or label in self.topic_intents

    def candidates(self, ranking: List[Tuple[str, float]]) -> List[str]:
        """The likely topics, best first: the best topic, then the next ones (up to
        `max_candidates` in all) that score at least `candidate_ratio` of it and
        `candidate_floor`; the warning signs also score what the symptom report does."""
        scores = dict(ranking)
        symptom, signs = self.symptom_votes
        if signs in scores:
            scores[signs] += scores.get(symptom, 0.0)
        topics = sorted(
            ((label, score) for label, score in scores.items() if self.topical(label)), key=lambda item: -item[1]
        )[: self.max_candidates]
        if not topics:
            return []
        best = topics[0][1]
        return [topics[0][0]] + [
            label
            for label, score in topics[1:]
            if score >= self.candidate_ratio * best and score >= self.candidate_floor
        ]

    def about_hsg(self, text: str, ranking: List[Tuple[str, float]]) -> bool:
        """True when a message has a word of the HSG's vocabulary, or the model gives the
        HSG's topics together at least `hsg_mass`."""
        if self._vocabulary is not None and self._vocabulary.search(text or ""):
            return True
        return sum(score for label, score in ranking if self.topical(label)) >= self.hsg_mass

    def _answerable(self, label: str) -> bool:
        return label.startswith(self.answerable_prefix)

    def _two_questions(self, label: str, asking: List[Tuple[str, str, float]]) -> Optional[Tuple[str, str]]:
        """Two asking clauses, each sure of a different answerable topic, one of them the
        message's best guess: both topics, in the order asked."""
        if len(asking) < 2 or not self._answerable(label):
            return None
        topics: List[str] = []
        for _, topic, p in asking:
            if p >= self.second_threshold and self._answerable(topic) and topic not in topics:
                topics.append(topic)
        if len(topics) < 2 or label not in topics[:2]:
            return None
        return topics[0], topics[1]

    def _unsure(self, ranking: List[Tuple[str, float]]) -> Optional[Tuple[str, str]]:
        (top, p1), (runner, p2) = ranking[0], ranking[1]
        if (
            p1 < self.unsure_below
            and p1 - p2 <= self.unsure_margin
            and p1 + p2 >= self.unsure_pair_min
            and self._answerable(top)
            and self._answerable(runner)
        ):
            return top, runner
        return None


@dataclass
class PerLanguage:
    """One TopicModel per language; each message is read by the model of the language
    `detect` finds. When `detect` is unsure (None: "ok", "sí", a date), the reading of
    the model that is surest of its top label is used."""

    models: Dict[str, TopicModel]
    detect: Callable[[str], Optional[str]]

    @property
    def labels_(self) -> List[str]:
        return sorted({label for model in self.models.values() for label in model.labels_})

    def read(self, text: str) -> Reading:
        language = self.detect(text)
        if language in self.models:
            return self.models[language].read(text)
        return max((model.read(text) for model in self.models.values()), key=lambda reading: reading.confidence)
