"""Every topic key in the project's list (docs/topics.md) is trained, tested, and answered."""

from __future__ import annotations

import re
from typing import Dict

import pytest
from conftest import ROOT, load_nlu_examples

TOPICS = ROOT / "docs" / "topics.md"
MIN_TRAINING_PER_KEY = 25
MIN_HELDOUT_PER_KEY = 5


def topic_keys() -> Dict[str, str]:
    """{key: intent} from the first column of the "Topic keys" tables in docs/topics.md.

    A key in the table of the retrieval intent is trained as `faq/<key>`; a key in
    the table of plain intents is the intent name itself."""
    keys: Dict[str, str] = {}
    for section in re.split(r"^## ", TOPICS.read_text(encoding="utf-8"), flags=re.M)[1:]:
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


def training_examples():
    examples = {}
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for intent, lines in load_nlu_examples(path).items():
            examples.setdefault(intent, []).extend(lines)
    return examples


def test_topics_md_lists_the_keys_we_expect():
    assert len(KEYS) == 35, sorted(KEYS)
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
def test_key_is_trained(key):
    assert len(training_examples().get(KEYS[key], [])) >= MIN_TRAINING_PER_KEY


@pytest.mark.parametrize("key", sorted(KEYS))
def test_key_is_in_the_heldout_set(key):
    heldout = load_nlu_examples(ROOT / "tests" / "nlu" / "heldout.yml")
    assert len(heldout.get(KEYS[key], [])) >= MIN_HELDOUT_PER_KEY


@pytest.mark.parametrize("key", sorted(k for k, intent in KEYS.items() if intent.startswith("faq/")))
def test_faq_key_has_an_answer(domain, key):
    assert f"utter_faq/{key}" in domain["responses"]
    assert (ROOT / "content" / "answers" / "faq" / f"{key}.yml").exists()


def test_heldout_never_overlaps_training():
    def norm(text):
        return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()

    trained = {norm(line) for lines in training_examples().values() for line in lines}
    heldout = [line for lines in load_nlu_examples(ROOT / "tests/nlu/heldout.yml").values() for line in lines]
    overlap = [line for line in heldout if norm(line) in trained]
    assert not overlap, overlap
