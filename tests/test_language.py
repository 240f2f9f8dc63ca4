"""Which language a patient writes in (common/language.py) and the NLU component that
tells the dialogue (components/language.py), issue 16. No running bot needed."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
import yaml
from conftest import ROOT, set_texts

from common.language import chosen_language, detect, named_language

ENGLISH_SETS = [
    "tests/nlu/heldout.yml",
    "tests/nlu/patients.yml",
    "tests/nlu/patients_dev.yml",
    "tests/nlu/patients_dev_pages.yml",
    "tests/nlu/red_flags.yml",
]
SPANISH_SETS = [
    "tests/nlu/es/heldout.yml",
    "tests/nlu/es/patients.yml",
    "tests/nlu/es/patient_words.yml",
    "tests/nlu/es/red_flags.yml",
]
MIN_SPANISH_DETECTED = 0.95  # the rest may be None (very short replies), never "en"


def texts(path: str) -> List[str]:
    return set_texts(ROOT / path)


# ---------------------------------------------------------------- detect()
@pytest.mark.parametrize("path", ENGLISH_SETS)
def test_no_english_message_is_taken_for_spanish(path):
    messages = texts(path)
    assert messages
    spanish = [text for text in messages if detect(text) == "es"]
    assert not spanish, spanish
    assert sum(detect(text) == "en" for text in messages) >= 0.9 * len(messages)


@pytest.mark.parametrize("path", SPANISH_SETS)
def test_nearly_every_spanish_message_is_spanish(path):
    messages = texts(path)
    assert messages, f"{path} has no messages"
    english = [text for text in messages if detect(text) == "en"]
    assert not english, english
    found = sum(detect(text) == "es" for text in messages)
    assert found >= MIN_SPANISH_DETECTED * len(messages), [text for text in messages if detect(text) is None]


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "OK",
        "1",
        "2",
        "si",
        "sí",
        "Sí",
        "no",
        "yes",
        "y",
        "k",
        "11/3",
        "3/11/2026",
        "Nov 3",
        "2026-11-03",
        "/affirm",
        "/faq/duration",
        '/greet{"language":"es"}',
        "",
        "   ",
        "?",
        "hsg",
        "HSG?",
        "👍",
    ],
)
def test_short_replies_keep_the_conversation_language(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text, language",
    [
        ("¿me va a doler mucho el estudio?", "es"),
        ("q es el hsg", "es"),
        ("xq me piden la histerosalpingografia", "es"),
        ("mi appointment es el lunes, q tengo q llevar?", "es"),  # Spanglish, Spanish grammar
        ("el dye del HSG tiene yodo?", "es"),
        ("tmb quiero saber cuanto cuesta", "es"),
        ("hola", "es"),
        ("muchas gracias", "es"),
        ("does it hurt?", "en"),
        ("my period started on the 3rd, when can i have the hsg", "en"),
        ("thank you so much", "en"),
        ("my fiancé wants to come in with me, is that ok?", "en"),  # an accent in an English message
        ("I live in Los Angeles, is there a clinic near me?", "en"),  # Spanish names in English
        ("my doctor said 'no te preocupes' but i am worried, will it hurt?", "en"),
    ],
)
def test_clear_messages_get_their_language(text, language):
    assert detect(text) == language


# ---------------------------------------------------------------- choosing a language
@pytest.mark.parametrize(
    "text, language",
    [
        ("ENGLISH", "en"),
        ("English", "en"),
        ("INGLÉS", "en"),
        ("ingles", "en"),
        ("in english please", "en"),
        ("ESPAÑOL", "es"),
        ("español", "es"),
        ("ESPANOL", "es"),
        ("SPANISH", "es"),
        ("EN ESPAÑOL", "es"),
        ("¡Español!", "es"),
        ("  spanish.  ", "es"),
    ],
)
def test_a_whole_message_naming_a_language_chooses_it(text, language):
    assert chosen_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "english is not my first language, does it hurt?",
        "do you speak spanish and english",
        "mi esposo habla inglés",
        "/choose_language",
        "es",
    ],
)
def test_a_longer_message_is_no_choice(text):
    assert chosen_language(text) is None


@pytest.mark.parametrize(
    "text, language",
    [
        ("can you answer in spanish", "es"),
        ("my mom only reads spanish, can you switch", "es"),
        ("¿me puede contestar en inglés?", "en"),
        ("no hablo inglés", "es"),
        ("I don't speak Spanish", "en"),
        ("english or spanish", None),
        ("hello", None),
    ],
)
def test_the_language_a_request_names(text, language):
    assert named_language(text) == language


# ---------------------------------------------------------------- the Rasa component
def _message(text: str, intent: str = "faq", confidence: float = 0.9):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.05}],
        add_to_output=True,
    )
    message.set(
        "entities",
        [{"entity": "faq_mode", "value": "two", "start": 0, "end": 0, "extractor": "TopicClassifier"}],
        add_to_output=True,
    )
    return message


@pytest.fixture(scope="module")
def component():
    from components.language import LanguageDetector

    return LanguageDetector()


def _language(message):
    return [message.get("language")] if message.get("language") else []


def test_the_component_adds_the_language_when_it_is_clear(component):
    spanish, english, short = (
        _message("¿cuánto dura el estudio?"),
        _message("how long does it take?"),
        _message("ok", "affirm"),
    )
    component.process([spanish, english, short])
    assert _language(spanish) == ["es"] and _language(english) == ["en"] and _language(short) == []
    assert spanish.get("intent")["name"] == "faq"  # the topic is left alone
    assert any(e["entity"] == "faq_mode" for e in spanish.get("entities"))
    # a field of the parse, not an entity: it marks no span (the test stories' entities stay as written)
    assert not [e for e in spanish.get("entities") if e["entity"] == "language"]
    assert "language" in spanish.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    "text, language", [("ESPAÑOL", "es"), ("INGLÉS", "en"), ("English", "en"), ("en español", "es")]
)
def test_a_whole_message_language_becomes_choose_language(component, text, language):
    message = _message(text, "nlu_fallback", 0.3)
    component.process([message])
    assert message.get("intent") == {"name": "choose_language", "confidence": 1.0}
    ranking = message.get("intent_ranking")
    assert ranking[0] == {"name": "choose_language", "confidence": 1.0}
    assert [r["name"] for r in ranking[1:]] == ["nlu_fallback", "greet"]
    assert _language(message) == [language]
    assert not [e for e in message.get("entities") if e["extractor"] == "TopicClassifier"]


def test_choose_language_from_the_model_gets_the_language_named(component):
    asked = _message("can you answer in spanish please", "choose_language", 0.8)
    refused = _message("no hablo inglés", "choose_language", 0.8)
    component.process([asked, refused])
    assert _language(asked) == ["es"] and _language(refused) == ["es"]


def test_the_component_runs_after_the_classifiers_and_before_the_safety_net():
    names = [item["name"] for item in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    language = names.index("components.language.LanguageDetector")
    assert names.index("components.topic_classifier.TopicClassifier") < language
    assert names.index("FallbackClassifier") < language
    assert language < names.index("components.safety_net.SymptomSafetyNet")


def test_the_safety_net_still_wins_after_the_language(component):
    from components.safety_net import SymptomSafetyNet

    net = SymptomSafetyNet({"patterns_file": str(ROOT / "safety" / "red_flags.yml")})
    urgent, choice = (
        _message("I have a fever of 102 since the HSG", "faq", 0.8),
        _message("ESPAÑOL", "nlu_fallback", 0.3),
    )
    component.process([urgent, choice])
    net.process([urgent, choice])
    assert urgent.get("intent")["name"] == "report_symptoms" and _language(urgent) == ["en"]
    assert choice.get("intent")["name"] == "choose_language"


def test_the_word_list_has_no_word_in_both_languages():
    spec = yaml.safe_load((ROOT / "common" / "language_words.yml").read_text(encoding="utf-8"))
    from common.language import fold

    words = spec["english"] + spec["spanish"] + spec["spanish_strong"]
    assert all(isinstance(w, str) for w in words), [w for w in words if not isinstance(w, str)]  # YAML's yes/on/no
    english = {fold(str(w)) for w in spec["english"]}
    spanish = {fold(str(w)) for w in spec["spanish"] + spec["spanish_strong"]}
    assert not english & spanish, sorted(english & spanish)


def test_the_word_list_is_data_not_code():
    source = Path(ROOT / "common" / "language.py").read_text(encoding="utf-8")
    assert "gracias" not in source.split('"""', 2)[2] and "hola" not in source.split('"""', 2)[2]
