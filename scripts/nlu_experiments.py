"""The designs tried in session 6 of issue 12, on both development sets (and, with
--test, once more on the test sets). docs/model-choice.md has the table and the reasons.

    .venv/bin/python scripts/nlu_experiments.py            # development sets only (about 10 minutes)
    .venv/bin/python scripts/nlu_experiments.py --test     # plus tests/nlu/heldout.yml and patients.yml

Development sets: tests/nlu/patients_dev.yml (written in patients' style) and
tests/nlu/patients_dev_pages.yml (real patients' words from public pages that
tests/nlu/patients.yml does not use). Every design learns the English data/nlu/*.yml; the
ones marked so also learn the sentences of the answers (content/answers/faq/) and of the
fact sheet section each answer names (docs/facts.md), which the baseline never sees.
None of these designs is shipped: the shipped one is scripts/nlu_eval.py's `shipped`.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from nltk.stem.snowball import SnowballStemmer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import ComplementNB

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.topic_model import TopicModel
from editor.store import FileContentStore
from scripts import nlu_eval as ev

TOKEN = re.compile(r"(?u)\b\w+\b")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_stem = SnowballStemmer("english").stem


def _stemmed_ngrams(text: str) -> List[str]:
    tokens = [_stem(t) for t in TOKEN.findall(text.lower())]
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def knowledge_sentences() -> List[Tuple[str, str]]:
    """Each English topic answer's sentences (web and SMS), and those of the docs/facts.md
    section it names when it names only one, labelled with the answer's topic."""
    sections = {}
    for block in re.split(r"^## ", (ROOT / "docs" / "facts.md").read_text(encoding="utf-8"), flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        sections[title.strip()] = re.sub(r"\[[^\]]*\]\([^)]*\)|\([^)]*https?://[^)]*\)|[*_`>|#-]", " ", body)
    pairs = []
    for name, answer in FileContentStore().answers().items():
        if not name.startswith("utter_faq/"):
            continue
        label = "faq/" + name.split("/", 1)[1]
        texts = [re.sub(r"[{}]", "", (answer.get(form) or {}).get("text") or "") for form in ("web", "sms")]
        named = [
            part.split(":", 1)[1].strip()
            for part in (answer.get("source") or "").split(";")
            if part.strip().startswith("docs/facts.md")
        ]
        if len(named) == 1:
            texts.append(sections.get(named[0], ""))
        pairs += [
            (" ".join(s.split()), label) for text in texts for s in SENTENCE_END.split(text) if len(s.split()) >= 4
        ]
    return pairs


class Variant(TopicModel):
    """The shipped TopicModel with one or more of the tried changes switched on."""

    def configure(
        self,
        stem: bool = False,
        multi_story: bool = False,
        nb_weight: float = 0.0,
        extra: Sequence[Tuple[str, str]] = (),
    ) -> Variant:
        self.multi_story, self.nb_weight, self.extra = multi_story, nb_weight, list(extra)
        if stem:
            self.words = TfidfVectorizer(analyzer=_stemmed_ngrams, sublinear_tf=True)
        return self

    def fit(self, texts, labels, story=(), languages=None):
        texts, labels, story = list(texts), list(labels), list(story)
        rng = random.Random(self.seed)
        copies = [
            (self._story_around(t, story, rng), label)
            for _ in range(self.story_copies)
            for t, label in zip(texts, labels)
            if story and label not in self.no_story_labels
        ]
        pairs = list(zip(texts, labels)) + copies + self.extra
        features = self._features([t for t, _ in pairs], fit=True)
        y = [label for _, label in pairs]
        self.classifier.fit(features, y)
        if self.nb_weight:
            self.nb = ComplementNB(alpha=0.3).fit(features, y)
        self.labels_ = list(self.classifier.classes_)
        return self

    def _story_around(self, text: str, story: List[str], rng: random.Random) -> str:
        if not self.multi_story:
            return self._with_story(text, rng.choice(story), rng)
        sentences = rng.sample(story, rng.choice([1, 1, 2, 3]))
        before = [s for s in sentences if rng.random() < 0.6]
        after = [s for s in sentences if s not in before]
        return ". ".join(before + [text] + after)

    def probabilities(self, texts):
        features = self._features(texts)
        p = self.classifier.predict_proba(features)
        return (1 - self.nb_weight) * p + self.nb_weight * self.nb.predict_proba(features) if self.nb_weight else p


def designs() -> Dict[str, Callable[[], Variant]]:
    words = ev.patient_words()
    knowledge = knowledge_sentences()

    def make(**options):
        return lambda: Variant(synonyms=words).configure(**options)

    return {
        "shipped": make(),
        "+ stemmed words": make(stem=True),
        "+ 1 to 3 story sentences": make(multi_story=True),
        "+ answers and facts": make(extra=knowledge),
        "+ all three": make(stem=True, multi_story=True, extra=knowledge),
        "+ Naive Bayes blend": make(nb_weight=0.5),
        "+ NB, stories, knowledge": make(nb_weight=0.5, multi_story=True, extra=knowledge),
    }


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", action="store_true", help="also the test sets (only for the final figures)")
    args = parser.parse_args(argv)
    sets = {**ev.DEV_SETS, **(ev.SETS if args.test else {})}
    cases = {name: ev.load_cases(path) for name, path in sets.items()}
    threshold = ev.fallback_threshold()
    pairs = ev.training_data("en")
    print(f"{'design':<28}" + "".join(f"{name:>16}" for name in sets) + "   (top guess / confident wrong)")
    systems = {"baseline": lambda: ev.baseline(pairs)}
    for name, build in designs().items():
        systems[name] = lambda build=build: ev.reader(
            build().fit([t for t, _ in pairs], [label for _, label in pairs], ev.story_sentences())
        )
    for name, make_predict in systems.items():
        start = time.process_time()
        predict = make_predict()
        row = [ev.score(cases[s], predict, threshold) for s in sets]
        print(
            f"{name:<28}"
            + "".join(f"{r.accuracy:9.1%} /{r.confident_wrong_rate:4.1%}" for r in row)
            + f"   trained in {time.process_time() - start:.0f} s CPU",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
