"""The red-flag safety net (components/safety_net.py, safety/red_flags.yml)."""
from __future__ import annotations

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def flags():
    from components.safety_net import RedFlags

    return RedFlags(ROOT / "safety" / "red_flags.yml")


@pytest.mark.parametrize("text", [
    "still bleeding 5 days after the hsg and it hasnt slowed down",   # looks like a form answer
    "bleeding hasn't stopped since my hsg on monday",
    "I have a fever of 101",
    "my temperature is 102 since yesterday",
    "I fainted in the parking lot",
    "my throat feels like it's closing",
    "I can't breathe well",
    "I'm soaking through a pad every hour",
    "the pain is getting worse",
    "there's a really bad smell down there",
    "cramps since the test and they keep getting worse",
    "I have a fever, is that normal?",                               # a symptom, then a question
])
def test_described_symptoms_are_urgent(flags, text):
    assert flags.is_urgent(text)


@pytest.mark.parametrize("text", [
    "I'm still bleeding",                       # answer to "when did the bleeding stop?"
    "it hasn't stopped yet",
    "what if I get a fever after the hsg",      # a question about warning signs
    "what if I have trouble breathing after",
    "should I call 911 if I faint after the test",
    "is it ok if I bleed a little after the hsg",
    "will I bleed after the hsg",
    "my test came back a faint positive",
    "I got hives from CT contrast once",        # allergy history, not a symptom now
    "does the hsg hurt",
])
def test_questions_and_form_answers_are_left_to_the_model(flags, text):
    assert not flags.is_urgent(text)
