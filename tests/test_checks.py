"""Each content check refuses a bad answer with a message that names the problem and the fix."""
from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys

import pytest
import textstat

from common.settings import placeholders
from conftest import ROOT
from editor.checks import check_answer, check_save, fact_sections, load_rules, plain_grade
from editor.store import open_store

GOOD = {
    "response": "utter_faq/pain",
    "source": "docs/facts.md: How it feels; clinic.yml: clinic phone",
    "web": {"text": "Most people feel some cramps. They often fade in a few hours. Call {clinic_phone} with questions.",
            "buttons": [{"title": "How long does it take?", "payload": "How long does it take?"}]},
    "sms": {"text": "Most people feel some cramps. They often fade in a few hours.",
            "buttons": [{"title": "How long is it?", "payload": "How long does it take?"}]},
}
HARD = ("Notwithstanding considerable interindividual variability, procedural discomfort "
        "predominantly manifests as transient uterine contractility, occasionally necessitating "
        "pharmacological intervention administered prophylactically.")


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


def test_a_good_answer_passes(values):
    assert check_answer("utter_faq/pain", GOOD, values) == []


@pytest.mark.parametrize("path,value,check,words", [
    (("web", "text"), HARD, "grade", ["reading grade", "above 8", "shorter sentences"]),
    (("sms", "text"), HARD, "grade", ["reading grade"]),
    (("sms", "text"), "Cramps fade. " * 26, "sms_length", ["SMS segments", "more than 2", "shorten it"]),
    (("sms", "text"), "Cramps fade, don’t worry. " * 6, "sms_length", ["UCS-2", "straight quotes"]),
    (("source",), "", "source", ["does not name its source", "docs/facts.md", "clinic.yml"]),
    (("source",), "a blog I read", "source", ["not one of the known sources"]),
    (("source",), "hsg-facts.md: Step by step", "source", ["not one of the known sources", "docs/facts.md"]),
    (("source",), "docs/facts.md: How it feels; a blog I read", "source", ["'a blog I read'", "not one of"]),
    (("source",), "docs/facts.md: Pain and cramps", "source",
     ["section 'Pain and cramps'", "does not have", "How it feels"]),
    (("source",), "docs/facts.md", "source", ["names docs/facts.md but not what", "section title"]),
    (("web", "text"), "Call {clinic_phon} today.", "placeholder", ["{clinic_phon}", "{clinic_phone}"]),
    (("web", "text"), "Call {clinic_phone today.", "placeholder", ["brace"]),
    (("web", "text"), "The HSG is guaranteed to open your tubes.", "promise", ["promises an outcome", "guaranteed"]),
    (("web", "text"), "It works 100% of the time.", "promise", ["promises an outcome", "100%"]),
    (("sms", "text"), "You will get pregnant after it.", "promise", ["will get pregnant"]),
    (("web", "text"), "Book at htps://clinic.example.com today.", "link", ["htps://", "https://"]),
    (("web", "text"), "Book at https://clinic today.", "link", ["no valid web address"]),
    (("sms", "text"), "", "present", ["no SMS text"]),
    (("web",), None, "present", ["no web chat text"]),
    (("web", "text"), "word " * 81, "length", ["81 words", "more than 80"]),
    (("sms", "buttons"), [{"title": "STOP", "payload": "/deny"}], "buttons", ["carrier keyword"]),
    (("web", "buttons"), [{"title": "Why?", "payload": ""}], "buttons", ["no title or no message"]),
    (("sms", "text"), "**Cramps** fade.", "sms_plain", ["formatting"]),
])
def test_each_check_refuses_a_bad_answer(values, path, value, check, words):
    problems = check_answer("utter_faq/pain", with_change(path, value), values)
    found = [p for p in problems if p.check == check]
    assert found, f"no {check} problem in {[str(p) for p in problems]}"
    message = str(found[0])
    assert message.startswith("utter_faq/pain") and "Fix:" in message
    for word in words:
        assert word.lower() in message.lower(), (word, message)


def test_a_link_from_the_settings_is_checked_after_filling_in(values):
    answer = with_change(("web", "text"), "Book online at {booking_url}.")
    assert check_answer("utter_faq/pain", answer, values) == []
    broken = dict(values, booking_url="www.clinic")
    assert [p.check for p in check_answer("utter_faq/pain", answer, broken)] == ["link"]


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
    three_dates = ("If your period starts on {cycle_start_text}, your best days for the HSG would be {start_text} "
                   "to {end_text} (days {start_day} to {end_day}). Periods can come early or late, so please "
                   "check the dates with {clinic_name}.")
    stand_in = re.sub(r"\{[^{}]*\}", "it", three_dates)
    assert textstat.flesch_kincaid_grade(stand_in) <= rules["max_grade"]
    assert plain_grade(three_dates, rules, values) > rules["max_grade"]
    problems = check_answer("utter_window_expected", dict(GOOD, web={"text": three_dates}), values)
    grade = [p for p in problems if p.check == "grade" and p.form == "web"]
    assert grade and "longest dates filled in" in str(grade[0]) and "date" in grade[0].fix
    # The same facts with each date in a sentence of its own pass.
    split = ("Your best days for the HSG would start {start_text}. The last good day would be {end_text}. "
             "That is if your next period starts {cycle_start_text}.")
    assert plain_grade(split, rules, values) <= rules["max_grade"]


def test_clinic_settings_are_graded_as_the_patient_sees_them(values, settings):
    rules = load_rules()
    assert plain_grade("Please call {clinic_name} today.", rules, values) == \
        plain_grade(f"Please call {settings['clinic_name']} today.", rules, values)
    # Callers that pass no values (the editor's live preview) get clinic.yml's.
    text = "Your results come within {results_days}. Call {clinic_name} at {clinic_phone}."
    assert plain_grade(text, rules) == plain_grade(text, rules, values)
    # A long clinic value is graded too: the same answer can pass for one clinic and not another.
    wordy = dict(values, clinic_name="the Interdisciplinary Radiological Consultation Association")
    assert plain_grade("Please call {clinic_name} today.", rules, wordy) > \
        plain_grade("Please call {clinic_name} today.", rules, values)


def test_every_run_time_placeholder_has_a_worst_case_value():
    rules = load_rules()
    assert set(rules["runtime_values"]) <= set(rules["worst_case_values"])


def test_a_source_section_is_matched_whatever_the_case_and_spacing(values):
    titles = fact_sections(ROOT / "docs" / "facts.md")
    assert "How it feels" in titles and "The clinic's policy" in titles
    answer = with_change(("source",), "docs/facts.md:  how it  FEELS ;clinic.yml: clinic phone")
    assert check_answer("utter_faq/pain", answer, values) == []


def test_required_words_keep_the_urgent_answer_safe(values):
    urgent = open_store().answers()["utter_urgent"]
    assert check_answer("utter_urgent", urgent, values) == []
    urgent["web"]["text"] = urgent["web"]["text"].replace("{emergency_number}", "the hospital")
    problems = check_answer("utter_urgent", urgent, values)
    assert [p.check for p in problems] == ["required"] and "{emergency_number}" in str(problems[0])


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


def test_make_check_content_prints_a_table_and_fails_on_a_bad_answer(tmp_path):
    result = subprocess.run([sys.executable, "scripts/check_content.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    header = result.stdout.splitlines()[0]
    for column in ("answer", "web grade", "SMS grade", "SMS segs", "status"):
        assert column in header
    for name in open_store().answers():
        assert f"\n{name} " in result.stdout
    shutil.copytree(ROOT / "content", tmp_path / "content")
    pain = tmp_path / "content" / "answers" / "faq" / "pain.yml"
    pain.write_text(re.sub(r"(?m)^source: .*$", "source: ''", pain.read_text()))
    result = subprocess.run([sys.executable, "scripts/check_content.py"], cwd=ROOT, capture_output=True, text=True,
                            env={"HSG_CONTENT_DIR": str(tmp_path / "content"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "utter_faq/pain" in result.stdout and "FAIL: source" in result.stdout
    assert "does not name its source" in result.stdout
