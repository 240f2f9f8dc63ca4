"""Each content check refuses a bad answer with a message that names the problem and the fix,
in English and in the Spanish version (`es:`), which every answer must have."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import pytest
import textstat
import yaml
from conftest import ROOT

from common.settings import placeholders
from common.sms_segments import segments
from editor.checks import (
    check_answer,
    check_save,
    check_store,
    fact_sections,
    load_rules,
    median_reading_ease,
    plain_grade,
    reading_ease,
    sms_body,
    spanish_syllables,
)
from editor.store import dump_answer, open_store

GOOD = {  # the pain answer keeps its nurse line ({after_hours_phone}: content/checks.yml, `required`)
    "response": "utter_faq/pain",
    "source": "docs/facts.md: How it feels; clinic.yml: clinic phone",
    "web": {
        "text": "Most people feel some cramps. They often fade in a few hours. Call {clinic_phone} with questions. "
        "Worse pain? Call {after_hours_phone}.",
        "buttons": [{"title": "How long does it take?", "payload": "How long does it take?"}],
    },
    "sms": {
        "text": "Most people feel some cramps. They often fade in a few hours. Worse pain? Call {after_hours_phone}.",
        "buttons": [{"title": "How long is it?", "payload": "How long does it take?"}],
    },
    "es": {
        "reviewed_by": None,
        "reviewed_on": None,
        "web": {
            "text": "La mayoría de las personas sienten algunos cólicos. Suelen pasar en unas horas. "
            "Llame al {clinic_phone} si tiene preguntas. ¿Más dolor? Llame al {after_hours_phone}.",
            "buttons": [{"title": "¿Cuánto dura?", "payload": "¿Cuánto dura el examen?"}],
        },
        "sms": {
            "text": "La mayoría siente algunos cólicos. ¿Más dolor? Llame al {after_hours_phone}.",
            "buttons": [{"title": "¿Cuánto dura?", "payload": "¿Cuánto dura el examen?"}],
        },
    },
}
HARD = (
    "Notwithstanding considerable interindividual variability, procedural discomfort "
    "predominantly manifests as transient uterine contractility, occasionally necessitating "
    "pharmacological intervention administered prophylactically."
)
HARD_ES = (
    "No obstante la considerable variabilidad interindividual, la incomodidad procedimental se manifiesta "
    "predominantemente como contractilidad uterina transitoria, que ocasionalmente requiere intervención "
    "farmacológica administrada profilácticamente."
)


def with_change(path, value):
    answer = copy.deepcopy(GOOD)
    target = answer
    for key in path[:-1]:
        target = target[key]
    if value is None:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return answer


@pytest.fixture(scope="module")
def values(settings):
    return placeholders(settings)


@pytest.fixture(scope="module")
def values_es(settings):
    return placeholders(settings, "es")


def test_a_good_answer_passes(values, values_es):
    assert check_answer("utter_faq/pain", GOOD, values, values_es=values_es) == []
    assert check_answer("utter_faq/pain", GOOD, values) == []  # the Spanish values by default: clinic.yml's


@pytest.mark.parametrize(
    "path,value,check,words",
    [
        (("web", "text"), HARD, "grade", ["reading grade", "above 8", "shorter sentences"]),
        (("sms", "text"), HARD, "grade", ["reading grade"]),
        (("sms", "text"), "Cramps fade. " * 26, "sms_length", ["SMS segments", "more than 2", "shorten it"]),
        (("sms", "text"), "Cramps fade, don’t worry. " * 6, "sms_length", ["UCS-2", "straight quotes"]),
        (("source",), "", "source", ["does not name its source", "docs/facts.md", "clinic.yml"]),
        (("source",), "a blog I read", "source", ["not one of the known sources"]),
        (("source",), "hsg-facts.md: Step by step", "source", ["not one of the known sources", "docs/facts.md"]),
        (("source",), "docs/facts.md: How it feels; a blog I read", "source", ["'a blog I read'", "not one of"]),
        (
            ("source",),
            "docs/facts.md: Pain and cramps",
            "source",
            ["section 'Pain and cramps'", "does not have", "How it feels"],
        ),
        (("source",), "docs/facts.md", "source", ["names docs/facts.md but not what", "section title"]),
        (("web", "text"), "Call {clinic_phon} today.", "placeholder", ["{clinic_phon}", "{clinic_phone}"]),
        (("web", "text"), "Call {clinic_phone today.", "placeholder", ["brace"]),
        (
            ("web", "text"),
            "The HSG is guaranteed to open your tubes.",
            "promise",
            ["promises an outcome", "guaranteed"],
        ),
        (("web", "text"), "It works 100% of the time.", "promise", ["promises an outcome", "100%"]),
        (("sms", "text"), "You will get pregnant after it.", "promise", ["will get pregnant"]),
        (("web", "text"), "Book at htps://clinic.example.com today.", "link", ["htps://", "https://"]),
        (("web", "text"), "Book at https://clinic today.", "link", ["no valid web address"]),
        (("sms", "text"), "", "present", ["no SMS text"]),
        (("web",), None, "present", ["no web chat text"]),
        (("web", "text"), "word " * 81, "length", ["81 words", "more than 80"]),
        (("sms", "buttons"), [{"title": "STOP", "payload": "/deny"}], "buttons", ["carrier keyword"]),
        # the channel opts out on REVOKE and OPTOUT too (one list: common/sms_keywords.py)
        (("sms", "buttons"), [{"title": "Revoke", "payload": "/deny"}], "buttons", ["carrier keyword", "Revoke"]),
        (("sms", "buttons"), [{"title": " optout ", "payload": "/deny"}], "buttons", ["carrier keyword"]),
        (("web", "buttons"), [{"title": "Why?", "payload": ""}], "buttons", ["no title or no message"]),
        (("sms", "text"), "**Cramps** fade.", "sms_plain", ["formatting"]),
        # the Spanish version: the same checks, with Spanish numbers and words where they differ
        (("es",), None, "spanish", ["(Spanish)", "no Spanish version", "es:"]),
        (
            ("es", "web", "text"),
            HARD_ES,
            "reading_ease",
            ["Spanish web", "reading ease", "below 65", "shorter sentences"],
        ),
        (("es", "sms", "text"), HARD_ES, "reading_ease", ["Spanish sms", "Fernández-Huerta"]),
        (
            ("es", "sms", "text"),
            "Los cólicos pasan pronto. " * 11,
            "sms_length",
            ["Spanish sms", "5 SMS segments", "more than 4", "UCS-2", "á, í, ó or ú"],
        ),
        (("es", "web", "text"), "Llame al {clinic_phon} hoy.", "placeholder", ["{clinic_phon}", "{clinic_phone}"]),
        (("es", "web", "text"), "Llame al {clinic_phone hoy.", "placeholder", ["brace"]),
        (
            ("es", "web", "text"),
            "Llame a la clínica si tiene preguntas. ¿Más dolor? Llame al {after_hours_phone}.",
            "placeholder",
            ["leaves out {clinic_phone}", "English web chat"],
        ),
        (
            ("es", "web", "text"),
            "La HSG le garantiza que abrirá sus trompas. Llame al {clinic_phone}.",
            "promise",
            ["promises an outcome", "garantiza", "muchas personas"],
        ),
        (("es", "web", "text"), "Funciona el 100 % de las veces. Llame al {clinic_phone}.", "promise", ["100 %"]),
        (
            ("es", "web", "text"),
            "No hay nada de qué preocuparse. Llame al {clinic_phone}.",
            "promise",
            ["nada de qué preocupar"],
        ),
        (("es", "sms", "text"), "Seguro que quedará embarazada después.", "promise", ["seguro que"]),
        (("es", "sms", "text"), "Después quedará embarazada.", "promise", ["quedará embarazada"]),
        (("es", "web", "text"), "Reserve en htps://clinica.example.com hoy. {clinic_phone}", "link", ["htps://"]),
        (("es", "sms", "text"), "", "present", ["no Spanish SMS text"]),
        (("es", "web"), None, "present", ["no Spanish web chat text"]),
        (("es", "web", "text"), "palabra " * 80 + "{clinic_phone}", "length", ["81 words", "more than 80"]),
        (
            ("es", "sms", "buttons"),
            [{"title": "AYUDA", "payload": "¿Cuánto dura el examen?"}],
            "buttons",
            ["carrier keyword", "AYUDA"],
        ),
        (
            ("es", "sms", "buttons"),
            [{"title": "STOP", "payload": "¿Cuánto dura el examen?"}],
            "buttons",
            ["carrier keyword"],
        ),
        (("es", "web", "buttons"), [{"title": "¿Por qué?", "payload": ""}], "buttons", ["no title or no message"]),
        (
            ("es", "web", "buttons"),
            [{"title": "Sí", "payload": "/affirm"}],
            "intents",
            ["sends /affirm, which no English button sends"],
        ),
        (("es", "sms", "text"), "**Cólicos** pasan.", "sms_plain", ["formatting"]),
        (("es", "reviewed_by"), "dra.lopez", "reviewed", ["reviewer or a date, not both"]),
    ],
)
def test_each_check_refuses_a_bad_answer(values, path, value, check, words):
    problems = check_answer("utter_faq/pain", with_change(path, value), values)
    found = [p for p in problems if p.check == check and p.language == ("es" if path[0] == "es" else "en")]
    assert found, f"no {check} problem in {[str(p) for p in problems]}"
    message = str(found[0])
    assert message.startswith("utter_faq/pain") and "Fix:" in message
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    if path[0] == "es":  # a problem of the Spanish version leaves the English one alone, and says so
        assert "(Spanish" in message
        assert not [p for p in problems if p.language == "en"], [str(p) for p in problems]


def test_a_link_from_the_settings_is_checked_after_filling_in(values):
    answer = with_change(("web", "text"), "Book online at {booking_url}. Worse pain? Call {after_hours_phone}.")
    answer["es"]["web"]["text"] = "Pida su cita en {booking_url}. ¿Más dolor? Llame al {after_hours_phone}."
    assert check_answer("utter_faq/pain", answer, values) == []
    broken = dict(values, booking_url="www.clinic")
    assert [(p.check, p.language) for p in check_answer("utter_faq/pain", answer, broken)] == [
        ("link", "en"),
        ("link", "es"),
    ]


def test_medical_terms_do_not_count_against_the_reading_grade():
    rules = load_rules()
    medical = "A hysterosalpingogram checks your fallopian tubes. A catheter puts contrast in. A fluoroscope shows it."
    same_shape = "A consideration checks your particular results. A procedure puts material in. A technology shows it."
    assert plain_grade(medical, rules) <= 4 < 8 < plain_grade(same_shape, rules)


def test_the_grade_is_of_the_text_a_patient_reads(values):
    """Placeholders are filled with the clinic's values and the longest run-time values
    (content/checks.yml worst_case_values) before grading, not replaced by a short word."""
    rules = load_rules()
    # The old window reply: one sentence with three dates. With a stand-in word for each
    # placeholder it grades about 4; with real long dates it is above grade 8.
    three_dates = (
        "If your period starts on {cycle_start_text}, your best days for the HSG would be {start_text} "
        "to {end_text} (days {start_day} to {end_day}). Periods can come early or late, so please "
        "check the dates with {clinic_name}."
    )
    stand_in = re.sub(r"\{[^{}]*\}", "it", three_dates)
    assert textstat.flesch_kincaid_grade(stand_in) <= rules["max_grade"]
    assert plain_grade(three_dates, rules, values) > rules["max_grade"]
    problems = check_answer("utter_window_expected", dict(GOOD, web={"text": three_dates}), values)
    grade = [p for p in problems if p.check == "grade" and p.form == "web"]
    assert grade and "longest dates filled in" in str(grade[0]) and "date" in grade[0].fix
    # The same facts with each date in a sentence of its own pass.
    split = (
        "Your best days for the HSG would start {start_text}. The last good day would be {end_text}. "
        "That is if your next period starts {cycle_start_text}."
    )
    assert plain_grade(split, rules, values) <= rules["max_grade"]


def test_clinic_settings_are_graded_as_the_patient_sees_them(values, settings):
    rules = load_rules()
    assert plain_grade("Please call {clinic_name} today.", rules, values) == plain_grade(
        f"Please call {settings['clinic_name']} today.", rules, values
    )
    # Callers that pass no values (the editor's live preview) get clinic.yml's.
    text = "Your results come within {results_days}. Call {clinic_name} at {clinic_phone}."
    assert plain_grade(text, rules) == plain_grade(text, rules, values)
    # A long clinic value is graded too: the same answer can pass for one clinic and not another.
    wordy = dict(values, clinic_name="the Interdisciplinary Radiological Consultation Association")
    assert plain_grade("Please call {clinic_name} today.", rules, wordy) > plain_grade(
        "Please call {clinic_name} today.", rules, values
    )


def test_every_run_time_placeholder_has_a_worst_case_value():
    rules = load_rules()
    assert set(rules["runtime_values"]) <= set(rules["worst_case_values"])


def test_a_source_section_is_matched_whatever_the_case_and_spacing(values):
    titles = fact_sections(ROOT / "docs" / "facts.md")
    assert "How it feels" in titles and "The clinic's policy" in titles
    answer = with_change(("source",), "docs/facts.md:  how it  FEELS ;clinic.yml: clinic phone")
    assert check_answer("utter_faq/pain", answer, values) == []


URGENT_ES = {  # a Spanish version for the tests, whatever content/answers/ has yet
    "reviewed_by": None,
    "reviewed_on": None,
    "web": {
        "text": "Si es una emergencia, llame al {emergency_number} ahora. Si no, llame a {clinic_name} al "
        "{clinic_phone}. A cualquier hora, llame a la enfermera al {after_hours_phone}. Si nadie "
        "contesta, vaya a urgencias. Soy un asistente automático."
    },
    "sms": {
        "text": "¿Emergencia? Llame al {emergency_number} ahora. Si no, llame a {clinic_name} al {clinic_phone} "
        "o a la enfermera al {after_hours_phone}, a cualquier hora."
    },
}


def test_required_words_keep_the_urgent_answer_safe(values):
    urgent = dict(open_store().answers()["utter_urgent"], es=copy.deepcopy(URGENT_ES))
    assert check_answer("utter_urgent", urgent, values) == []
    urgent["web"]["text"] = urgent["web"]["text"].replace("{emergency_number}", "the hospital")
    problems = check_answer("utter_urgent", urgent, values)
    assert [p.check for p in problems] == ["required"] and "{emergency_number}" in str(problems[0])


def test_required_words_keep_the_spanish_urgent_answer_safe_too(values):
    urgent = dict(open_store().answers()["utter_urgent"], es=copy.deepcopy(URGENT_ES))
    urgent["es"]["sms"]["text"] = urgent["es"]["sms"]["text"].replace("{emergency_number}", "el hospital")
    problems = check_answer("utter_urgent", urgent, values)
    assert {(p.check, p.form, p.language) for p in problems} == {
        ("required", "sms", "es"),
        ("placeholder", "sms", "es"),
    }
    assert any("{emergency_number}" in str(p) and "(Spanish sms)" in str(p) for p in problems)


# The safety lines the checks must keep (issue 22): 911 and the nurse line where a symptom or
# heavy bleeding is described, the emergency line for a pregnancy after tube inserts, and
# the clinic's phone wherever the answer gives no dates and says to call instead.
SAFETY_LINES = {
    "utter_urgent": {"{emergency_number}", "{clinic_phone}", "{after_hours_phone}"},
    "utter_faq/warning_signs": {"{emergency_number}", "{after_hours_phone}"},
    "utter_faq/aftercare": {"{emergency_number}", "{after_hours_phone}"},
    "utter_faq/pain": {"{after_hours_phone}"},
    "utter_device_confirmation": {"{emergency_number}"},
    "utter_window_period_late": {"{clinic_phone}"},
    "utter_device_not_checked_by_hsg": {"{clinic_phone}"},
    "utter_device_placed_recent": {"{clinic_phone}"},
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_checks_require_the_safety_lines_in_both_languages(language):
    rules = load_rules()
    required = rules["required"] if language == "en" else rules["required_es"]
    for name, lines in SAFETY_LINES.items():
        assert lines <= set(required.get(name, [])), (name, language, lines - set(required.get(name, [])))


@pytest.mark.parametrize("key", ["required", "required_es"])
def test_every_answer_named_by_a_required_rule_exists(key):
    """A misspelt name (utter_faq_aftercare for utter_faq/aftercare) would check nothing."""
    answers = open_store().answers()
    missing = [name for name in load_rules()[key] if name not in answers]
    assert not missing, f"{key} names answers that do not exist: {missing}"


def without(text, word):
    """`text` with a required word (or each of its "one of these" words) taken out."""
    for one in word if isinstance(word, list) else [word]:
        text = re.sub(re.escape(str(one)), "", text, flags=re.I)
    return text


@pytest.mark.parametrize("name", sorted(set(load_rules()["required"]) | set(load_rules()["required_es"])))
def test_removing_any_required_line_from_any_form_fails_the_check(values, values_es, name):
    """Each required word, taken out of one form (English or Spanish, web or SMS) of the
    answer as it is today, gives a `required` problem naming that word and that form,
    and nothing else `required`."""
    rules = load_rules()
    answer = open_store().answers()[name]
    assert not [p for p in check_answer(name, answer, values, rules, values_es) if p.check == "required"]
    forms = ["sms"] if answer.get("sms_only") else ["web", "sms"]
    tried = 0
    for language, words in (("en", rules["required"].get(name, [])), ("es", rules["required_es"].get(name, []))):
        for word in words:
            for form in forms:
                changed = copy.deepcopy(answer)
                part = changed[form] if language == "en" else changed["es"][form]
                part["text"] = without(part["text"], word)
                found = [p for p in check_answer(name, changed, values, rules, values_es) if p.check == "required"]
                assert [(p.language, p.form) for p in found] == [(language, form)], (name, language, form, word)
                shown = word[0] if isinstance(word, list) else word
                assert str(shown) in str(found[0]) and "put" in str(found[0]), str(found[0])
                tried += 1
    assert tried >= 2


def test_the_spanish_greeting_must_say_it_is_automated_in_spanish(values):
    greet = copy.deepcopy(GOOD)
    greet["es"]["web"]["text"] = "¡Hola! Soy un asistente de la clínica. Llame al {clinic_phone}."
    problems = [p for p in check_answer("utter_greet", greet, values) if p.check == "required" and p.language == "es"]
    assert problems and "automático" in str(problems[0])
    greet["es"]["web"]["text"] = "¡Hola! Soy un asistente automatizado. Llame al {clinic_phone}."
    greet["es"]["sms"]["text"] = "¡Hola! Soy un asistente automático."
    greet["web"]["text"] += " I am an automated assistant."
    greet["sms"]["text"] += " I am an automated assistant."
    assert [p for p in check_answer("utter_greet", greet, values) if p.check == "required"] == []


def test_safe_spanish_sentences_are_not_taken_for_promises(values):
    for text in (
        "Si no está segura de que es seguro, pregunte.",
        "Llame sin dudarlo.",
        "Si quedara embarazada, avise.",
        "Puede manejar con seguridad.",
        "Muchas personas quedan embarazadas después, pero no siempre.",
        "La HSG es segura.",
    ):
        answer = with_change(("es", "sms", "text"), text)
        assert not [p for p in check_answer("utter_faq/pain", answer, values) if p.check == "promise"], text


def test_intent_buttons_and_custom_parts_stay_as_in_english(values):
    answer = copy.deepcopy(GOOD)
    answer["web"]["buttons"] = [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "Dates", "payload": '/timing{"want_dates":"yes"}'},
    ]
    answer["web"]["custom"] = {"diagram": "hsg", "alt": "Drawing of the uterus."}
    answer["es"]["web"]["buttons"] = [
        {"title": "Sí", "payload": "/affirm"},
        {"title": "Fechas", "payload": '/timing{"want_dates":"yes"}'},
    ]
    answer["es"]["web"]["custom"] = {"diagram": "hsg", "alt": "Dibujo del útero."}
    assert check_answer("utter_faq/pain", answer, values) == []
    answer["es"]["web"]["buttons"][1]["payload"] = "¿Cuándo?"  # an intent payload translated: lost on the bot
    problems = check_answer("utter_faq/pain", answer, values)
    assert [(p.check, p.language) for p in problems] == [("intents", "es")]
    assert """no button sends /timing{"want_dates":"yes"}""" in str(problems[0])
    answer["es"]["web"]["buttons"][1]["payload"] = '/timing{"want_dates":"yes"}'
    del answer["es"]["web"]["custom"]
    problems = check_answer("utter_faq/pain", answer, values)
    assert [(p.check, p.language) for p in problems] == [("custom", "es")] and "diagram" in str(problems[0])


def test_spanish_syllables_are_counted_by_the_spelling_rules():
    """textstat's set_lang("es") counts syllables with pyphen's hyphenation patterns, which never
    split a hiatus or a lone vowel at a word's edge; the Spanish checks count them exactly."""
    words = {
        "histerosalpingografía": 9,
        "útero": 3,
        "trompas": 2,
        "Falopio": 3,
        "catéter": 3,
        "ibuprofeno": 5,
        "anticonceptivo": 6,
        "miércoles": 3,
        "septiembre": 3,
        "embarazada": 5,
        "ayuda": 3,
        "que": 1,
        "agua": 2,
        "día": 2,
        "examen": 3,
        "oído": 3,
        "ahora": 3,
        "teléfono": 4,
        "menstruación": 3,
        "guía": 2,
        "pingüino": 3,
        "muy": 1,
        "hay": 1,
        "estoy": 2,
        "ciudad": 2,
        "país": 2,
        "y": 1,
        "15": 1,
    }
    assert {word: spanish_syllables(word) for word in words} == words
    pyphen_es = textstat.textstat.__class__()
    pyphen_es.set_lang("es")
    assert pyphen_es.syllable_count("día examen útero") < sum(map(spanish_syllables, ["día", "examen", "útero"]))


def test_the_spanish_measure_leaves_the_english_grade_alone():
    english = "The exam takes about fifteen minutes. You may feel some cramps afterwards."
    before = textstat.flesch_kincaid_grade(english)
    reading_ease("La histerosalpingografía dura unos quince minutos.", load_rules())
    assert textstat.flesch_kincaid_grade(english) == before == plain_grade(english, load_rules())


def test_spanish_medical_terms_do_not_count_against_the_reading_ease():
    rules = load_rules()
    medical = (
        "La histerosalpingografía revisa el útero y las trompas de Falopio. Un catéter pone el contraste. "
        "Tome ibuprofeno antes."
    )
    same_shape = (
        "La consideración revisa el resultado y las posibilidades particulares. Un procedimiento pone "
        "el material. Tome precauciones antes."
    )
    assert reading_ease(medical, rules) >= 90 > rules["min_reading_ease_es"] > reading_ease(same_shape, rules)


def test_the_spanish_reading_ease_is_of_the_text_a_patient_reads(values_es, settings):
    rules = load_rules()
    # clinic.yml's Spanish words ({results_days} is results_days_es) and the longest Spanish dates
    text = "Su médico tendrá el informe en {results_days}. Su ciclo empezó el {cycle_start_text}."
    literal = (
        f"Su médico tendrá el informe en {settings['results_days_es']}. "
        f"Su ciclo empezó el {rules['worst_case_values_es']['cycle_start_text']}."
    )
    assert reading_ease(text, rules, values_es) == reading_ease(literal, rules, values_es)
    assert reading_ease(text, rules) == reading_ease(text, rules, values_es)  # clinic.yml's by default
    english_date = literal.replace(
        rules["worst_case_values_es"]["cycle_start_text"], rules["worst_case_values"]["cycle_start_text"]
    )
    assert reading_ease(text, rules, values_es) != reading_ease(english_date, rules, values_es)


def test_the_spanish_worst_case_values_are_the_longest_a_patient_can_get(settings):
    rules = load_rules()
    spanish = dict(rules["worst_case_values"], **rules["worst_case_values_es"])
    assert set(rules["runtime_values"]) <= set(spanish)
    for key in ("date_text", "start_text", "end_text", "cycle_start_text", "check_text", "placed_text"):
        assert spanish[key] == "miércoles, 30 de septiembre de 2027", key  # the longest weekday and month
    labels = yaml.safe_load((ROOT / "content" / "topic_labels.yml").read_text(encoding="utf-8"))
    for key, row in labels.items():
        es = row.get("es") or {}
        if es:
            assert len(es["label"]) <= min(len(spanish["topic_a"]), len(spanish["topic_b"])), key
            assert len(es["button"]) <= min(len(spanish["topic_a_button"]), len(spanish["topic_b_button"])), key


def test_spanish_sms_is_counted_as_the_carrier_counts_it(values, values_es):
    rules = load_rules()
    assert segments("¿Tiene dolor? ¡Llame! Mañana, después, pingüino.")[0] == "GSM-7"  # ñ é ü ¿ ¡ are GSM-7
    assert segments("Llame a la clínica.")[0] == "UCS-2"  # í is not
    form = {"text": "Puede tener cólicos.", "buttons": [{"title": "Más", "payload": "¿Qué más?"}]}
    assert sms_body(form, values_es, rules, "es") == "Puede tener cólicos.\nResponda 1 para Más."
    # 3 UCS-2 segments pass in Spanish (at most 4); the same length in English (at most 2) does not
    three = "Los cólicos pasan pronto. " * 7
    assert segments(sms_body({"text": three}, values_es, rules, "es")) == ("UCS-2", 3)
    assert not [
        p
        for p in check_answer("utter_faq/pain", with_change(("es", "sms", "text"), three), values)
        if p.check == "sms_length"
    ]
    english = with_change(("sms", "text"), "Cramps fade soon. " * 18)
    assert [p.language for p in check_answer("utter_faq/pain", english, values) if p.check == "sms_length"] == ["en"]
    # the Spanish clinic words count: "2 a 3 días hábiles" makes a text UCS-2 by itself
    assert segments(sms_body({"text": "Tendrá el informe en {results_days}."}, values_es, rules, "es"))[0] == "UCS-2"


def test_a_save_that_would_push_the_median_grade_over_6_is_refused(values):
    answers = open_store().answers()
    medium = "The doctor looks at the pictures after the exam and sends a report to your doctor."
    assert 6 < plain_grade(medium, load_rules()) <= 8
    median_problems = []
    for name in sorted(answers):
        if answers[name].get("sms_only"):
            continue
        changed = copy.deepcopy(answers[name])
        changed["web"]["text"] = medium
        problems = check_save(name, changed, answers, values)
        median_problems = [p for p in problems if p.check == "median_grade"]
        if median_problems:
            break
        answers[name] = changed
    assert median_problems, "raising every grade never tripped the median check"
    assert "median reading grade" in str(median_problems[0])


def spanish_answers(count=9):
    """`count` answers whose Spanish web texts are easy (Fernández-Huerta about 90)."""
    answers = {}
    for number in range(count):
        answer = copy.deepcopy(GOOD)
        answer["response"] = f"utter_faq/topic_{number}"
        answer["web"]["text"] = "Most people feel some cramps. They often fade in a few hours."  # no placeholders
        answers[answer["response"]] = answer
    return answers


def test_a_save_that_would_push_the_spanish_median_reading_ease_under_70_is_refused(values, values_es):
    rules = load_rules()
    answers = spanish_answers()
    medium = "La doctora estudia las imágenes después del examen y manda un informe completo a su propio médico."
    assert rules["min_reading_ease_es"] <= reading_ease(medium, rules) < rules["min_median_reading_ease_es"]
    assert median_reading_ease(answers, rules, values_es) > rules["min_median_reading_ease_es"]
    median_problems = []
    for name in sorted(answers):
        changed = copy.deepcopy(answers[name])
        changed["es"]["web"]["text"] = medium
        problems = check_save(name, changed, answers, values, rules, values_es)
        median_problems = [p for p in problems if p.check == "median_reading_ease"]
        if median_problems:
            break
        assert problems == []
        answers[name] = changed
    assert median_problems, "making every Spanish answer harder never tripped the median check"
    assert median_problems[0].language == "es" and "median reading ease" in str(median_problems[0])
    problems, _ = check_store(dict(answers, **{name: changed}), values, rules, values_es)
    assert [p.check for p in problems] == ["median_reading_ease"] and "(Spanish" in str(problems[0])


def test_the_store_rows_show_both_languages_and_which_spanish_is_unreviewed(values, values_es):
    answers = spanish_answers(3)
    answers["utter_faq/topic_1"]["es"].update(reviewed_by="dra.lopez", reviewed_on="2026-11-01")
    del answers["utter_faq/topic_2"]["es"]
    problems, rows = check_store(answers, values, None, values_es)
    by_name = {row["answer"]: row for row in rows}
    first, reviewed, missing = (by_name[f"utter_faq/topic_{n}"] for n in range(3))
    assert first["status"] == "ok" and first["es_web_ease"] > 65 and first["es_sms_segments"] == 2
    assert first["web_grade"] is not None and first["sms_segments"] == 1
    assert first["spanish_unreviewed"] and not reviewed["spanish_unreviewed"]
    assert reviewed["es_reviewed"] == "2026-11-01"
    assert missing["status"] == "spanish" and not missing["has_spanish"] and missing["es_web_ease"] is None
    assert "cólicos" in first["words"]  # the editor's search finds an answer by its Spanish words


COLUMNS = (
    "answer",
    "web grade",
    "SMS grade",
    "SMS segs",
    "reviewed",
    "ES web ease",
    "ES SMS ease",
    "ES SMS segs",
    "ES reviewed",
    "status",
)


def check_content(content_dir=None):
    env = {"HSG_CONTENT_DIR": str(content_dir), "PATH": "/usr/bin:/bin"} if content_dir else None
    return subprocess.run(
        [sys.executable, "scripts/check_content.py"], cwd=ROOT, capture_output=True, text=True, env=env
    )


def test_make_check_content_lists_every_answer_in_both_languages():
    result = check_content()
    header = result.stdout.splitlines()[0]
    for column in COLUMNS:
        assert column in header
    for name in open_store().answers():
        assert f"\n{name} " in result.stdout
    assert "Spanish: median web reading ease" in result.stdout


def test_make_check_content_passes_good_answers_and_fails_a_bad_one_in_either_language(tmp_path):
    """On a content folder of the test's own: two answers with good Spanish versions."""
    answers = tmp_path / "content" / "answers" / "faq"
    answers.mkdir(parents=True)
    for name in ("pain", "duration"):
        (answers / f"{name}.yml").write_text(dump_answer(dict(GOOD, response=f"utter_faq/{name}")), encoding="utf-8")
    result = check_content(tmp_path / "content")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All answers pass every check." in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("utter_faq/pain "))
    after_reviewed = row.split("not yet", 1)[1].split()  # English reviewed "not yet", then the Spanish columns
    assert row.endswith("OK") and float(after_reviewed[0]) > 65 and after_reviewed[-3:-1] == ["not", "yet"]
    pain = answers / "pain.yml"
    pain.write_text(re.sub(r"(?m)^source: .*$", "source: ''", pain.read_text()))
    result = check_content(tmp_path / "content")
    assert result.returncode == 1
    assert "utter_faq/pain" in result.stdout and "FAIL: source" in result.stdout
    assert "does not name its source" in result.stdout
    (answers / "duration.yml").write_text(dump_answer(dict(GOOD, response="utter_faq/duration", es=None)))
    result = check_content(tmp_path / "content")
    row = next(line for line in result.stdout.splitlines() if line.startswith("utter_faq/duration "))
    assert "no Spanish" in row and "FAIL: spanish" in row
    assert "utter_faq/duration (Spanish): there is no Spanish version" in result.stdout
    assert "1 answer(s) without a Spanish version, 1 Spanish version(s) not yet reviewed" in result.stdout


def test_the_checks_refuse_every_word_the_sms_channel_acts_on():
    """One list (common/sms_keywords.py) for the channel and the checks: every keyword the
    channel answers as STOP, START or HELP is refused as an SMS choice's title."""
    from common import sms_keywords
    from components import twilio_sms
    from editor.checks import is_carrier_keyword

    assert twilio_sms.STOP_WORDS is sms_keywords.STOP_WORDS and twilio_sms.HELP_WORDS is sms_keywords.HELP_WORDS
    acted_on = twilio_sms.STOP_WORDS | twilio_sms.START_WORDS | twilio_sms.HELP_WORDS
    assert {"REVOKE", "OPTOUT", "PARAR", "AYUDA", "SÍ"} <= acted_on
    assert all(is_carrier_keyword(word.lower()) for word in acted_on)
    assert not is_carrier_keyword("Revoke it") and not is_carrier_keyword("Stopping the pill")
