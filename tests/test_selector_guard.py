"""The ResponseSelector confidence guard (components/selector_guard.py)."""
from __future__ import annotations

import pytest


def message(intent, confidence, selector_confidence):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={
        "text": "some question",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "response_selector": {"faq": {"response": {"confidence": selector_confidence,
                                                   "intent_response_key": "faq/pain"}}},
    })


@pytest.fixture()
def guard():
    from components.selector_guard import RetrievalConfidenceGuard

    return RetrievalConfidenceGuard({"threshold": 0.35, "retrieval_intents": ["faq"]})


def test_confident_intent_with_unsure_answer_goes_to_fallback(guard):
    [result] = guard.process([message("faq", 0.99, 0.2)])
    assert result.get("intent") == {"name": "nlu_fallback", "confidence": 0.2}
    assert result.get("intent_ranking")[0]["name"] == "nlu_fallback"


def test_confident_answer_is_kept(guard):
    [result] = guard.process([message("faq", 0.99, 0.8)])
    assert result.get("intent")["name"] == "faq"


def test_other_intents_are_untouched(guard):
    [result] = guard.process([message("greet", 0.99, 0.01)])
    assert result.get("intent")["name"] == "greet"
