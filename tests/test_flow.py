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
    assert turn.slots["period_start"] == "2026-11-19" and "bleeding_end" not in {
        k for k, v in turn.slots.items() if v}
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


@pytest.mark.parametrize("text,response", [
    ("February 30", "utter_date_problem_impossible"),   # no such day
    ("99/99/9999", "utter_date_problem_impossible"),    # no such month
    ("March 3 1990", "utter_date_problem_too_old"),     # decades ago
])
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


@pytest.mark.parametrize("text,slot", [
    ("I'm still bleeding", "still_bleeding"),
    ("not sure when it stopped", "bleeding_end_unknown"),
])
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
    turn = flow.timing_result({"period_start": "2026-11-15", "still_bleeding": True, "bleeding_end_unknown": True},
                              TODAY, settings)
    assert names(turn) == ["utter_window_bleeding_too_long"]
    assert turn.slots["hsg_window_start"] is None and turn.slots["hsg_window_end"] is None


@pytest.mark.parametrize("slots", [
    {"no_periods": True},
    {"period_start": "2026-09-01", "bleeding_end_unknown": True},  # about 12 weeks ago
])
def test_no_recent_period_means_pregnancy_test_first(settings, slots):
    turn = flow.timing_result(slots, TODAY, settings)
    assert names(turn) == ["utter_window_pregnancy_test"] and turn.slots["hsg_window_start"] is None


def test_long_ago_period_does_not_ask_when_bleeding_stopped(settings):
    turn = flow.timing_turn("my last period was August 1", "timing", {}, None, TODAY, settings)
    assert turn.requested_slot is None


@pytest.mark.parametrize("text,placed,check", [
    ("I had Essure placed on 9/15/2026", "2026-09-15", "2026-12-15"),
    ("adiana put in november 30 2025", "2025-11-30", "2026-02-28"),   # month end moves back
    ("my essure was placed June 3, 2015", "2015-06-03", "2015-09-03"),  # years ago is real
])
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
    turn = flow.timing_result({"period_start": "2026-12-10", "period_expected": True, "bleeding_end_unknown": True},
                              TODAY, settings)
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
    assert requested == "period_since"          # "has a new period started since then?"
    slots, requested, _ = run_form(settings, [("no", "deny")], slots)
    assert slots["period_since"] is False and requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result) == ["utter_window_period_late"]
    assert result.slots == {"hsg_window_start": None, "hsg_window_end": None}


@pytest.mark.parametrize("answer,intent", [("not sure", "inform"), ("/deny", "deny"), ("nope not yet", "inform"),
                                           ("no i havent had one since", "inform")])
def test_not_sure_or_no_about_a_later_period_gives_no_dates(settings, answer, intent):
    slots, _, _ = run_form(settings, [("my period started october 20", "timing"), (answer, intent)])
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_period_late"]


def test_a_later_period_given_after_yes_gets_its_window(settings):
    slots, requested, turns = run_form(settings, [("my period started october 20", "timing"), ("yes", "affirm")])
    assert slots["period_start"] is None and requested == "period_start"
    slots, requested, turns = run_form(settings, [("it started nov 20", "inform"), ("it stopped the 24th", "inform")],
                                       slots)
    assert requested is None
    result = flow.timing_result(slots, TODAY, settings)
    assert names(result)[0] == "utter_window"
    assert (result.slots["hsg_window_start"], result.slots["hsg_window_end"]) == ("2026-11-27", "2026-11-29")


def test_yes_with_the_new_date_in_one_message(settings):
    slots, requested, _ = run_form(settings, [("my period started october 20", "timing"),
                                              ("yes it came on nov 20", "affirm")])
    assert slots["period_start"] == "2026-11-20" and requested == "bleeding_end"


def test_an_unclear_answer_to_the_late_question_asks_it_again(settings):
    slots, requested, turns = run_form(settings, [("my period started october 20", "timing"),
                                                  ("hmm what do you mean", "inform")])
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
    slots, requested, _ = run_form(settings, [("period started nov 25", "timing"),
                                              ("should stop around the 29th", "inform")])
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


@pytest.mark.parametrize("text", [
    "I haven't had a period in months, I'm breastfeeding",
    "no period for 5 months because of pcos",
    "my periods havent come back since the baby",
])
def test_no_period_for_months_goes_straight_to_the_pregnancy_test_answer(settings, text):
    slots, requested, _ = run_form(settings, [(text, "timing")])
    assert requested is None and slots["no_periods"] is True
    assert names(flow.timing_result(slots, TODAY, settings)) == ["utter_window_pregnancy_test"]


@pytest.mark.parametrize("text,wants", [
    ("work out my best days", True),
    ("can you figure out my dates for the hsg", True),
    ("calculate my window please", True),
    ("when in my cycle is the hsg done?", False),
])
def test_asking_for_my_own_days_is_recognised(text, wants):
    assert flow.detect_flags(text)["wants_dates"] is wants


def test_a_symptom_inside_the_form_is_never_read_as_a_date(settings):
    slots = {"period_start": "2026-11-20", "last_date_slot": "period_start"}
    for turn_function in (flow.timing_turn, flow.device_turn):
        turn = turn_function("I fainted in the car after my hsg yesterday", "report_symptoms", slots,
                             "bleeding_end", TODAY, settings)
        assert not turn.handled and turn.slots == {} and turn.say == []
