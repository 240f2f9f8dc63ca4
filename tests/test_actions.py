"""The Rasa SDK actions: the events and responses they return for real trackers."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions import actions


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setenv("HSG_TODAY", "2026-11-27")


def sent(dispatcher):
    return [message["response"] for message in dispatcher.messages]


async def test_timing_route_without_dates_gives_the_general_answer(dispatcher, make_tracker, domain):
    events = await actions.ActionTimingRoute().run(dispatcher, make_tracker("when should i book it", "timing"), domain)
    assert sent(dispatcher) == ["utter_timing"]
    assert events == [SlotSet("dates_route", "none")]


async def test_timing_route_with_a_date_starts_the_form_fresh(dispatcher, make_tracker, domain):
    tracker = make_tracker("my period started nov 20", "timing", slots={"bleeding_end": "2026-10-05"})
    events = await actions.ActionTimingRoute().run(dispatcher, tracker, domain)
    assert SlotSet("dates_route", "timing") in events and SlotSet("bleeding_end", None) in events
    assert sent(dispatcher) == []


async def test_work_out_button_starts_the_form(dispatcher, make_tracker, domain):
    tracker = make_tracker('/timing{"want_dates":"yes"}', "timing",
                           entities=[{"entity": "want_dates", "value": "yes"}])
    events = await actions.ActionTimingRoute().run(dispatcher, tracker, domain)
    assert SlotSet("dates_route", "timing") in events


async def test_form_validation_sets_slots_and_asks_next(dispatcher, make_tracker, domain):
    tracker = make_tracker("it started on the 20th", "inform", slots={"requested_slot": "period_start"},
                           active_loop="timing_form")
    events = await actions.ValidateTimingForm().run(dispatcher, tracker, domain)
    assert SlotSet("period_start", "2026-11-20") in events
    assert events[-1] == SlotSet("requested_slot", "bleeding_end")
    assert sent(dispatcher) == ["utter_readback_period_start"]


async def test_form_validation_rejects_an_unrelated_question(dispatcher, make_tracker, domain):
    tracker = make_tracker("is the dye safe", "faq", slots={"requested_slot": "period_start"}, active_loop="timing_form")
    assert await actions.ValidateTimingForm().run(dispatcher, tracker, domain) == []


async def test_window_action_sets_iso_slots(dispatcher, make_tracker, domain):
    tracker = make_tracker("", slots={"period_start": "2026-11-20", "bleeding_end": "2026-11-24"})
    events = await actions.ActionTimingWindow().run(dispatcher, tracker, domain)
    assert SlotSet("hsg_window_start", "2026-11-27") in events and SlotSet("hsg_window_end", "2026-11-29") in events
    assert sent(dispatcher) == ["utter_window", "utter_window_reminders"]
    assert dispatcher.messages[0]["start_text"] == "Friday, November 27"


async def test_device_check_action(dispatcher, make_tracker, domain):
    tracker = make_tracker("", slots={"device_placed": "2026-09-15"})
    events = await actions.ActionDeviceCheck().run(dispatcher, tracker, domain)
    assert events == [SlotSet("device_check_date", "2026-12-15")]
    assert sent(dispatcher) == ["utter_device_check_due"]


async def test_inform_route_continues_the_last_date_conversation(dispatcher, make_tracker, domain):
    tracker = make_tracker("no, it was the 21st", "inform", slots={"last_date_slot": "period_start"})
    assert await actions.ActionInformRoute().run(dispatcher, tracker, domain) == [SlotSet("dates_route", "timing")]
    tracker = make_tracker("Nov 2", "inform")
    assert await actions.ActionInformRoute().run(dispatcher, tracker, domain) == [SlotSet("dates_route", "none")]
    assert sent(dispatcher) == ["utter_which_dates"]
