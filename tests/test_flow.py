"""The date conversations turn by turn (actions/flow.py), with a frozen today."""

from __future__ import annotations

from datetime import date

import pytest

from actions import flow

TODAY = date(2026, 11, 27)  # a Friday


def names(turn):
    return [item.response for item in turn.say]


def test_period_start_in_the_first_message_then_asks_when_bleeding_stopped(settings):
    turn = flow.timing_turn("my period started Nov 20, when can I have the HSG?", "timing", {}, None, TODAY, settings)
    assert turn.slots["period_start"] == "2026-11-20"
    assert names(turn) == ["utter_readback_period_start"]
    assert turn.say[0].values["date_text"] == "Friday, November 20"
    assert turn.requested_slot == "bleeding_end"


def test_both_dates_in_one_message_complete_the_form(settings):
    turn = flow.timing_turn("my period started 11/20 and stopped on the 24th", "timing", {}, None, TODAY, settings)
    assert (turn.slots["period_start"], turn.slots["bleeding_end"]) == ("2026-11-20", "2026-11-24")
    assert turn.requested_slot is None


def test_a_bare_date_answers_the_question_asked(settings):
    turn = flow.timing_turn("the 24th", "inform", {"period_start": "2026-11-20"}, "bleeding_end", TODAY, settings)
    assert turn.slots["bleeding_end"] == "2026-11-24" and turn.requested_slot is None


def test_a_correction_replaces_the_date_read_back_last(settings):
    slots = {"period_start": "2026-11-20", "bleeding_end": "2026-11-24", "last_date_slot": "bleeding_end"}
    turn = flow.timing_turn("no, it was the 25th", "inform", slots, None, TODAY, settings)
    assert turn.slots["bleeding_end"] == "2026-11-25"
    assert "period_start" not in turn.slots


@pytest.mark.parametrize("text", ["no no no, the 19th", "not the 20th, the 19th", "not nov 20 but nov 19"])
def test_a_correction_while_the_next_question_is_asked_corrects_the_date_read_back(settings, text):
    """The form has read back the period start and asks when the bleeding stopped; the
    patient corrects the start: that date changes (read back once, the wrong date not
    repeated) and the bleeding question is asked again."""
    slots = {"period_start": "2026-11-20", "last_date_slot": "period_start"}
    turn = flow.timing_turn(text, "inform", slots, "bleeding_end", TODAY, settings)
    assert turn.slots["period_start"] == "2026-11-19" and "bleeding_end" not in {k for k, v in turn.slots.items() if v}
    assert names(turn) == ["utter_readback_period_start"] and turn.requested_slot == "bleeding_end"


@pytest.mark.parametrize("text", ["not sure", "not yet, still bleeding", "no no", "not really"])
def test_not_and_no_without_a_date_are_no_correction(text):
    from actions.dates import detect_flags

    assert not detect_flags(text)["correction"]


def test_a_new_period_start_forgets_the_old_bleeding_end(settings):
    slots = {"period_start": "2026-10-20", "bleeding_end": "2026-10-24", "last_date_slot": "bleeding_end"}
    turn = flow.timing_turn("my period started Nov 20", "timing", slots, None, TODAY, settings)
    assert turn.slots["period_start"] == "2026-11-20" and turn.slots["bleeding_end"] is None
    assert turn.requested_slot == "bleeding_end"


@pytest.mark.parametrize(
    "text,response",
    [
        ("February 30", "utter_date_problem_impossible"),  # no such day
        ("99/99/9999", "utter_date_problem_impossible"),  # no such month
        ("March 3 1990", "utter_date_problem_too_old"),  # decades ago
    ],
)
def test_an_unusable_date_is_refused_and_asked_again(settings, text, response):
    turn = flow.timing_turn(text, "inform", {}, "period_start", TODAY, settings)
    assert names(turn) == [response]
    assert turn.slots["period_start"] is None and turn.requested_slot == "period_start"


def test_no_date_while_answering_gets_a_helpful_reask(settings):
    turn = flow.timing_turn("hmm let me think", "inform", {}, "period_start", TODAY, settings)
    assert names(turn) == ["utter_no_date_found"] and turn.handled


def test_an_unrelated_question_is_left_to_the_interruption_rules(settings):
    turn = flow.timing_turn("does it hurt?", "faq", {}, "period_start", TODAY, settings)
    assert not turn.handled and not turn.say


@pytest.mark.parametrize(
    "text,slot",
    [
        ("I'm still bleeding", "still_bleeding"),
        ("not sure when it stopped", "bleeding_end_unknown"),
    ],
)
def test_bleeding_answers_without_a_date(settings, text, slot):
    turn = flow.timing_turn(text, "inform", {"period_start": "2026-11-24"}, "bleeding_end", TODAY, settings)
    assert turn.slots[slot] is True and turn.requested_slot is None


def test_expected_period_needs_no_bleeding_end(settings):
    turn = flow.timing_turn("my next period is due December 10", "timing", {}, None, TODAY, settings)
    assert turn.slots["period_start"] == "2026-12-10" and turn.slots["period_expected"] is True
    assert turn.requested_slot is None


def test_window_result_sets_iso_slots_and_says_weekdays(settings):
    turn = flow.timing_result({"period_start": "2026-11-20", "bleeding_end": "2026-11-24"}, TODAY, settings)
    # today (day 8) is inside the window: it starts today and ends on day 10
    assert (turn.slots["hsg_window_start"], turn.slots["hsg_window_end"]) == ("2026-11-27", "2026-11-29")
    assert names(turn) == ["utter_window", "utter_window_reminders"]
    assert turn.say[0].values["start_text"] == "Friday, November 27"
    assert turn.say[0].values["end_text"] == "Sunday, November 29"
    assert (turn.say[0].values["start_day"], turn.say[0].values["end_day"]) == (8, 10)


def test_window_passed_gives_next_cycle_estimate(settings):
    turn = flow.timing_result({"period_start": "2026-11-01", "bleeding_end": "2026-11-05"}, TODAY, settings)
    assert names(turn)[0] == "utter_window_estimate"
    assert turn.slots["hsg_window_start"] == "2026-12-05"  # day 7 of the cycle expected Nov 29


def test_still_bleeding_past_day_10_gives_no_window(settings):
    turn = flow.timing_result(
        {"period_start": "2026-11-15", "still_bleeding": True, "bleeding_end_unknown": True}, TODAY, settings
    )
    assert names(turn) == ["utter_window_bleeding_too_long"]
    assert turn.slots["hsg_window_start"] is None and turn.slots["hsg_window_end"] is None


@pytest.mark.parametrize(
    "slots",
    [
        {"no_periods": True},
        {"period_start": "2026-09-01", "bleeding_end_unknown": True},  # about 12 weeks ago
    ],
)
def test_no_recent_period_means_pregnancy_test_first(settings, slots):
    turn = flow.timing_result(slots, TODAY, settings)
    assert names(turn) == ["utter_window_pregnancy_test"] and turn.slots["hsg_window_start"] is None


def test_long_ago_period_does_not_ask_when_bleeding_stopped(settings):
    turn = flow.timing_turn("my last period was August 1", "timing", {}, None, TODAY, settings)
    assert turn.requested_slot is None


@pytest.mark.parametrize(
    "text,placed,check",
    [
        ("I had Essure placed on 9/15/2018", "2018-09-15", "2018-12-15"),
        ("adiana put in november 30 2010", "2010-11-30", "2011-02-28"),  # month end moves back
        ("my essure was placed June 3, 2015", "2015-06-03", "2015-09-03"),  # years ago is real
    ],
)
def test_device_date_and_check(settings, text, placed, check):
    turn = flow.device_turn(text, "device_confirmation", {}, None, TODAY, settings)
    assert turn.slots["device_placed"] == placed and turn.requested_slot is None
    result = flow.device_result({"device_placed": placed}, TODAY, settings)
    assert result.slots["device_check_date"] == check
    assert names(result) == ["utter_device_check_due" if check >= TODAY.isoformat() else "utter_device_check_passed"]


@pytest.mark.parametrize("text", ["placed on 12/25/2026", "March 3 1990"])
def test_device_date_in_the_future_or_before_devices_existed_is_refused(settings, text):
    turn = flow.device_turn(text, "inform", {}, "device_placed", TODAY, settings)
    assert turn.slots["device_placed"] is None and turn.requested_slot == "device_placed"


def test_expected_period_window_is_worded_as_a_plan(settings):
    turn = flow.timing_result(
        {"period_start": "2026-12-10", "period_expected": True, "bleeding_end_unknown": True}, TODAY, settings
    )
    assert names(turn) == ["utter_window_expected", "utter_window_reminders"]
    assert (turn.slots["hsg_window_start"], turn.slots["hsg_window_end"]) == ("2026-12-16", "2026-12-19")


# ---- safety rules of the window (issue 11), today frozen at Friday, November 27, 2026


def run_form(settings, messages, slots=None):
    """Feeds messages to the timing form the way the validator does; returns the slots and all turns."""
    slots = dict(slots or {})
    requested, turns = slots.get("requested_slot"), []
    for text, intent in messages:
        turn = flow.timing_turn(text, intent, slots, requested, TODAY, settings)
        slots.update(turn.slots)
        requested = slots["requested_slot"] = turn.requested_slot
        turns.append(turn)
    return slots, requested, turns


@pytest.mark.parametrize("days_ago", [31, 36])
def test_a_late_period_is_asked_about_and_a_no_gives_no_dates(settings, days_ago):
    start = date.fromordinal(TODAY.toordinal() - days_ago)
    slots, requested, _ = run_form(settings, [(f"my last period started {start:%B} {start.day}", "timing")])
    assert slots["period_start"] == start.isoformat()
    assert requested == "period_since"  # "has a new period started since then?"
    slots, requested, _ = run_form(settings, [("no", "deny")], slots)
    assert slots["period_since"] is False and requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result) == ["utter_window_period_late"]
    assert result.slots == {"hsg_window_start": None, "hsg_window_end": None}


@pytest.mark.parametrize(
    "answer,intent",
    [("not sure", "inform"), ("/deny", "deny"), ("nope not yet", "inform"), ("no i havent had one since", "inform")],
)
def test_not_sure_or_no_about_a_later_period_gives_no_dates(settings, answer, intent):
    slots, _, _ = run_form(settings, [("my period started october 20", "timing"), (answer, intent)])
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_period_late"]


def test_a_later_period_given_after_yes_gets_its_window(settings):
    slots, requested, turns = run_form(settings, [("my period started october 20", "timing"), ("yes", "affirm")])
    assert slots["period_start"] is None and requested == "period_start"
    slots, requested, turns = run_form(
        settings, [("it started nov 20", "inform"), ("it stopped the 24th", "inform")], slots
    )
    assert requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result)[0] == "utter_window"
    assert (result.slots["hsg_window_start"], result.slots["hsg_window_end"]) == ("2026-11-27", "2026-11-29")


def test_yes_with_the_new_date_in_one_message(settings):
    slots, requested, _ = run_form(
        settings, [("my period started october 20", "timing"), ("yes it came on nov 20", "affirm")]
    )
    assert slots["period_start"] == "2026-11-20" and requested == "bleeding_end"


def test_an_unclear_answer_to_the_late_question_asks_it_again(settings):
    slots, requested, turns = run_form(
        settings, [("my period started october 20", "timing"), ("hmm what do you mean", "inform")]
    )
    assert requested == "period_since" and turns[-1].handled


def test_a_period_not_yet_due_still_gets_the_next_cycle_estimate(settings):
    # 20 days ago: this cycle's window has passed, the next period is not yet due
    slots, requested, _ = run_form(settings, [("period started nov 7", "timing"), ("stopped nov 11", "inform")])
    assert requested is None
    assert names(flow.timing_result(slots, TODAY, settings))[0] == "utter_window_estimate"


def test_bleeding_expected_to_stop_on_day_11_gets_no_window(settings):
    text = "My period started Nov 24 but I'm still bleeding and expect it to stop Dec 4"
    slots, requested, turns = run_form(settings, [(text, "timing")])
    assert names(turns[0]) == ["utter_readback_period_start", "utter_readback_bleeding_expected"]
    assert slots["bleeding_end"] == "2026-12-04" and slots["bleeding_end_expected"] is True
    assert requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result) == ["utter_window_bleeding_too_long"]
    assert result.slots == {"hsg_window_start": None, "hsg_window_end": None}


def test_an_expected_stop_date_inside_the_window_counts_from_the_day_after(settings):
    slots, requested, _ = run_form(
        settings, [("period started nov 25", "timing"), ("should stop around the 29th", "inform")]
    )
    assert slots["bleeding_end"] == "2026-11-29" and requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert (result.slots["hsg_window_start"], result.slots["hsg_window_end"]) == ("2026-11-30", "2026-12-04")


def test_still_bleeding_on_day_11_gets_no_window(settings):
    slots, requested, _ = run_form(settings, [("my period started nov 17", "timing"), ("still bleeding", "inform")])
    assert requested is None
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_bleeding_too_long"]


def test_a_long_ago_period_gets_the_no_periods_answer_after_one_retry(settings):
    slots, requested, turns = run_form(settings, [("my last period was march 3 2025", "timing")])
    assert names(turns[0]) == ["utter_date_problem_too_old"] and requested == "period_start"
    slots, requested, turns = run_form(settings, [("yes really, it was march 3 2025", "inform")], slots)
    assert requested is None and slots["no_periods"] is True
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_pregnancy_test"]


def test_a_yes_to_a_long_ago_period_is_believed(settings):
    slots, requested, _ = run_form(settings, [("last period was 2/1/2025", "timing"), ("yes thats right", "affirm")])
    assert requested is None and slots["no_periods"] is True


@pytest.mark.parametrize(
    "text",
    [
        "I haven't had a period in months, I'm breastfeeding",
        "no period for 5 months because of pcos",
        "my periods havent come back since the baby",
    ],
)
def test_no_period_for_months_goes_straight_to_the_pregnancy_test_answer(settings, text):
    slots, requested, _ = run_form(settings, [(text, "timing")])
    assert requested is None and slots["no_periods"] is True
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_pregnancy_test"]


@pytest.mark.parametrize(
    "text,wants",
    [
        ("work out my best days", True),
        ("can you figure out my dates for the hsg", True),
        ("calculate my window please", True),
        ("when in my cycle is the hsg done?", False),
    ],
)
def test_asking_for_my_own_days_is_recognised(text, wants):
    assert flow.detect_flags(text)["wants_dates"] is wants


def test_a_symptom_inside_the_form_is_never_read_as_a_date(settings):
    slots = {"period_start": "2026-11-20", "last_date_slot": "period_start"}
    for turn_function in (flow.timing_turn, flow.device_turn):
        turn = turn_function(
            "I fainted in the car after my hsg yesterday", "report_symptoms", slots, "bleeding_end", TODAY, settings
        )
        assert not turn.handled and turn.slots == {} and turn.say == []


# ---- Spanish (language="es"): the same conversation, dates read and written in Spanish


def run_form_es(settings, messages, slots=None):
    """run_form for a Spanish conversation."""
    slots = dict(slots or {})
    requested, turns = slots.get("requested_slot"), []
    for text, intent in messages:
        turn = flow.timing_turn(text, intent, slots, requested, TODAY, settings, "es")
        slots.update(turn.slots)
        requested = slots["requested_slot"] = turn.requested_slot
        turns.append(turn)
    return slots, requested, turns


def test_spanish_period_start_is_read_back_in_spanish(settings):
    turn = flow.timing_turn(
        "mi regla empezó el 20 de noviembre, ¿cuándo me puedo hacer la HSG?", "timing", {}, None, TODAY, settings, "es"
    )
    assert turn.slots["period_start"] == "2026-11-20"
    assert names(turn) == ["utter_readback_period_start"]
    assert turn.say[0].values["date_text"] == "viernes, 20 de noviembre"
    assert turn.requested_slot == "bleeding_end"


def test_spanish_numbers_are_day_first_and_the_read_back_names_the_month(settings):
    """clinic.yml date_order_es: DMY. "el 3/11" is 3 de noviembre, and the read-back says
    "noviembre" so a patient who meant March 11 sees the mistake."""
    assert settings["date_order_es"] == "DMY" and settings["date_order"] == "MDY"
    turn = flow.timing_turn("el 3/11", "inform", {}, "period_start", TODAY, settings, "es")
    assert turn.slots["period_start"] == "2026-11-03"
    assert turn.say[0].values["date_text"] == "martes, 3 de noviembre"
    english = flow.timing_turn("3/11", "inform", {}, "period_start", TODAY, settings)
    assert english.slots["period_start"] == "2026-03-11"  # English keeps the US order


def test_spanish_both_dates_in_one_message_complete_the_form(settings):
    turn = flow.timing_turn("me bajó el 20/11 y terminó el 24", "timing", {}, None, TODAY, settings, "es")
    assert (turn.slots["period_start"], turn.slots["bleeding_end"]) == ("2026-11-20", "2026-11-24")
    assert [v.values["date_text"] for v in turn.say] == ["viernes, 20 de noviembre", "martes, 24 de noviembre"]
    assert turn.requested_slot is None


@pytest.mark.parametrize(
    "text",
    ["no, fue el 19", "no no, el 19", "no, no, el 19", "no el 20, el 19", "perdón, el 19", "me equivoqué, fue el 19"],
)
def test_a_spanish_correction_corrects_the_date_read_back(settings, text):
    slots = {"period_start": "2026-11-20", "last_date_slot": "period_start"}
    turn = flow.timing_turn(text, "inform", slots, "bleeding_end", TODAY, settings, "es")
    assert turn.slots["period_start"] == "2026-11-19"
    assert names(turn) == ["utter_readback_period_start"] and turn.requested_slot == "bleeding_end"
    assert turn.say[0].values["date_text"] == "jueves, 19 de noviembre"


def test_a_spanish_correction_of_the_bleeding_end(settings):
    slots = {"period_start": "2026-11-20", "bleeding_end": "2026-11-24", "last_date_slot": "bleeding_end"}
    turn = flow.timing_turn("no, fue el 25", "inform", slots, None, TODAY, settings, "es")
    assert turn.slots["bleeding_end"] == "2026-11-25" and "period_start" not in turn.slots


@pytest.mark.parametrize(
    "text,response",
    [
        ("30 de febrero", "utter_date_problem_impossible"),
        ("99/99/9999", "utter_date_problem_impossible"),
        ("el 3 de marzo de 1990", "utter_date_problem_too_old"),
        ("el 30/11/2026", "utter_date_problem_too_far"),  # a period start in the future
    ],
)
def test_an_unusable_spanish_date_is_refused_and_asked_again(settings, text, response):
    turn = flow.timing_turn(text, "inform", {}, "period_start", TODAY, settings, "es")
    assert names(turn) == [response]
    assert turn.say[0].values["date_text"] == text  # the patient's own words
    assert turn.slots["period_start"] is None and turn.requested_slot == "period_start"


@pytest.mark.parametrize(
    "text,response",
    [
        ("a principios de noviembre", "utter_no_date_found"),  # rough: asked again, as in English
        ("a principios de noviembre, no estoy segura", "utter_need_rough_date"),
        ("mmm déjame pensar", "utter_no_date_found"),
    ],
)
def test_no_spanish_date_gets_a_helpful_reask(settings, text, response):
    turn = flow.timing_turn(text, "inform", {}, "period_start", TODAY, settings, "es")
    assert names(turn) == [response] and turn.handled and turn.requested_slot == "period_start"


@pytest.mark.parametrize(
    "text,slot,response",
    [
        ("todavía estoy sangrando", "still_bleeding", "utter_readback_still_bleeding"),
        ("sigo con la regla", "still_bleeding", "utter_readback_still_bleeding"),
        ("aún no termina", "still_bleeding", "utter_readback_still_bleeding"),
        ("no estoy segura", "bleeding_end_unknown", "utter_readback_end_unknown"),
        ("más o menos, no sé", "bleeding_end_unknown", "utter_readback_end_unknown"),
    ],
)
def test_spanish_bleeding_answers_without_a_date(settings, text, slot, response):
    turn = flow.timing_turn(text, "inform", {"period_start": "2026-11-24"}, "bleeding_end", TODAY, settings, "es")
    assert turn.slots[slot] is True and names(turn) == [response] and turn.requested_slot is None


@pytest.mark.parametrize("text", ["no me ha bajado en meses", "no tengo regla desde hace un año", "no me baja"])
def test_spanish_no_periods_goes_to_the_pregnancy_test_answer(settings, text):
    slots, requested, _ = run_form_es(settings, [(text, "timing")])
    assert requested is None and slots["no_periods"] is True
    assert names(flow.timing_result(slots, TODAY, settings, "es")) == ["utter_window_pregnancy_test"]


def test_spanish_cycle_length_is_kept(settings):
    turn = flow.timing_turn(
        "me bajó el 20 de noviembre, mi ciclo es de 32 días", "timing", {}, None, TODAY, settings, "es"
    )
    assert turn.slots["cycle_length"] == 32.0 and turn.slots["period_start"] == "2026-11-20"


def test_spanish_expected_period_needs_no_bleeding_end(settings):
    turn = flow.timing_turn("me toca el 10 de diciembre", "timing", {}, None, TODAY, settings, "es")
    assert turn.slots["period_start"] == "2026-12-10" and turn.slots["period_expected"] is True
    assert names(turn) == ["utter_readback_expected_period"] and turn.requested_slot is None
    assert turn.say[0].values["date_text"] == "jueves, 10 de diciembre"


@pytest.mark.parametrize(
    "answer,intent,late",
    [
        ("no", "deny", True),
        ("todavía no", "inform", True),
        ("no estoy segura", "inform", True),
        ("no me ha bajado", "inform", True),
        ("sí", "affirm", False),
        ("ya me bajó", "inform", False),
    ],
)
def test_spanish_answers_to_the_late_period_question(settings, answer, intent, late):
    slots, requested, _ = run_form_es(settings, [("mi regla empezó el 20 de octubre", "timing")])
    assert requested == "period_since"
    slots, requested, _ = run_form_es(settings, [(answer, intent)], slots)
    if late:
        assert slots["period_since"] is False and requested is None
        assert names(flow.timing_result(slots, TODAY, settings, "es")) == ["utter_window_period_late"]
    else:
        assert slots["period_start"] is None and requested == "period_start"


def test_spanish_window_placeholders_are_in_spanish(settings):
    """A Spanish timing conversation fills every date placeholder in Spanish (weekday and
    month in lower case, as Spanish writes them); the ISO values for the calendar stay."""
    slots, requested, turns = run_form_es(
        settings, [("me bajó el 20 de noviembre", "timing"), ("terminó el 24", "inform")]
    )
    assert requested is None
    result = flow.timing_result(slots, TODAY, settings, "es")
    assert names(result) == ["utter_window", "utter_window_reminders"]
    values = result.say[0].values
    assert (values["start_text"], values["end_text"], values["cycle_start_text"]) == (
        "viernes, 27 de noviembre",
        "domingo, 29 de noviembre",
        "viernes, 20 de noviembre",
    )
    assert (values["start_iso"], values["end_iso"], values["start_day"], values["end_day"]) == (
        "2026-11-27",
        "2026-11-29",
        8,
        10,
    )


def test_spanish_dates_in_another_year_show_the_year(settings):
    """The same rule as English: the year is shown only when it is not this year."""
    result = flow.timing_result(
        {"period_start": "2026-12-28", "period_expected": True, "bleeding_end_unknown": True},
        date(2026, 12, 20),
        settings,
        "es",
    )
    values = result.say[0].values
    assert values["start_text"] == "domingo, 3 de enero de 2027"
    assert values["end_text"] == "miércoles, 6 de enero de 2027"
    assert values["cycle_start_text"] == "lunes, 28 de diciembre"
    english = flow.timing_result(
        {"period_start": "2026-12-28", "period_expected": True, "bleeding_end_unknown": True},
        date(2026, 12, 20),
        settings,
    )
    assert english.say[0].values["start_text"] == "Sunday, January 3, 2027"


def test_spanish_estimate_and_no_window_answers(settings):
    estimate = flow.timing_result({"period_start": "2026-11-01", "bleeding_end": "2026-11-05"}, TODAY, settings, "es")
    assert names(estimate)[0] == "utter_window_estimate"
    assert estimate.say[0].values["start_text"] == "sábado, 5 de diciembre"
    too_long = flow.timing_result({"period_start": "2026-11-10", "bleeding_end": "2026-11-22"}, TODAY, settings, "es")
    assert names(too_long) == ["utter_window_bleeding_too_long"]
    assert too_long.say[0].values["date_text"] == "domingo, 22 de noviembre"


@pytest.mark.parametrize(
    "text,placed,check,placed_text,check_text",
    [
        (
            "me pusieron el Essure el 15/9/2018",
            "2018-09-15",
            "2018-12-15",
            "sábado, 15 de septiembre de 2018",
            "sábado, 15 de diciembre de 2018",
        ),
        (
            "me colocaron el adiana el 30 de noviembre de 2010",
            "2010-11-30",
            "2011-02-28",
            "martes, 30 de noviembre de 2010",
            "lunes, 28 de febrero de 2011",
        ),
    ],
)
def test_spanish_device_date_and_check(settings, text, placed, check, placed_text, check_text):
    turn = flow.device_turn(text, "device_confirmation", {}, None, TODAY, settings, "es")
    assert turn.slots["device_placed"] == placed and turn.requested_slot is None
    assert turn.say[0].values["date_text"] == placed_text
    result = flow.device_result({"device_placed": placed}, TODAY, settings, "es")
    assert result.slots["device_check_date"] == check
    assert (result.say[0].values["placed_text"], result.say[0].values["check_text"]) == (placed_text, check_text)


def test_spanish_device_date_in_the_future_is_refused(settings):
    turn = flow.device_turn("me pusieron el essure el 25/12/2026", "inform", {}, "device_placed", TODAY, settings, "es")
    assert names(turn) == ["utter_date_problem_too_far"] and turn.requested_slot == "device_placed"
    assert turn.slots["device_placed"] is None


def test_long_date_in_spanish_comes_from_babel():
    """Month and weekday names come from babel's locale data (none are in the code)."""
    assert flow.long_date(date(2026, 9, 30), date(2026, 1, 1), "es") == "miércoles, 30 de septiembre"
    assert flow.long_date(date(2026, 9, 30), date(2027, 1, 1), "es") == "miércoles, 30 de septiembre de 2026"
    assert flow.long_date(date(2026, 9, 30), date(2026, 1, 1)) == "Wednesday, September 30"
    assert flow.long_date(date(2026, 9, 30), date(2027, 1, 1), "en") == "Wednesday, September 30, 2026"


def test_date_order_per_language(settings):
    assert flow.date_order(settings, "en") == settings["date_order"]
    assert flow.date_order(settings, "es") == "DMY"
    assert flow.date_order({"date_order": "MDY"}, "es") == "MDY"  # no Spanish setting: the clinic's own


# ---- issue 22: devices an HSG does not check, placements after the devices were sold,
# the bleeding "already stopped" without a date, and only a clear cancel stops the questions


@pytest.mark.parametrize(
    "text,language",
    [
        ("I had my IUD placed Feb 1, when is my confirmation test?", "en"),
        ("got my mirena put in on 10/1", "en"),
        ("I have the Nexplanon implant in my arm since August, do I need the HSG?", "en"),
        ("me pusieron el DIU el 3 de octubre", "es"),
        ("tengo el implante en el brazo desde agosto", "es"),
    ],
)
def test_an_iud_or_arm_implant_is_not_checked_with_an_hsg(settings, text, language):
    turn = flow.device_turn(text, "device_confirmation", {}, None, TODAY, settings, language)
    assert turn.slots == {"device_other": True, "device_placed": None} and turn.requested_slot is None
    result = flow.device_result({**turn.slots}, TODAY, settings, language)
    assert names(result) == ["utter_device_not_checked_by_hsg"] and "device_check_date" not in result.slots


def test_essure_named_with_an_iud_is_still_essure(settings):
    turn = flow.device_turn(
        "I had Essure put in on 5/2/2016, before that an IUD", "device_confirmation", {}, None, TODAY, settings
    )
    assert turn.slots["device_placed"] == "2016-05-02"


@pytest.mark.parametrize(
    "text,language",
    [
        ("I had Essure placed on 9/15/2026", "en"),
        ("essure put in march 3 2019", "en"),
        ("my adiana was placed on june 3 2014", "en"),
        ("me pusieron el Essure el 15/9/2026", "es"),
    ],
)
def test_a_placement_after_the_device_was_sold_asks_whether_it_is_another_device(settings, text, language):
    turn = flow.device_turn(text, "device_confirmation", {}, None, TODAY, settings, language)
    assert turn.slots["device_placed"] is None and turn.requested_slot == "device_placed"
    assert names(turn) == ["utter_device_placed_recent"] and turn.say[0].values["placed_text"]


@pytest.mark.parametrize(
    "text,language",
    [
        ("it's done", "en"),
        ("already stopped", "en"),
        ("it stopped already", "en"),
        ("no more bleeding", "en"),
        ("ya no", "es"),
        ("ya paró", "es"),
        ("ya se me quitó", "es"),
        ("ya no sangro", "es"),
        ("ya no me baja", "es"),
    ],
)
def test_the_bleeding_stopped_without_a_date_is_an_answer_not_a_cancel(settings, text, language):
    start = flow.timing_turn("my period started nov 22", "timing", {}, None, TODAY, settings, language)
    assert start.requested_slot == "bleeding_end"
    slots = {**start.slots, "requested_slot": "bleeding_end"}
    for intent in ("inform", "deny"):  # "ya no" may read as a "no" to the model
        turn = flow.timing_turn(text, intent, slots, "bleeding_end", TODAY, settings, language)
        assert turn.handled and turn.requested_slot is None, intent
        assert names(turn) == ["utter_readback_bleeding_stopped"]
        assert turn.slots["bleeding_end"] == TODAY.isoformat() and not turn.slots.get("no_periods")
        result = flow.timing_result({**slots, **turn.slots}, TODAY, settings, language)
        assert names(result)[0] == "utter_window"
        assert result.slots["hsg_window_start"] == "2026-11-28"  # from tomorrow (stopped by today)


@pytest.mark.parametrize("text,language", [("not yet", "en"), ("todavía no", "es"), ("aún no", "es")])
def test_not_yet_to_when_did_the_bleeding_stop_is_still_bleeding(settings, text, language):
    slots = {"period_start": "2026-11-22", "requested_slot": "bleeding_end"}
    turn = flow.timing_turn(text, "deny", slots, "bleeding_end", TODAY, settings, language)
    assert turn.handled and turn.slots["still_bleeding"] is True and names(turn) == ["utter_readback_still_bleeding"]


@pytest.mark.parametrize(
    "text,language",
    [
        ("never mind", "en"),
        ("forget it", "en"),
        ("no thanks", "en"),
        ("", "en"),
        ("olvídelo", "es"),
        ("no gracias", "es"),
        ("ya no quiero", "es"),
    ],
)
def test_only_a_clear_cancel_stops_the_date_questions(settings, text, language):
    """Not handled: the rule "patient stops the form" answers it ("" is the Never mind button's payload)."""
    slots = {"period_start": "2026-11-22", "requested_slot": "bleeding_end"}
    assert not flow.timing_turn(text, "deny", slots, "bleeding_end", TODAY, settings, language).handled
    assert not flow.device_turn(text, "deny", {}, "device_placed", TODAY, settings, language).handled


def test_a_bare_no_to_a_date_question_asks_again(settings):
    slots = {"period_start": "2026-11-22", "requested_slot": "bleeding_end"}
    turn = flow.timing_turn("no", "deny", slots, "bleeding_end", TODAY, settings)
    assert turn.handled and turn.requested_slot == "bleeding_end" and names(turn) == ["utter_no_date_found"]


def test_a_short_cycle_with_no_safe_day_gets_no_dates(settings):
    slots, requested, _ = run_form(
        settings, [("my period started nov 24, my cycle is 22 days", "timing"), ("not sure", "inform")]
    )
    assert requested is None and slots["cycle_length"] == 22.0
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result) == ["utter_window_short_cycle"]
    assert result.slots == {"hsg_window_start": None, "hsg_window_end": None}
