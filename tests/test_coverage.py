"""Every topic key in the product brief is trained, tested, and answered."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT, SHARED, load_nlu_examples

PLAIN_KEYS = {"timing", "device_confirmation", "report_symptoms", "human_handoff", "out_of_scope",
              "bot_challenge", "greet", "goodbye", "thankyou"}
MIN_HELDOUT_PER_KEY = 5


def product_topic_keys():
    """Topic keys from the table in ../shared/docs/product.md."""
    text = (SHARED / "docs" / "product.md").read_text()
    section = text.split("### Topic keys", 1)[1].split("###", 1)[0]
    keys = set()
    for cell in re.findall(r"^\|\s*([a-z_, ]+?)\s*\|", section, re.M):
        keys.update(k.strip() for k in cell.split(",") if k.strip() and k.strip() != "key")
    return keys


def training_examples():
    examples = {}
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for intent, lines in load_nlu_examples(path).items():
            examples.setdefault(intent, []).extend(lines)
    return examples


def as_intent(key):
    return key if key in PLAIN_KEYS else f"faq/{key}"


def test_product_brief_lists_the_keys_we_expect():
    keys = product_topic_keys()
    assert len(keys) == 27 and {"what_is_hsg", "report_symptoms", "greet", "thankyou"} <= keys


@pytest.mark.parametrize("key", sorted(product_topic_keys()))
def test_key_is_trained(key):
    assert len(training_examples().get(as_intent(key), [])) >= 25


@pytest.mark.parametrize("key", sorted(product_topic_keys()))
def test_key_is_in_the_heldout_set(key):
    heldout = load_nlu_examples(ROOT / "tests" / "nlu" / "heldout.yml")
    assert len(heldout.get(as_intent(key), [])) >= MIN_HELDOUT_PER_KEY


@pytest.mark.parametrize("key", sorted(k for k in product_topic_keys() if k not in PLAIN_KEYS))
def test_faq_key_has_an_answer(domain, key):
    assert f"utter_faq/{key}" in domain["responses"]


def test_heldout_never_overlaps_training():
    def norm(text):
        return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()
    trained = {norm(line) for lines in training_examples().values() for line in lines}
    heldout = [line for lines in load_nlu_examples(ROOT / "tests/nlu/heldout.yml").values() for line in lines]
    overlap = [line for line in heldout if norm(line) in trained]
    assert not overlap, overlap
