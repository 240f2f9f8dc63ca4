"""Every answer has an SMS form that fits in 2 segments (a Spanish one in 4: accents
make it UCS-2), and the counter is right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from common.sms_segments import segments
from editor.checks import load_rules, sms_body

ANSWERS = Path(__file__).resolve().parent.parent / "content" / "answers"


def sms_only_responses():
    """Answers that exist only by SMS (STOP, START, HELP, the staff's first text): every
    variant of theirs is an SMS form."""
    answers = [yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in sorted(ANSWERS.rglob("*.yml"))]
    return {answer["response"] for answer in answers if answer.get("sms_only")}


def test_the_sms_only_answers_are_found():
    found = sms_only_responses()
    assert {"utter_sms_stop", "utter_sms_start", "utter_sms_help", "utter_first_text_book_hsg"} <= found
    assert {"utter_reminder_window", "utter_reminder_device", "utter_reminder_offer"} <= found
    assert "utter_greet" not in found


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("{" * 80, ("GSM-7", 1)),  # extension characters count twice
        ("{" * 81, ("GSM-7", 2)),
        ("é" * 160, ("GSM-7", 1)),  # é is in the GSM-7 alphabet
        ("’" * 70, ("UCS-2", 1)),  # a curly quote forces UCS-2
        ("’" * 71, ("UCS-2", 2)),
        ("’" * 134, ("UCS-2", 2)),
        ("’" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # outside the BMP: two units each
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_segment_counter(text, expected):
    assert segments(text) == expected


def sms_forms(domain):
    sms_only = sms_only_responses()
    for name, variants in domain["responses"].items():
        forms = [v for v in variants if v.get("channel") == "twilio"]
        if name in sms_only:
            forms = variants
        yield name, forms


def test_every_response_has_an_sms_form(domain):
    missing = [name for name, forms in sms_forms(domain) if not forms]
    assert not missing, missing


def language_of(variant):
    return "es" if {"type": "slot", "name": "language", "value": "es"} in (variant.get("condition") or []) else "en"


def test_every_sms_form_fits_its_segments_with_its_choices(domain):
    rules = load_rules()
    limits = {"en": rules["max_sms_segments"], "es": rules["max_sms_segments_es"]}
    assert limits == {"en": 2, "es": 4}
    too_long, spanish = [], 0
    for name, forms in sms_forms(domain):
        for form in forms:
            # The built domain has the clinic filled in; the longest dates come from content/checks.yml.
            language = language_of(form)
            spanish += language == "es"
            body = sms_body(form, {}, rules, language)
            encoding, count = segments(body)
            if count > limits[language]:
                too_long.append(f"{name}: {encoding}, {count} segments, {len(body)} characters")
    assert not too_long, too_long
    assert spanish == len(list(sms_forms(domain)))  # every answer has a Spanish SMS form


def test_sms_forms_are_plain_text(domain):
    for name, forms in sms_forms(domain):
        for form in forms:
            assert not re.search(r"(^|\n)\s*[-*#]|<[a-z/]|\*\*|__|\[.+\]\(", form["text"]), name
            assert "custom" not in form, name
