"""Every patient-facing answer: present, short, plain, safe, and fully filled in."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

from common.settings import placeholders
from editor.checks import check_store
from editor.store import fill, open_store, rasa_responses


def test_every_answer_passes_every_check(settings):
    """The same checks as the editor's save and `make check-content`, in English and in
    Spanish (an answer without a Spanish version fails)."""
    problems, rows = check_store(open_store().answers(), placeholders(settings), None, placeholders(settings, "es"))
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


def filled_forms(settings, *names):
    """(name, form, filled text, buttons) of the given answers (all when none), from the store."""
    values = placeholders(settings)
    for name, answer in sorted(open_store().answers().items()):
        if names and name not in names:
            continue
        for form in ("web", "sms"):
            part = answer.get(form)
            if part and part.get("text"):
                yield name, form, fill(part["text"], values), part.get("buttons") or []


def test_symptom_answers_give_a_route_to_care_at_any_hour(settings):
    """911, the clinic, its any-hour nurse line, and what to do if nobody answers: never
    only the scheduling line."""
    for name, form, text, _ in filled_forms(settings, "utter_urgent", "utter_faq/warning_signs"):
        for value in (settings["emergency_number"], settings["clinic_phone"], settings["after_hours_phone"]):
            assert value in text, (name, form, value)
        assert "urgent care" in text.lower(), (name, form)


def test_aftercare_says_when_to_call_in_its_text(settings):
    for _name, form, text, _ in filled_forms(settings, "utter_faq/aftercare"):
        assert settings["after_hours_phone"] in text and "fever" in text.lower(), form


def test_answers_use_the_clinic_settings_for_its_own_rules(settings):
    for _name, form, text, _ in filled_forms(settings, "utter_faq/results"):
        assert settings["results_days"] in text, form
    for _name, form, text, _ in filled_forms(settings, "utter_faq/pregnancy_test"):
        assert settings["pregnancy_test_rule"] in text, form
    months = str(settings["device_check_months"])
    for _name, form, text, _ in filled_forms(settings, "utter_device_confirmation"):
        assert f"{months} months" in text, form
    raw = open_store().answers()["utter_device_confirmation"]
    assert "{device_check_months}" in raw["web"]["text"] and "{device_check_months}" in raw["sms"]["text"]


def test_no_button_that_cancels_is_called_stop_and_no_text_asks_to_tap_a_missing_button(settings):
    """Under "When did the bleeding stop?", a "Stop" button reads as "it stopped"."""
    for name, form, text, buttons in filled_forms(settings):
        titles = {button["title"] for button in buttons}
        assert "Stop" not in titles, (name, form)
        for tapped in re.findall(r"\btap ([A-Z][\w ]*?)(?: to\b|[.,!?]|$)", text):
            assert tapped in titles, (name, form, tapped)
    for name in ("utter_ask_bleeding_end", "utter_ask_period_start", "utter_ask_device_placed", "utter_no_date_found"):
        answer = open_store().answers()[name]
        for form in ("web", "sms"):
            assert {"title": "Never mind", "payload": "/deny"} in answer[form]["buttons"], (name, form)


def test_cervix_is_explained_where_an_answer_first_uses_it(settings):
    for name, form, text, _ in filled_forms(settings):
        first = re.search(r"\bcervix\b(.{0,20})", text, re.I)
        if first:
            assert re.match(r"\s*[(,]\s*the opening", first.group(1)), (name, form, text)


def test_the_fact_sheet_has_the_sections_answers_cite():
    """docs/facts.md: the project's own fact sheet (nothing reads a folder beside the project)."""
    sheet = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    titles = {line[3:].strip() for line in sheet.splitlines() if line.startswith("## ")}
    for title in (
        "The clinic's policy",
        "Sex and trying to conceive after the exam",
        "Cost and insurance",
        "A support person",
        "Activities after the exam",
        "Breastfeeding",
        "Pain relief and anxiety",
        "Antibiotics",
        "Other tests",
        "A late period",
        "Symptoms after hours",
    ):
        assert title in titles, title
    policy = sheet.split("## The clinic's policy", 1)[1].split("\n## ", 1)[0]
    assert "https://www.invisionsallyjobe.com/services/hysterosalpingogram-hsg" in policy
    assert "shared/docs" not in sheet and "hsg-facts.md" not in sheet


def test_no_answer_is_marked_reviewed_without_a_reviewer():
    for name, answer in open_store().answers().items():
        assert bool(answer.get("reviewed_by")) == bool(answer.get("reviewed_on")), name
        spanish = answer.get("es") or {}
        assert bool(spanish.get("reviewed_by")) == bool(spanish.get("reviewed_on")), (name, "es")


def spanish_forms(settings, *names):
    """(name, form, filled text) of the given answers' Spanish forms, with clinic.yml's
    Spanish words; every one of them must have a Spanish version."""
    values = placeholders(settings, "es")
    answers = open_store().answers()
    for name in names:
        spanish = answers[name].get("es")
        assert spanish, f"{name} has no Spanish version"
        for form in ("web", "sms"):
            if (spanish.get(form) or {}).get("text"):
                yield name, form, fill(spanish[form]["text"], values)


def test_spanish_symptom_answers_give_a_route_to_care_at_any_hour(settings):
    for name, form, text in spanish_forms(settings, "utter_urgent", "utter_faq/warning_signs"):
        for value in (settings["emergency_number"], settings["clinic_phone"], settings["after_hours_phone"]):
            assert value in text, (name, form, value)
        assert "urgencia" in text.lower(), (name, form)  # "urgencias", "atención de urgencia"


def test_spanish_answers_use_the_clinics_spanish_words_for_its_own_rules(settings):
    for _name, form, text in spanish_forms(settings, "utter_faq/results"):
        assert settings["results_days_es"] in text and settings["results_days"] not in text, form
    for _name, form, text in spanish_forms(settings, "utter_faq/pregnancy_test"):
        assert settings["pregnancy_test_rule_es"] in text, form


def both_languages(settings, *names):
    """(name, language, form, filled text) of the given answers in English and Spanish."""
    for name, form, text, _ in filled_forms(settings, *names):
        yield name, "en", form, text
    for name, form, text in spanish_forms(settings, *names):
        yield name, "es", form, text


def test_the_answers_that_give_dates_follow_the_clinics_pregnancy_rule(settings):
    """Everyone is tested on the day (the clinic's rule, not "you may need a test"), no sex
    without a condom from day 1 until the exam, and a late period means call, don't come."""
    condom = {"en": "condom", "es": "condón"}
    for name, language, form, text in both_languages(
        settings, "utter_window_reminders", "utter_timing", "utter_faq/pregnancy_test"
    ):
        assert condom[language] in text, (name, language, form)
    for name, language, form, text in both_languages(settings, "utter_window_reminders", "utter_faq/pregnancy_test"):
        rule = settings["pregnancy_test_rule" if language == "en" else "pregnancy_test_rule_es"]
        assert rule in text and settings["clinic_phone"] in text, (name, language, form)
        late = r"period (is )?late.*don't come" if language == "en" else r"atrasa.*no venga"
        assert re.search(late, text, re.I), (name, language, form, text)
    for _name, language, form, text in both_languages(settings, "utter_window_reminders"):
        assert not re.search(r"may need a pregnancy test|puede necesitar una prueba", text, re.I), (language, form)


def test_estimated_dates_say_what_to_do_if_the_period_is_late(settings):
    for name, language, form, text in both_languages(settings, "utter_window_estimate", "utter_window_expected"):
        assert settings["clinic_phone"] in text, (name, language, form)
        assert re.search(r"late|no period comes|atrasa|no le baja", text, re.I), (name, language, form, text)


def test_the_after_exam_answers_name_a_rash_and_the_spanish_bleeding_line_is_plain(settings):
    rash = {"en": "rash", "es": "ronchas"}
    for name, language, form, text in both_languages(settings, "utter_faq/warning_signs", "utter_faq/aftercare"):
        assert rash[language] in text.lower(), (name, language, form)
    for _name, language, form, text in both_languages(settings, "utter_faq/aftercare"):
        assert ("smell" if language == "en" else "mal olor") in text, (language, form)
    web = open_store().answers()["utter_faq/warning_signs"]["es"]["web"]["text"].lower()
    assert "empapa una toalla sanitaria cada hora durante 2 horas seguidas" in web
    assert "llenar" not in web
    # the nurse line, for any hour, comes first in the list of whom to call
    for _name, language, form, text in both_languages(settings, "utter_faq/warning_signs"):
        assert text.index(settings["after_hours_phone"]) < text.index(settings["clinic_phone"]), (language, form)


def test_the_device_test_is_due_on_or_after_its_date_never_around_it(settings):
    for name, language, form, text in both_languages(settings, "utter_device_check_due", "utter_device_check_passed"):
        assert not re.search(r"\baround\b|más o menos|\bhacia\b", text, re.I), (name, language, form, text)
    for _name, language, form, text in both_languages(settings, "utter_device_check_due"):
        assert re.search(r"on or after|o después", text), (language, form, text)
        assert re.search(r"ultrasound|ultrasonido", text) and re.search(r"pregnancy test|prueba de embarazo", text)


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
    names = responses_named_in_code()
    # a name template ("utter_faq/{key}") needs responses of that shape
    templates = {name for name in names if "{" in name}
    assert all(any(r.startswith(t.split("{")[0]) for r in domain["responses"]) for t in templates)
    missing = names - templates - set(domain["responses"])
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
