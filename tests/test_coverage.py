"""Every topic key in the project's list (docs/topics.md) is trained, tested, and answered,
in every place a key needs (`make new-topic` writes the stubs of the same places:
scripts/new_topic.py), with no TODO left."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from conftest import ROOT, load_nlu_examples

TOPICS = ROOT / "docs" / "topics.md"
MIN_TRAINING_PER_KEY = 25
MIN_TRAINING_PER_KEY_ES = 15
MIN_HELDOUT_PER_KEY = 5
TODO = "TODO"  # scripts/new_topic.py's stubs


def topic_keys(topics: Path = TOPICS) -> Dict[str, str]:
    """{key: intent} from the first column of the "Topic keys" tables in docs/topics.md.

    A key in the table of the retrieval intent is trained as `faq/<key>`; a key in
    the table of plain intents is the intent name itself."""
    keys: Dict[str, str] = {}
    for section in re.split(r"^## ", topics.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        if not heading.startswith("Topic keys"):
            continue
        retrieval = "faq/<key>" in heading
        for key in re.findall(r"^\|\s*([^|]*?)\s*\|", body, re.M):
            if key in ("key", "") or set(key) <= set("-: "):
                continue  # the header row and the separator row
            assert re.fullmatch(r"[a-z_]+", key), f"not a topic key in docs/topics.md: {key!r}"
            assert key not in keys, f"topic key listed twice in docs/topics.md: {key}"
            keys[key] = f"faq/{key}" if retrieval else key
    return keys


KEYS = topic_keys()


@functools.lru_cache(maxsize=512)
def _examples_of(path: str, version: tuple) -> Dict[str, List[str]]:
    return load_nlu_examples(Path(path))


def nlu_examples(path: Path) -> Dict[str, List[str]]:
    """load_nlu_examples, read again only when the file changed (each key's test reads them all)."""
    stat = path.stat()
    return _examples_of(str(path), (stat.st_mtime_ns, stat.st_size))


def training_examples(folder: Path = ROOT / "data" / "nlu"):
    examples = {}
    for path in sorted(folder.glob("*.yml")):
        for intent, lines in nlu_examples(path).items():
            examples.setdefault(intent, []).extend(lines)
    return examples


def _examples_problems(where: str, examples: List[str], minimum: int) -> List[str]:
    real = [line for line in examples if TODO not in line]
    problems = [f"{where}: {len(real)} examples, at least {minimum} needed"] if len(real) < minimum else []
    return problems + ([f"{where}: {TODO} left"] if len(real) < len(examples) else [])


def _answer_problems(root: Path, key: str) -> List[str]:
    answer = root / "content" / "answers" / "faq" / f"{key}.yml"
    if not answer.exists():
        return [f"no answer {answer.relative_to(root)}"]
    problems = [f"{answer.relative_to(root)}: {TODO} left"] if TODO in answer.read_text(encoding="utf-8") else []
    label = (yaml.safe_load((root / "content" / "topic_labels.yml").read_text(encoding="utf-8")) or {}).get(key)
    if not label or TODO in str(label):
        problems.append("content/topic_labels.yml: no label" if not label else f"content/topic_labels.yml: {TODO} left")
    groups = yaml.safe_load((root / "content" / "topic_groups.yml").read_text(encoding="utf-8"))["groups"]
    if sum(key in group["topics"] for group in groups) != 1:
        problems.append("content/topic_groups.yml: not in exactly one group")
    return problems


def key_problems(root: Path, key: str, intent: str) -> List[str]:
    """What is missing or unfinished for one topic key, in every place a key needs."""
    row = re.search(rf"^\|\s*{key}\s*\|.*$", (root / "docs" / "topics.md").read_text(encoding="utf-8"), re.M)
    problems = [f"docs/topics.md: {TODO} left"] if row and TODO in row.group(0) else []
    problems += _examples_problems(
        "data/nlu", training_examples(root / "data" / "nlu").get(intent, []), MIN_TRAINING_PER_KEY
    )
    heldout = nlu_examples(root / "tests" / "nlu" / "heldout.yml").get(intent, [])
    problems += _examples_problems("tests/nlu/heldout.yml", heldout, MIN_HELDOUT_PER_KEY)
    if intent.startswith("faq/"):
        spanish = training_examples(root / "data" / "nlu" / "es").get(intent, [])
        problems += _examples_problems("data/nlu/es", spanish, MIN_TRAINING_PER_KEY_ES)
        heldout_es = nlu_examples(root / "tests" / "nlu" / "es" / "heldout.yml").get(intent, [])
        problems += _examples_problems("tests/nlu/es/heldout.yml", heldout_es, MIN_HELDOUT_PER_KEY)
        problems += _answer_problems(root, key)
    stories = yaml.safe_load((root / "tests" / "stories" / "test_topics.yml").read_text(encoding="utf-8"))["stories"]
    story = next((story for story in stories if re.fullmatch(rf"topic {key}( \(.*\))?", story["story"])), None)
    if story is None or TODO in str(story):
        problems.append(f"tests/stories/test_topics.yml: {'no story' if story is None else TODO + ' left'}")
    return problems


def test_topics_md_lists_the_keys_we_expect():
    assert len(KEYS) >= 35, sorted(KEYS)  # a new key adds to these, none may go
    plain = {key for key, intent in KEYS.items() if intent == key}
    assert plain == {
        "timing",
        "device_confirmation",
        "report_symptoms",
        "human_handoff",
        "out_of_scope",
        "bot_challenge",
        "greet",
        "goodbye",
        "thankyou",
    }
    assert {
        "what_is_hsg",
        "pain_relief",
        "support_person",
        "activities_after",
        "after_sex_conceive",
        "antibiotics",
        "breastfeeding",
        "alternatives",
        "cost_insurance",
    } <= set(KEYS)


def test_every_trained_faq_key_is_listed():
    trained = {intent for intent in training_examples() if intent.startswith("faq/")}
    assert trained == {intent for intent in KEYS.values() if intent.startswith("faq/")}


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_place_of_the_key_is_filled(key):
    """Trained (both languages for faq keys), held out, answered, labelled, in one group,
    with a test story, and no TODO left anywhere (tests/test_new_topic.py shows that a
    key fresh from `make new-topic` fails here until its texts are written)."""
    assert key_problems(ROOT, key, KEYS[key]) == []


@pytest.mark.parametrize("key", sorted(k for k, intent in KEYS.items() if intent.startswith("faq/")))
def test_faq_key_is_answered_by_the_built_domain(domain, key):
    assert f"utter_faq/{key}" in domain["responses"]


def test_heldout_never_overlaps_training():
    def norm(text):
        return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()

    trained = {norm(line) for lines in training_examples().values() for line in lines}
    heldout = [line for lines in load_nlu_examples(ROOT / "tests/nlu/heldout.yml").values() for line in lines]
    overlap = [line for line in heldout if norm(line) in trained]
    assert not overlap, overlap
