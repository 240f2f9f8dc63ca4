"""Every patient-facing answer: present, short, plain, safe, and fully filled in."""
from __future__ import annotations

import ast
import re

from actions.settings import placeholders
from conftest import ROOT
from editor.checks import check_store
from editor.store import open_store, rasa_responses


def test_every_answer_passes_every_check(settings):
    """The same checks as the editor's save and `make check-content`."""
    problems, rows = check_store(open_store().answers(), placeholders(settings))
    assert not problems, "\n".join(str(p) for p in problems)
    assert len(rows) == len(open_store().answers()) > 50


def test_the_built_domain_holds_the_content_store(domain, settings):
    """build/domain.yml (what training and the fallback copy use) is the store, filled in."""
    assert domain["responses"] == rasa_responses(open_store(), placeholders(settings))


def all_texts(domain):
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield name, variant.get("text", "")


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
    """Words for patients live in content/answers/; Python only names responses."""
    for path in list((ROOT / "actions").glob("*.py")) + list((ROOT / "components").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "utter_message":
                assert not any(k.arg in ("text", "template") for k in node.keywords), f"{path.name}: literal text"
