"""Measures understanding on messages the model never trained on, against a plain baseline.

    .venv/bin/python scripts/nlu_eval.py            # the shipped design vs the baseline (a few minutes)
    .venv/bin/python scripts/nlu_eval.py --cv 5     # plus 5-fold cross-validation on data/
    .venv/bin/python scripts/nlu_eval.py --rasa models/x.tar.gz   # plus a trained Rasa model
    .venv/bin/python scripts/nlu_eval.py --languages  # one model for both languages vs one per language

The test sets: tests/nlu/heldout.yml (short questions, written apart from the training
data) and tests/nlu/patients.yml (what patients really write, with sources); in Spanish
tests/nlu/es/heldout.yml (and tests/nlu/es/patients.yml). The training data is explicit:
English data/nlu/*.yml, Spanish data/nlu/es/*.yml. The baseline is the simplest thing
that could work: TF-IDF of word 1-2-grams and char_wb 2-5-grams (sublinear tf) with
LogisticRegression C=10 on the whole message, trained on the same data. "Confident
wrong" is an answer to the wrong topic given with a confidence at or above the fallback
threshold: the worst outcome, since the patient gets a wrong answer with no sign that
it is one. docs/languages.md has the comparison of the bilingual designs.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.language import detect
from components.topic_model import PerLanguage, TopicModel

SETS = {"held-out": ROOT / "tests" / "nlu" / "heldout.yml", "patients": ROOT / "tests" / "nlu" / "patients.yml"}
SETS_ES = {
    "held-out es": ROOT / "tests" / "nlu" / "es" / "heldout.yml",
    "patients es": ROOT / "tests" / "nlu" / "es" / "patients.yml",
}
DEV_SET = ROOT / "tests" / "nlu" / "patients_dev.yml"
# Development sets: written in patients' style, and real patients' words from public pages
# that tests/nlu/patients.yml does not use (docs/model-choice.md, session 6).
DEV_SETS = {"dev (written)": DEV_SET, "dev (pages)": ROOT / "tests" / "nlu" / "patients_dev_pages.yml"}
# Real patients' messages split by page (issue 23, tests/nlu/real/): the development parts choose
# designs; the test parts are printed only at the end of a round (make bench).
REAL = ROOT / "tests" / "nlu" / "real"
DEV_SETS.update({"real dev en": REAL / "dev_en.yml", "real dev es": REAL / "dev_es.yml"})
REAL_TEST_SETS = {"real test en": REAL / "test_en.yml", "real test es": REAL / "test_es.yml"}
# The training data of each language, named one by one (data/nlu/es is not in the English glob).
DATA = {"en": ROOT / "data" / "nlu", "es": ROOT / "data" / "nlu" / "es"}
STORIES = {"en": ROOT / "components" / "context_sentences.yml", "es": ROOT / "components" / "context_sentences_es.yml"}
WORDS = {"en": ROOT / "components" / "patient_words.yml", "es": ROOT / "components" / "patient_words_es.yml"}


@dataclass
class Case:
    text: str
    topics: List[str]  # every acceptable topic key
    two_questions: bool = False


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, label) pairs of a Rasa NLU file; label is the intent or faq/<key>."""
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in content.get("nlu") or []:
        if "intent" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def training_data(language: str = "en") -> List[Tuple[str, str]]:
    """(text, label) pairs of one language's training files (DATA[language]/*.yml, not recursive)."""
    pairs: List[Tuple[str, str]] = []
    for path in sorted(DATA[language].glob("*.yml")):
        pairs.extend(nlu_examples(path))
    return pairs


def bilingual_data() -> Tuple[List[Tuple[str, str]], List[str]]:
    """Both languages' training pairs and each pair's language."""
    english, spanish = training_data("en"), training_data("es")
    return english + spanish, ["en"] * len(english) + ["es"] * len(spanish)


def key_of(label: Optional[str]) -> str:
    """Topic key of a label: faq/<key> -> key; an intent is its own key."""
    label = label or ""
    return label.split("/", 1)[1] if label.startswith("faq/") else label


def load_cases(path: Path) -> List[Case]:
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "messages" in content:
        return [Case(m["text"], list(m["topics"]), bool(m.get("two_questions"))) for m in content["messages"]]
    return [Case(text, [key_of(label)]) for text, label in nlu_examples(path)]


@dataclass
class Outcome:
    key: str  # the top guess's topic key
    confidence: float
    decision: str = "answer"  # answer | ask ("do you mean A or B?") | fallback
    asks_which: Optional[Tuple[str, str]] = None
    both: Optional[Tuple[str, str]] = None


@dataclass
class Score:
    n: int
    top_right: int  # the top guess is an acceptable topic
    answered_right: int  # the patient got a right answer (or, for out_of_scope, the fallback)
    asked_right: int  # "do you mean A or B?" with a right option
    fallback: int
    confident_wrong: int  # answered, at or above the fallback threshold, with a wrong topic
    two_found: int
    two_total: int

    @property
    def accuracy(self) -> float:
        return self.top_right / self.n if self.n else 0.0

    @property
    def confident_wrong_rate(self) -> float:
        return self.confident_wrong / self.n if self.n else 0.0


def score(cases: Sequence[Case], predict: Callable[[str], Outcome], threshold: float) -> Score:
    top = answered = asked = fallback = wrong = two_found = two_total = 0
    for case in cases:
        outcome = predict(case.text)
        right = outcome.key in case.topics
        top += right
        decision = outcome.decision
        if decision == "answer" and outcome.confidence < threshold:
            decision = "fallback"
        if decision == "ask":
            asked += bool({key_of(k) for k in outcome.asks_which or ()} & set(case.topics))
        elif decision == "fallback":
            fallback += 1
            answered += "out_of_scope" in case.topics
        elif right:
            answered += 1
        else:
            wrong += 1
        if case.two_questions:
            two_total += 1
            two_found += bool(outcome.both and [key_of(t) for t in outcome.both] == case.topics[:2])
    return Score(len(cases), top, answered, asked, fallback, wrong, two_found, two_total)


def story_sentences(language: str = "en") -> List[str]:
    content = yaml.safe_load(STORIES[language].read_text(encoding="utf-8"))
    return list(content["sentences"])


def patient_words(*languages: str) -> Dict[str, List[str]]:
    """The patient words of the given languages (English when none given), merged."""
    merged: Dict[str, List[str]] = {}
    for language in languages or ("en",):
        for word, patterns in (yaml.safe_load(WORDS[language].read_text(encoding="utf-8")) or {}).items():
            merged.setdefault(word, []).extend(patterns)
    return merged


def fallback_threshold() -> float:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for item in config["pipeline"]:
        if item["name"] == "FallbackClassifier":
            return float(item["threshold"])
    return 0.0


# ------------------------------------------------------------------ the systems
def baseline(pairs: Sequence[Tuple[str, str]]) -> Callable[[str], Outcome]:
    """The plain baseline: the whole message, one TF-IDF + LogisticRegression."""
    model = TopicModel().fit([t for t, _ in pairs], [label for _, label in pairs])

    def predict(text: str) -> Outcome:
        row = model.probabilities([text])[0]
        best = int(row.argmax())
        return Outcome(key_of(model.labels_[best]), float(row[best]))

    return predict


def reader(model) -> Callable[[str], Outcome]:
    """What the assistant does with a TopicModel's (or PerLanguage's) reading."""

    def predict(text: str) -> Outcome:
        reading = model.read(text)
        if reading.unsure_between:
            scores = dict(reading.ranking)
            pair = scores[reading.unsure_between[0]] + scores[reading.unsure_between[1]]
            return Outcome(key_of(reading.label), pair, "ask", reading.unsure_between)
        if reading.both:
            return Outcome(key_of(reading.both[0]), reading.both_confidence, both=reading.both)
        return Outcome(key_of(reading.label), reading.confidence)

    return predict


def shipped(pairs: Sequence[Tuple[str, str]], **options) -> Callable[[str], Outcome]:
    """The shipped design on one language's pairs: clause by clause, two questions, "do you mean A or B?"."""
    options.setdefault("synonyms", patient_words())
    return reader(TopicModel(**options).fit([t for t, _ in pairs], [label for _, label in pairs], story_sentences()))


# ------------------------------------------------------------------ the bilingual designs
def one_model(**options) -> TopicModel:
    """(a) One model on both languages' data: each example with a story in its own language,
    both languages' patient words."""
    pairs, languages = bilingual_data()
    options.setdefault("synonyms", patient_words("en", "es"))
    return TopicModel(**options).fit(
        [t for t, _ in pairs],
        [label for _, label in pairs],
        {"en": story_sentences("en"), "es": story_sentences("es")},
        languages,
    )


def per_language(spanish_on_both: bool = False, **options) -> PerLanguage:
    """(b) One model per language, chosen by common/language.detect(): the English model
    exactly as before (English data, stories and words); the Spanish model on the Spanish
    data (or, with `spanish_on_both`, on both languages' data)."""
    english = training_data("en")
    en = TopicModel(**{"synonyms": patient_words("en"), **options}).fit(
        [t for t, _ in english], [label for _, label in english], story_sentences("en")
    )
    if spanish_on_both:
        es = one_model(**options)
    else:
        spanish = training_data("es")
        es = TopicModel(**{"synonyms": patient_words("en", "es"), **options}).fit(
            [t for t, _ in spanish], [label for _, label in spanish], story_sentences("es")
        )
    return PerLanguage({"en": en, "es": es}, detect)


# The design config.yml ships (components/topic_classifier.py with `languages: {es: ...}`;
# the choice is in docs/languages.md).
SHIPPED = per_language


def shipped_model(**options):
    """The shipped bilingual design, trained on data/nlu and data/nlu/es."""
    return SHIPPED(**options)


def bilingual_baseline() -> Callable[[str], Outcome]:
    """The baseline on both languages' data (whole message, no stories, no patient words)."""
    pairs, _ = bilingual_data()
    return baseline(pairs)


def outcome_of_parse(parsed: Dict) -> Outcome:
    """What the assistant does with a `POST /model/parse` result (a Rasa model's reading)."""
    intent = (parsed.get("intent") or {}).get("name") or ""
    confidence = float((parsed.get("intent") or {}).get("confidence") or 0.0)
    decision = "fallback" if intent == "nlu_fallback" else "answer"
    if decision == "fallback":  # the top guess is the next intent in the ranking
        intent = next((i["name"] for i in parsed.get("intent_ranking") or [] if i["name"] != "nlu_fallback"), "")
    key = intent
    if parsed.get("late_period") and intent == "timing":
        # components/late_period.py: the late-period answer (no dates, a pregnancy test first),
        # the answer of the topic "pregnancy tests and late or missing periods"
        key = "pregnancy_test"
    if intent == "faq" and "faq" in (parsed.get("response_selector") or {}):
        response = parsed["response_selector"]["faq"]["response"]
        key = key_of(response["intent_response_key"])
        if decision == "answer":
            confidence = min(confidence, float(response["confidence"]))
    entities = parsed.get("entities") or []
    mode = next((e["value"] for e in entities if e["entity"] == "faq_mode"), None)
    topics = tuple(e["value"] for e in entities if e["entity"] == "topic")
    if decision == "answer" and mode in ("choose", "story"):  # the guided choice
        return Outcome(key, confidence, "ask", asks_which=topics)
    return Outcome(key, confidence, decision, both=topics if mode == "two" else None)


def rasa_model(path: Path) -> Callable[[str], Outcome]:
    """A trained Rasa model, parsed in this process."""
    import asyncio
    import logging

    from rasa.core.agent import Agent

    agent = Agent.load(str(path))
    logging.getLogger().setLevel(logging.WARNING)
    loop = asyncio.new_event_loop()

    def predict(text: str) -> Outcome:
        return outcome_of_parse(loop.run_until_complete(agent.parse_message(text)))

    return predict


def cross_validate(pairs: List[Tuple[str, str]], folds: int, make: Callable, threshold: float) -> float:
    """Mean accuracy over stratified-by-shuffle folds of data/."""
    shuffled = list(pairs)
    random.Random(42).shuffle(shuffled)
    total = 0.0
    for fold in range(folds):
        test = shuffled[fold::folds]
        train = [p for i, p in enumerate(shuffled) if i % folds != fold]
        predict = make(train)
        cases = [Case(text, [key_of(label)]) for text, label in test]
        total += score(cases, predict, threshold).accuracy
    return total / folds


def report(name: str, result: Score) -> str:
    n = result.n
    two = f"  both of two questions {result.two_found}/{result.two_total}" if result.two_total else ""
    return (
        f"{name:<24} top guess {result.accuracy:6.1%} | answered right {result.answered_right / n:6.1%}"
        f"  right within one tap {(result.answered_right + result.asked_right) / n:6.1%}"
        f"  (choice with the right one {result.asked_right / n:5.1%})  fallback {result.fallback / n:5.1%}"
        f"  confident wrong {result.confident_wrong_rate:5.1%} ({result.confident_wrong}/{n}){two}"
    )


def print_sets(sets: Dict[str, Path], systems: Dict[str, Callable[[str], Outcome]], threshold: float) -> None:
    for set_name, path in sets.items():
        if not path.exists():
            print(f"{set_name}: {path.relative_to(ROOT)} is missing")
            continue
        cases = load_cases(path)
        print(f"{set_name} ({path.relative_to(ROOT)}, {len(cases)} messages):")
        for name, predict in systems.items():
            print("  " + report(name, score(cases, predict, threshold)))


def timed(name: str, build: Callable[[], object]) -> object:
    """Builds a model and prints the CPU time it took (other work on the machine does not count)."""
    import time

    start = time.process_time()
    model = build()
    print(f"  trained {name} in {time.process_time() - start:.0f} s of CPU")
    return model


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", type=int, default=0, help="also cross-validate on data/ with this many folds")
    parser.add_argument("--rasa", action="append", default=[], help="also evaluate a trained Rasa model")
    parser.add_argument("--dev", action="store_true", help="evaluate on the development sets instead")
    parser.add_argument(
        "--languages", action="store_true", help="compare one model for both languages with one model per language"
    )
    args = parser.parse_args(argv)
    threshold = fallback_threshold()
    sets = DEV_SETS if args.dev else {**SETS, **SETS_ES}
    print("training:")
    systems: Dict[str, Callable[[str], Outcome]] = {"baseline": timed("baseline (en+es)", bilingual_baseline)}
    if args.languages:
        systems["English only (before)"] = reader(timed("English only", lambda: per_language().models["en"]))
        systems["(a) one model en+es"] = reader(timed("(a) one model", one_model))
        systems["(b) per language"] = reader(timed("(b) per language", per_language))
        systems["(c) per lang, es on both"] = reader(
            timed("(c) per language, es on both", lambda: per_language(spanish_on_both=True))
        )
    else:
        systems["shipped design"] = reader(timed("shipped design", shipped_model))
    for path in args.rasa:
        systems[f"rasa model {Path(path).name}"] = rasa_model(Path(path))
    print_sets(sets, systems, threshold)
    if args.cv:
        pairs = training_data()
        print(f"{args.cv}-fold cross-validation on data/nlu ({len(pairs)} examples):")
        print(f"  baseline       {cross_validate(pairs, args.cv, baseline, threshold):6.1%}")
        print(f"  shipped design {cross_validate(pairs, args.cv, shipped, threshold):6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
