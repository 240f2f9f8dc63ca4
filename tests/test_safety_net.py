"""The red-flag safety net (components/safety_net.py, safety/red_flags.yml and, for
Spanish, safety/red_flags_es.yml).

Besides the examples below, the net is measured on the safety sets
tests/nlu/red_flags.yml and tests/nlu/es/red_flags.yml (never used for training):
every urgent message must be caught, and at most 5% of the look-alikes may be (the
bot-level target is 10%; the NLU model adds some false alarms of its own).
"""

from __future__ import annotations

import logging
import re
from typing import Dict, List

import pytest
import yaml
from conftest import ROOT, load_nlu_examples

SAFETY_SET = ROOT / "tests" / "nlu" / "red_flags.yml"
SPANISH_SAFETY_SET = ROOT / "tests" / "nlu" / "es" / "red_flags.yml"
MIN_MESSAGES = 70
MIN_SPANISH_MESSAGES = 80
MAX_FALSE_ALARMS = 0.05


@pytest.fixture(scope="module")
def flags():
    from components.safety_net import RedFlags

    return RedFlags(ROOT / "safety" / "red_flags.yml")


def _load_set(path) -> Dict[str, List[str]]:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {kind: [item["text"] for item in content[kind]] for kind in ("urgent", "not_urgent")}


@pytest.fixture(scope="module")
def safety_set() -> Dict[str, List[str]]:
    return _load_set(SAFETY_SET)


@pytest.fixture(scope="module")
def spanish_set() -> Dict[str, List[str]]:
    return _load_set(SPANISH_SAFETY_SET)


def _norm(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [Nov 3](date) -> Nov 3
    text = re.sub(r"\[([^\]]+)\]\{[^}]*\}", r"\1", text)  # [Nov 3]{"entity": ...}
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


# ---------------------------------------------------------------- examples
@pytest.mark.parametrize(
    "text",
    [
        "still bleeding 5 days after the hsg and it hasnt slowed down",  # looks like a form answer
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
        "I have a fever, is that normal?",  # a symptom, then a question
        # issue 11: a question after (or before) the symptom, past tense, SMS style
        "I have a fever of 102, what if it's an infection?",
        "I fainted. Should I go to the ER?",
        "I passed out",
        "I blacked out",
        "passed out after the test",
        "im bleeding thru a pad every hour",
        "fever 102 since yesterday",
        "face is swelling up",
        "cant breathe",
        "should I go to the ER i have a fever",
        "no idea why but I fainted",  # a hedge, not a negation
        "I've never felt this faint",
        "my wife fainted after her hsg",  # someone writing for the patient
    ],
)
def test_described_symptoms_are_urgent(flags, text):
    assert flags.is_urgent(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm still bleeding",  # answer to "when did the bleeding stop?"
        "it hasn't stopped yet",
        "what if I get a fever after the hsg",  # a question about warning signs
        "what if I have trouble breathing after",
        "should I call 911 if I faint after the test",
        "is it ok if I bleed a little after the hsg",
        "will I bleed after the hsg",
        "my test came back a faint positive",
        "I got hives from CT contrast once",  # allergy history, not a symptom now
        "does the hsg hurt",
        # issue 11: general questions, other people, old history, negations, form answers
        "is a fever common after it?",
        "what if I get a fever",
        "should I call 911 if I faint",
        "my sister fainted at her exam years ago",
        "a woman on a forum said she had a fever after hers",
        "my period is heavy",
        "it stopped on the 3rd",
        "no fever, just mild cramps, is that ok?",
        "is spotting normal after hsg?",
        "I don't have a fever",
        "",
    ],
)
def test_questions_and_form_answers_are_left_to_the_model(flags, text):
    assert not flags.is_urgent(text)


# ---------------------------------------------------------------- clauses
@pytest.mark.parametrize(
    "text, clauses",
    [
        ("I have a fever of 102, what if it's an infection?", ["i have a fever of 102", "what if its an infection"]),
        ("I fainted. Should I go to the ER?", ["i fainted", "should i go to the er"]),
        ("i fainted should i go to the er", ["i fainted", "should i go to the er"]),
        ("should I go to the ER i have a fever", ["should i go to the er", "i have a fever"]),
        ("My temp is 101.5; help", ["my temp is 101.5", "help"]),  # no cut inside 101.5
        ("no fever, just mild cramps, is that ok?", ["no fever, just mild cramps", "is that ok"]),
        ("it was fine but now im soaking thru pads", ["it was fine", "but now im soaking through pads"]),
        ("what if i have a fever", ["what if i have a fever"]),  # "if i have" stays together
        ("is it normal that i have a fever", ["is it normal that i have a fever"]),
        ("what if I get a fever, and then start vomiting", ["what if i get a fever", "and then start vomiting"]),
    ],
)
def test_the_splitter_cuts_messages_into_clauses(flags, text, clauses):
    assert flags.split(text) == clauses


def test_a_continued_clause_keeps_its_what_if(flags):
    assert not flags.is_urgent("what if I get a fever, and then start vomiting")
    assert flags.is_urgent("I got a fever, and then started vomiting")


def test_misspellings_and_text_words_are_rewritten(flags):
    assert (
        flags.normalize("Im bleding thru a pad rn, feaver 2day") == "im bleeding through a pad right now, fever today"
    )


# ---------------------------------------------------------------- the safety set
def test_the_safety_set_is_big_and_never_trained_on(safety_set):
    assert len(safety_set["urgent"]) >= MIN_MESSAGES
    assert len(safety_set["not_urgent"]) >= MIN_MESSAGES
    texts = safety_set["urgent"] + safety_set["not_urgent"]
    assert len({_norm(text) for text in texts}) == len(texts), "a message appears twice"
    trained = {
        _norm(line)
        for path in (ROOT / "data" / "nlu").glob("*.yml")
        for lines in load_nlu_examples(path).values()
        for line in lines
    }
    overlap = [text for text in texts if _norm(text) in trained]
    assert not overlap, f"in data/nlu too: {overlap}"


def test_every_urgent_message_of_the_safety_set_is_caught(flags, safety_set):
    missed = [text for text in safety_set["urgent"] if not flags.is_urgent(text)]
    assert not missed, f"missed {len(missed)}/{len(safety_set['urgent'])}: {missed}"


def test_look_alikes_of_the_safety_set_rarely_raise_an_alarm(flags, safety_set):
    alarms = [text for text in safety_set["not_urgent"] if flags.is_urgent(text)]
    assert len(alarms) <= MAX_FALSE_ALARMS * len(safety_set["not_urgent"]), (
        f"false alarms {len(alarms)}/{len(safety_set['not_urgent'])}: {alarms}"
    )


# ---------------------------------------------------------------- Spanish (issue 16)
# Each case pairs a message that is urgent only by the Spanish patterns with a look-alike
# that the Spanish rules must leave to the model, so that every test below fails when the
# Spanish patterns are removed (the English rules alone do not catch the urgent half).
@pytest.mark.parametrize(
    "urgent, not_urgent",
    [
        # negation: "no", "nunca", "sin", "ni", "ningún", "nada de", and one after ("fiebre no")
        ("tengo fiebre", "no tengo fiebre"),
        ("me desmayé en la casa", "nunca me desmayé, solo me sentí rara"),
        ("tengo escalofríos", "sin fiebre ni escalofríos"),
        ("estoy sangrando muchísimo", "no estoy sangrando mucho, apenas unas gotitas"),
        ("el flujo huele muy mal", "el flujo no huele mal"),
        ("me duele muchísimo", "no me duele mucho, solo molestia"),
        ("tengo calentura", "fiebre no, solo cansancio"),
        ("me falta el aire", "no me falta el aire ni nada"),
        # ...but not these: a hedge, "no paro de", "nunca había ... tanto", "no para"
        ("no sé si es normal pero me desmayé", "no me desmayé"),
        ("no paro de vomitar desde anoche", "no he vomitado"),
        ("nunca había sangrado tanto", "nunca sangré mucho"),
        ("no tengo fiebre pero estoy empapando una toalla cada hora", "no tengo fiebre ni dolor"),
        ("no tengo fiebre y estoy sangrando mucho", "no tengo fiebre y escalofríos"),  # "y" between nouns
    ],
)
def test_spanish_negations(flags, urgent, not_urgent):
    assert flags.is_urgent(urgent)
    assert not flags.is_urgent(not_urgent)


@pytest.mark.parametrize(
    "urgent, not_urgent",
    [
        # hypothetical: "si", "qué pasa si", "y si", "en caso de", "por si", "puede", "va a", fear
        ("me dio fiebre", "¿qué pasa si me da fiebre?"),
        ("me desmayé en la casa", "q pasa si me desmayo en la casa?"),
        ("se me hinchó la cara con el contraste", "¿y si se me hincha la cara con el contraste?"),
        ("tengo sangrado abundante desde el estudio", "en caso de sangrado abundante, ¿a quién llamo?"),
        ("empecé a vomitar", "¿qué hago si empiezo a vomitar?"),
        ("me salieron ronchas", "¿el contraste puede causar ronchas?"),
        ("estoy sangrando mucho", "¿voy a sangrar mucho después?"),
        ("tengo un dolor muy fuerte", "me da miedo que me duela muchísimo"),
        ("me dio fiebre después", "what if me da fiebre después?"),
        # "sí" (yes) is not "si" (if)
        ("sí, tengo fiebre", "si tengo fiebre, ¿llamo a la clínica?"),
        # the "qué pasa si" goes on after "y ..." and after a time word, not after "pero"
        ("me dio fiebre, y luego me desmayé", "¿qué pasa si me da fiebre, y luego me desmayo?"),
        ("no sé si es normal tengo fiebre de 39", "¿qué pasa si mañana tengo fiebre?"),
    ],
)
def test_spanish_hypotheticals(flags, urgent, not_urgent):
    assert flags.is_urgent(urgent)
    assert not flags.is_urgent(not_urgent)


@pytest.mark.parametrize(
    "urgent, not_urgent",
    [
        # questions: a symptom said of oneself counts; a general question does not
        ("¿Es normal que tenga 38,5 de fiebre?", "¿es normal tener fiebre después del estudio?"),
        ("tengo 39 de fiebre, es normal?", "¿la fiebre es normal después del estudio?"),
        ("me duele mucho", "¿el estudio duele mucho?"),
        ("¿por qué estoy sangrando tanto?", "¿cuánto sangrado es demasiado?"),
        ("me desmayé, ¿debo ir a urgencias?", "¿cuándo debo ir a urgencias?"),
        # a topic: "es una señal de alarma"
        ("el sangrado abundante no para", "sé que el sangrado abundante es una señal de alarma"),
        # other people, and someone writing for the patient
        ("me desmayé en mi HSG", "mi hermana se desmayó en su HSG"),
        ("mi esposa se desmayó después de su estudio", "mi amiga se desmayó después de su estudio"),
        ("tengo ronchas", "a mi mamá le salieron ronchas con el contraste"),
        ("me dijo la enfermera que tengo fiebre", "me dijeron que el dolor es horrible"),
        # old history and habits; "hace dos días" is not old
        ("tengo fiebre desde hace dos días", "hace años tuve una infección con fiebre alta"),
        ("me salieron ronchas con el contraste", "hace unos años me salieron ronchas con una tomografía"),
        ("me mareo muchísimo", "siempre me mareo muchísimo con las agujas"),
        # a temperature, not an age
        ("tengo 38 de fiebre", "tengo 38 años, ¿hay algún riesgo?"),
        # the exam as the subject is a question sent without its "?"; "me" makes it hers
        ("el estudio me dolió mucho y sigo sangrando", "duele mucho el estudio"),
        ("el examen me duele muchísimo", "oiga y eso del hsg duele mucho o nomas tantito"),
    ],
)
def test_spanish_questions_people_and_history(flags, urgent, not_urgent):
    assert flags.is_urgent(urgent)
    assert not flags.is_urgent(not_urgent)


@pytest.mark.parametrize(
    "text, clauses",
    [
        ("tengo 39 de fiebre, ¿es normal?", ["tengo 39 de fiebre", "es normal"]),  # ¿ starts a sentence
        ("¿qué hago? tengo fiebre", ["que hago", "tengo fiebre"]),
        ("q hago tngo fiebre", ["que hago", "tengo fiebre"]),  # no punctuation
        ("me desmayé pero ya estoy bien", ["me desmaye", "pero ya estoy bien"]),
        ("me siento bien aunque tengo 38,5", ["me siento bien", "aunque tengo 38,5"]),  # no cut in 38,5
        ("tengo la cara y los labios hinchados", ["tengo la cara", "y los labios hinchados"]),
        ("no tengo fiebre y estoy sangrando mucho", ["no tengo fiebre", "y estoy sangrando mucho"]),
        ("me desmayé. ¡Ayuda!", ["me desmaye", "ayuda"]),
        ("me dio fiebre, y luego me desmayé", ["me dio fiebre", "y luego me desmaye"]),
    ],
)
def test_the_spanish_splitter_cuts_messages_into_clauses(flags, text, clauses):
    """Each of these messages is urgent by one of its clauses."""
    assert flags.language("es").split(text) == clauses
    assert flags.is_urgent(text)


def test_spanish_accents_sms_words_and_typos_are_rewritten(flags):
    spanish = flags.language("es")
    assert (
        spanish.normalize("Tngo fiebre d 39 xq me desmallé, q hago?")
        == "tengo fiebre de 39 porque me desmaye, que hago?"
    )
    assert spanish.normalize("Sí, tengo fiebre") == "sip, tengo fiebre"  # "sí" (yes) is not "si" (if)
    for text in (
        "me desmayé después del estudio",
        "me desmaye despues del estudio",
        "ME DESMAYÉ DESPUÉS DEL ESTUDIO",
        "me desmalle dsp del estudio",
    ):
        assert flags.is_urgent(text), text


def _check_the_spanish_set(spanish_set) -> None:
    """The Spanish set is big enough, has no message twice and none from the training data."""
    assert len(spanish_set["urgent"]) >= MIN_SPANISH_MESSAGES
    assert len(spanish_set["not_urgent"]) >= MIN_SPANISH_MESSAGES
    texts = spanish_set["urgent"] + spanish_set["not_urgent"]
    assert len({_norm(text) for text in texts}) == len(texts), "a message appears twice"
    trained = {
        _norm(line)
        for path in (ROOT / "data" / "nlu").glob("**/*.yml")
        for lines in load_nlu_examples(path).values()
        for line in lines
    }
    overlap = [text for text in texts if _norm(text) in trained]
    assert not overlap, f"in data/nlu too: {overlap}"


def test_every_urgent_message_of_the_spanish_set_is_caught(flags, spanish_set):
    _check_the_spanish_set(spanish_set)
    missed = [text for text in spanish_set["urgent"] if not flags.is_urgent(text)]
    assert not missed, f"missed {len(missed)}/{len(spanish_set['urgent'])}: {missed}"


def test_look_alikes_of_the_spanish_set_rarely_raise_an_alarm(flags, spanish_set):
    _check_the_spanish_set(spanish_set)
    # measured on working Spanish rules: alone, they catch (nearly) every urgent message
    spanish = flags.language("es")
    caught = [text for text in spanish_set["urgent"] if spanish.describes_red_flag(text)]
    assert len(caught) >= 0.9 * len(spanish_set["urgent"]), "the Spanish patterns catch too little"
    alarms = [text for text in spanish_set["not_urgent"] if flags.is_urgent(text)]
    assert len(alarms) <= MAX_FALSE_ALARMS * len(spanish_set["not_urgent"]), (
        f"false alarms {len(alarms)}/{len(spanish_set['not_urgent'])}: {alarms}"
    )


def test_the_spanish_rules_raise_no_alarm_on_english_look_alikes(flags, safety_set):
    spanish = flags.language("es")
    assert spanish.describes_red_flag("tengo fiebre")
    alarms = [text for text in safety_set["not_urgent"] if spanish.describes_red_flag(text)]
    assert not alarms, alarms


# ---------------------------------------------------------------- hearsay (issue 22)
# What happened to someone else, what a friend said, what the patient read, heard or
# fears is a look-alike; her own symptom inside such a message is urgent. The messages
# marked `hearsay: true` in both safety sets are each judged by the net alone.
MIN_HEARSAY_LOOK_ALIKES = 25
MIN_HEARSAY_URGENT = 10


def _hearsay(kind: str) -> List[str]:
    return [
        item["text"]
        for path in (SAFETY_SET, SPANISH_SAFETY_SET)
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))[kind]
        if item.get("hearsay")
    ]


@pytest.mark.parametrize("path", [SAFETY_SET, SPANISH_SAFETY_SET], ids=["en", "es"])
def test_each_safety_set_has_hearsay_on_both_sides(path):
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert sum(bool(item.get("hearsay")) for item in content["not_urgent"]) >= MIN_HEARSAY_LOOK_ALIKES
    assert sum(bool(item.get("hearsay")) for item in content["urgent"]) >= MIN_HEARSAY_URGENT


@pytest.mark.parametrize("text", _hearsay("not_urgent"))
def test_hearsay_and_fears_are_not_symptoms(flags, text):
    assert not flags.is_urgent(text)


@pytest.mark.parametrize("text", _hearsay("urgent"))
def test_the_patients_own_symptom_inside_hearsay_is_urgent(flags, text):
    assert flags.is_urgent(text)


@pytest.mark.parametrize(
    "urgent, not_urgent",
    [
        # hearsay covers what follows it, until a statement of the patient's own
        (
            "I read a fever can mean an infection and I've got 101.5 now",
            "I read a fever can mean an infection and can go over 101.5",
        ),
        (
            "I heard the cramps are terrible and my cramps keep getting worse",
            "I heard the cramps are terrible and get worse at night",
        ),
        (
            "escuché que el yodo da alergia y se me está hinchando la cara",
            "escuché que el yodo da alergia y a algunas se les hincha la cara",
        ),
        ("I did faint at the clinic", "I was told some women faint at the clinic"),
        ("vi videos y ahora me duele horrible", "vi videos de mujeres a las que les duele horrible"),
        # a continued clause naming the patient leaves hearsay behind; a Spanish "qué pasa si" not
        ("leí que puede ser infección, y tengo 38.7", "¿qué pasa si me da fiebre, y tengo 38.7?"),
        (
            "I read it's common to bleed a lot, and I'm soaking a pad every hour",
            "I read it's common to bleed a lot, and to soak a pad every hour",
        ),
        # other people, and "me" as a place ("the lady next to me")
        ("the lady next to me said I fainted", "the lady next to me fainted"),
        ("I got hives after the dye", "my bestie got hives after the dye"),
        ("me dio calentura después del estudio", "mi comadre dice que le dio calentura después del estudio"),
        # fears: of something to come, not of what is happening
        ("I'm scared I'm bleeding so much", "I'm scared I'll bleed so much"),
        ("I feel like I'm going to faint", "I'm terrified I'm going to faint on the table"),
        ("tengo terror, me desmayé en el baño", "tengo terror de desmayarme en el baño"),
        ("me asusta, tengo fiebre de 39", "me asusta que me dé fiebre de 39"),
    ],
)
def test_hearsay_and_fear_frames_end_at_the_patients_own_words(flags, urgent, not_urgent):
    assert flags.is_urgent(urgent)
    assert not flags.is_urgent(not_urgent)


# ---------------------------------------------------------------- the Rasa component
def _message(text: str, intent: str):
    from rasa.shared.nlu.training_data.message import Message

    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
        }
    )


@pytest.fixture(scope="module")
def safety_net():
    from components.safety_net import SymptomSafetyNet

    return SymptomSafetyNet({"patterns_file": str(ROOT / "safety" / "red_flags.yml")})


def test_the_component_adds_the_urgent_intent_and_logs_no_text(safety_net, caplog):
    text = "I fainted. Should I go to the ER?"
    with caplog.at_level(logging.DEBUG, logger="components.safety_net"):
        [message] = safety_net.process([_message(text, "faq")])
    assert message.get("intent")["name"] == "report_symptoms"
    assert message.get("intent_ranking")[0]["name"] == "report_symptoms"
    assert "fainted" not in caplog.text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "my friend said she nearly passed out",
        "my sister fainted at hers",
        "a woman on the forum had a fever of 102",
        "mi amiga se desmayó en el estudio",
    ],
)
def test_the_model_s_symptom_label_on_someone_else_s_symptom_is_dropped(safety_net, text):
    """Issue 22: hearsay is not a symptom, even when the model reads it as one."""
    [message] = safety_net.process([_message(text, "report_symptoms")])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert "report_symptoms" not in [entry["name"] for entry in message.get("intent_ranking")]


@pytest.mark.parametrize(
    "text",
    [
        "my friend fainted and I feel dizzy",
        "my wife fainted after her hsg",
        "my sister said I look pale",
        "mi amiga me dijo que me veo pálida",
    ],
)
def test_the_model_s_symptom_label_stays_when_the_patient_is_named(safety_net, text):
    [message] = safety_net.process([_message(text, "report_symptoms")])
    assert message.get("intent")["name"] == "report_symptoms"


@pytest.mark.parametrize("path", [SAFETY_SET, SPANISH_SAFETY_SET])
def test_no_urgent_message_of_the_safety_sets_is_taken_for_someone_else_s(flags, path):
    urgent = _load_set(path)["urgent"]
    assert not [text for text in urgent if flags.about_someone_else(text)]


def test_the_component_never_removes_the_urgent_intent_of_the_patient_s_own_words(safety_net):
    [kept] = safety_net.process([_message("is a fever common after it?", "report_symptoms")])
    [left] = safety_net.process([_message("is a fever common after it?", "faq")])
    [button] = safety_net.process([_message("/inform", "inform")])
    assert kept.get("intent")["name"] == "report_symptoms"
    assert left.get("intent")["name"] == "faq"
    assert button.get("intent")["name"] == "inform"


@pytest.mark.parametrize("text", ["/ i fainted and cant breathe", "/I fainted", "//fever 102 since yesterday"])
def test_a_typed_message_starting_with_a_slash_is_still_judged(safety_net, text):
    """Code review L21: only Rasa's intent payloads skip the net, not any text starting with "/"."""
    [message] = safety_net.process([_message(text, "nlu_fallback")])
    assert message.get("intent")["name"] == "report_symptoms"


def test_button_payloads_skip_the_net(safety_net):
    for payload in ('/choose_language{"language":"es"}', "/faq/warning_signs", "/affirm@0.9"):
        [message] = safety_net.process([_message(payload, "inform")])
        assert message.get("intent")["name"] == "inform"


def test_a_relative_patterns_file_is_read_from_the_project_whatever_the_folder(tmp_path, monkeypatch):
    """Code review L6: Rasa started from another folder still loads the safety net."""
    from components.safety_net import SymptomSafetyNet

    monkeypatch.chdir(tmp_path)
    net = SymptomSafetyNet({"patterns_file": "safety/red_flags.yml"})
    assert net.flags.is_urgent("I fainted") and net.flags.languages == ["en", "es"]


def test_the_component_sends_a_spanish_symptom_to_the_urgent_intent(safety_net, caplog):
    text = "me desmayé, ¿debo ir a urgencias?"
    with caplog.at_level(logging.DEBUG, logger="components.safety_net"):
        [message] = safety_net.process([_message(text, "faq")])
        [question] = safety_net.process([_message("¿qué pasa si me desmayo?", "faq")])
    assert message.get("intent")["name"] == "report_symptoms"
    assert question.get("intent")["name"] == "faq"
    assert "desmay" not in caplog.text.lower()
