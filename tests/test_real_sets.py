"""The real patients' messages of issue 23 (tests/nlu/real/), split by page into training,
development and test parts per language (scripts/real_sets.py). No running bot needed.

The split is re-derived here from its written rule, not imported from the script that made it,
so a hand edit that moves a message to another part, or a changed rule, fails."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Dict, List

import pytest
import yaml
from conftest import ROOT, load_nlu_examples

from common.language import detect

REAL = ROOT / "tests" / "nlu" / "real"
PARTS = ("train", "dev", "test")
LANGUAGES = ("en", "es")
DATA_FILE = {"en": ROOT / "data/nlu/real_patients.yml", "es": ROOT / "data/nlu/es/real_patients.yml"}
MIN_DETECTED = 0.9  # of a file's messages detected as its language; the rest unsure (None), never the other


def page(url: str) -> str:
    address = re.sub(r"^https?://(www\.)?", "", url.strip())
    return re.sub(r"[?#].*$", "", address).rstrip("/").lower()


def normal(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def runs(text: str, size: int = 5) -> set:
    words = normal(text).split()
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def messages(part: str, language: str) -> List[dict]:
    content = yaml.safe_load((REAL / f"{part}_{language}.yml").read_text(encoding="utf-8"))
    return content["trained_messages" if part == "train" else "messages"]


def old_pages(name: str) -> set:
    content = yaml.safe_load((ROOT / "tests/nlu" / name).read_text(encoding="utf-8"))["messages"]
    return {page(m["source"]) for m in content if str(m.get("source", "")).startswith("http")}


SETS: Dict[tuple, List[dict]] = {(part, language): messages(part, language) for part in PARTS for language in LANGUAGES}


def expected_part(url: str) -> str:
    """The written rule: a page of the older development set is development; otherwise sha256 of
    the page address modulo 20: 0-13 training, 14-16 development, 17-19 test."""
    if page(url) in old_pages("patients_dev_pages.yml"):
        return "dev"
    bucket = int(hashlib.sha256(page(url).encode("utf-8")).hexdigest(), 16) % 20
    return "train" if bucket < 14 else "dev" if bucket < 17 else "test"


@pytest.mark.parametrize("part, language", sorted(SETS))
def test_every_message_is_complete_and_of_its_file(part, language):
    from test_coverage import KEYS

    assert SETS[(part, language)], f"{part}_{language}.yml has no messages"
    for m in SETS[(part, language)]:
        assert m["text"].strip() and m["text"] == " ".join(m["text"].split()), m
        assert m["topics"] and len(set(m["topics"])) == len(m["topics"]), m
        assert set(m["topics"]) <= set(KEYS), f"not a topic key of docs/topics.md: {m['topics']}"
        assert m["language"] == language and m["source"].startswith("http"), m
        assert m.get("two_questions", True) is True, "two_questions is written only when true"


def test_no_page_is_in_two_parts_and_each_is_in_the_part_its_address_gives():
    part_of_page: Dict[str, str] = {}
    for (part, _), content in SETS.items():
        for m in content:
            assert part_of_page.setdefault(page(m["source"]), part) == part, f"{m['source']} in two parts"
    wrong = {address: part for address, part in part_of_page.items() if expected_part(address) != part}
    assert not wrong, wrong


def test_no_page_of_the_older_test_set_is_used():
    used = old_pages("patients.yml")
    assert not [m["source"] for content in SETS.values() for m in content if page(m["source"]) in used]


def test_no_message_appears_twice_whole_or_mostly():
    seen: Dict[str, str] = {}
    for content in SETS.values():
        for m in content:
            shared = [run for run in runs(m["text"]) if run in seen]
            assert len(shared) < 0.5 * len(runs(m["text"])), f"{m['text']!r} repeats {seen.get(shared[0])!r}"
            seen.update({run: m["text"] for run in runs(m["text"])})


def test_no_development_or_test_message_is_trained_on():
    trained = {
        normal(t)
        for path in (ROOT / "data" / "nlu").rglob("*.yml")
        for lines in load_nlu_examples(path).values()
        for t in lines
    }
    held_out = [m["text"] for (part, _), content in SETS.items() if part != "train" for m in content]
    assert not [text for text in held_out if normal(text) in trained]


def _label(key: str) -> str:
    from test_coverage import KEYS

    return KEYS[key]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rasa_training_file_is_the_training_part_under_its_first_topic(language):
    content = yaml.safe_load(DATA_FILE[language].read_text(encoding="utf-8"))
    trained = sorted((label, text) for label, texts in load_nlu_examples(DATA_FILE[language]).items() for text in texts)
    assert trained == sorted((_label(m["topics"][0]), m["text"]) for m in SETS[("train", language)])
    for block in content["nlu"]:  # the topic model reads an example's language from its intent's metadata
        assert (block.get("metadata") or {}).get("language") == (None if language == "en" else language), block


@pytest.mark.parametrize("part", PARTS)
def test_english_files_are_english(part):
    texts = [m["text"] for m in SETS[(part, "en")] if not m.get("spanglish")]
    assert not [text for text in texts if detect(text) == "es"]
    assert sum(detect(text) == "en" for text in texts) >= MIN_DETECTED * len(texts)


@pytest.mark.parametrize("part", PARTS)
def test_spanish_files_are_spanish(part):
    texts = [m["text"] for m in SETS[(part, "es")] if not m.get("spanglish")]
    assert not [text for text in texts if detect(text) == "en"]
    assert sum(detect(text) == "es" for text in texts) >= MIN_DETECTED * len(texts), [
        text for text in texts if detect(text) != "es"
    ]
