"""Every patient-facing answer: present, short, plain, safe, and fully filled in."""
from __future__ import annotations

import ast
import re
import statistics
from pathlib import Path

import pytest
import textstat

from conftest import ROOT

# Words a patient needs even though they are long; not counted against the reading grade.
MEDICAL_TERMS = {"hysterosalpingogram", "hsg", "fallopian", "catheter", "contrast", "fluoroscope",
                 "fluoroscopy", "radiologist", "essure", "adiana", "ibuprofen", "uterus", "cervix", "iud"}
# Filled in by the actions at run time (actions/flow.py); everything else must be filled at build time.
RUNTIME_PLACEHOLDERS = {"date_text", "start_text", "end_text", "start_day", "end_day", "cycle_start_text",
                        "check_text", "placed_text", "months", "start_iso", "end_iso",
                        "cycle_start_iso", "today_iso", "bleeding_end_iso"}
MAX_WORDS = 80
MAX_GRADE = 8
MAX_MEDIAN_GRADE = 6
PROMISES = re.compile(r"\b(guarantee[sd]?|100 ?%|definitely|always works|nothing to worry)\b", re.I)


def all_texts(domain):
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield name, variant.get("text", "")


def plain_grade(text: str) -> float:
    """Flesch-Kincaid grade with the medical terms a patient needs swapped for a short word."""
    words = re.sub(r"\{[a-z_]+\}", "it", text)
    for term in MEDICAL_TERMS:
        words = re.sub(rf"\b{term}\b", "test", words, flags=re.I)
    return textstat.flesch_kincaid_grade(words)


def test_every_answer_is_short(domain):
    long = [f"{name}: {len(text.split())} words" for name, text in all_texts(domain) if len(text.split()) > MAX_WORDS]
    assert not long, long


def test_every_answer_is_easy_to_read(domain):
    grades = {name: plain_grade(text) for name, text in all_texts(domain)}
    hard = {name: grade for name, grade in grades.items() if grade > MAX_GRADE}
    assert not hard, f"above grade {MAX_GRADE}: {hard}"
    assert statistics.median(grades.values()) <= MAX_MEDIAN_GRADE


def test_no_answer_promises_an_outcome(domain):
    promises = [name for name, text in all_texts(domain) if PROMISES.search(text)]
    assert not promises, promises


def test_every_clinic_placeholder_was_filled(domain):
    left = {name: sorted(set(re.findall(r"\{([a-z_]+)\}", text)) - RUNTIME_PLACEHOLDERS)
            for name, text in all_texts(domain)}
    assert not {name: keys for name, keys in left.items() if keys}


def test_urgent_answer_gives_911_and_the_clinic_phone_and_never_reassures(domain, settings):
    for _, text in (item for item in all_texts(domain) if item[0] == "utter_urgent"):
        assert settings["emergency_number"] in text and settings["clinic_phone"] in text
        assert not re.search(r"\b(normal|fine|nothing|don't worry|common)\b", text, re.I)


def test_greeting_says_it_is_automated_and_not_medical_advice(domain):
    text = domain["responses"]["utter_greet"][0]["text"].lower()
    assert "automated" in text and "not medical advice" in text


def test_handoff_gives_phone_and_booking(domain, settings):
    text = domain["responses"]["utter_handoff"][0]["text"]
    assert settings["clinic_phone"] in text and settings["booking_url"] in text


def test_fallback_offers_topics_and_the_phone(domain, settings):
    variant = domain["responses"]["utter_fallback"][0]
    assert settings["clinic_phone"] in variant["text"] and len(variant.get("buttons", [])) >= 3


def responses_named_in_code():
    names = set()
    for path in (ROOT / "actions").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("utter_"):
                names.add(node.value)
    return names


def test_every_response_the_code_sends_exists(domain):
    missing = responses_named_in_code() - set(domain["responses"])
    assert not missing, missing


def test_button_payloads_name_real_intents(domain):
    intents = set(domain["intents"])
    for name, variants in domain["responses"].items():
        for variant in variants:
            for button in variant.get("buttons", []):
                payload = button["payload"]
                if payload.startswith("/"):
                    assert re.match(r"/(\w+)", payload).group(1) in intents, (name, payload)


def test_no_patient_facing_sentences_in_python():
    """Words for patients live in responses/; Python only names responses."""
    for path in list((ROOT / "actions").glob("*.py")) + list((ROOT / "components").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "utter_message":
                assert not any(k.arg in ("text", "template") for k in node.keywords), f"{path.name}: literal text"
