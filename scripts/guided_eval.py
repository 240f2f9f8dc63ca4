"""The guided choice on the development sets: how many patients get a right answer in the
first reply, or a right topic among those offered (right within one tap), and how the
number of topics offered trades against that (issue 23; docs/model-choice.md, "The
guided choice").

    .venv/bin/python scripts/guided_eval.py            # the shipped rule and a sweep of others

It reads the development sets only (tests/nlu/patients_dev.yml, written in patients'
style, and tests/nlu/patients_dev_pages.yml, real patients' words from public pages):
the test sets are never printed while choosing. Each message is read as the bot reads
it (components/topic_model.py, trained as the shipped design on data/nlu), and decided
as the bot decides (components/topic_classifier.py, the FallbackClassifier and
action_answer_topics):
- sure of one topic (at or above the fallback threshold): that answer;
- two questions, each sure enough: both answers (right when the first is);
- unsure and about the HSG: the guided choice of its likely topics;
- unsure and nothing about the HSG: the out-of-scope answer (the best guess is
  out_of_scope) or the fallback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import nlu_eval

from components.topic_model import TopicModel

VOCABULARY = ROOT / "components" / "hsg_words.yml"
# (candidate_ratio, candidate_floor, max_candidates) to compare with the shipped rule;
# ratio 0 and floor 0 offer the best `max_candidates` topics whatever their scores.
SHIPPED = (0.1, 0.05, 3)
SWEEP = [
    (0.0, 0.0, 3),
    (0.1, 0.0, 3),
    SHIPPED,
    (0.1, 0.1, 3),
    (0.2, 0.05, 3),
    (0.3, 0.05, 3),
    (0.5, 0.05, 3),
    (0.1, 0.05, 2),
    (0.0, 0.0, 1),
]


@dataclass
class Tally:
    n: int = 0
    answered_right: int = 0  # a right answer in the first reply (or the out-of-scope answer for one)
    offered_right: int = 0  # the guided choice, with a right topic among those offered
    offered_wrong: int = 0  # the guided choice, no right topic offered ("Something else" is left)
    out_of_scope: int = 0  # the out-of-scope answer or the fallback to an HSG message
    bare_fallback: int = 0  # the fallback with no topics for a message in the HSG vocabulary
    confident_wrong: int = 0  # a wrong answer at or above the threshold
    offers: List[int] = field(default_factory=list)

    def line(self, name: str) -> str:
        n = self.n or 1
        mean = sum(self.offers) / len(self.offers) if self.offers else 0.0
        sizes = {k: self.offers.count(k) for k in sorted(set(self.offers))}
        return (
            f"{name:<34} right first reply {self.answered_right / n:6.1%} | within one tap "
            f"{(self.answered_right + self.offered_right) / n:6.1%} | offered {len(self.offers) / n:5.1%} "
            f"(a right one {self.offered_right / n:5.1%}, none right {self.offered_wrong / n:5.1%}; "
            f"{mean:.2f} topics, sizes {sizes}) | not answered {self.out_of_scope / n:5.1%} "
            f"(bare fallback in HSG words {self.bare_fallback}) | confident wrong {self.confident_wrong / n:5.1%}"
        )


def decide(model, text: str, threshold: float, before: bool = False) -> tuple:
    """(what the bot does, the topic keys it answers or offers) for one message; with
    `before`, what it did before the guided choice: "A or B?" when two answerable topics
    were close, else the fallback below the threshold."""
    reading = model.read(text)
    if before:
        if reading.unsure_between:
            return "offer", [nlu_eval.key_of(label) for label in reading.unsure_between]
        confidence = reading.both_confidence if reading.both else reading.confidence
        if confidence < threshold:
            return "fallback", []
        return "answer", [nlu_eval.key_of(reading.both[0] if reading.both else reading.label)]
    if reading.both and reading.both_confidence >= threshold:
        return "answer", [nlu_eval.key_of(reading.both[0])]
    if reading.both:  # two questions, not sure enough: both offered
        return "offer", [nlu_eval.key_of(label) for label in reading.both]
    if reading.unsure(threshold):
        if reading.about_hsg and reading.candidates:
            return "offer", [nlu_eval.key_of(label) for label in reading.candidates]
        best = next((label for label, _ in reading.ranking), "")
        return ("out_of_scope" if best == "out_of_scope" else "fallback"), []
    return "answer", [nlu_eval.key_of(reading.label)]


def tally(model, cases: Sequence[nlu_eval.Case], threshold: float, vocabulary, before: bool = False) -> Tally:
    result = Tally()
    for case in cases:
        result.n += 1
        what, keys = decide(model, case.text, threshold, before)
        if what == "answer":
            right = keys[0] in case.topics
            result.answered_right += right
            result.confident_wrong += not right
        elif what == "offer":
            result.offers.append(len(keys))
            hit = bool(set(keys) & set(case.topics))
            result.offered_right += hit
            result.offered_wrong += not hit
        else:
            result.answered_right += "out_of_scope" in case.topics
            result.out_of_scope += "out_of_scope" not in case.topics
            result.bare_fallback += what == "fallback" and bool(vocabulary.search(case.text))
    return result


def set_models(model, **options) -> None:
    for one in getattr(model, "models", {"": model}).values():
        for name, value in options.items():
            setattr(one, name, value)


def main(argv: Sequence[str] = ()) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(list(argv))
    words = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    patterns = [pattern for language in words.values() for pattern in language]
    model = nlu_eval.shipped_model(vocabulary=patterns)
    vocabulary = TopicModel(vocabulary=patterns)._vocabulary
    threshold = nlu_eval.fallback_threshold()
    sets: Dict[str, List[nlu_eval.Case]] = {name: nlu_eval.load_cases(path) for name, path in nlu_eval.DEV_SETS.items()}
    print(f"Fallback threshold {threshold}; development sets only; * the shipped rule (config.yml).\n")
    for name, cases in sets.items():
        print(f"== {name} ({len(cases)} messages)")
        print(tally(model, cases, threshold, vocabulary, before=True).line("before: A or B?, else fallback"))
        ratio, floor, most = SHIPPED
        set_models(model, candidate_ratio=ratio, candidate_floor=floor, max_candidates=most, symptom_votes=("", ""))
        print(tally(model, cases, threshold, vocabulary).line("shipped, no symptom vote"))
        set_models(model, symptom_votes=TopicModel().symptom_votes)
        for ratio, floor, most in SWEEP:
            set_models(model, candidate_ratio=ratio, candidate_floor=floor, max_candidates=most)
            name = f"ratio {ratio}, floor {floor}, at most {most}" + (" *" if (ratio, floor, most) == SHIPPED else "")
            print(tally(model, cases, threshold, vocabulary).line(name))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
