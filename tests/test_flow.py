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
