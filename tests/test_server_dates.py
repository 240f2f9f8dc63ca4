"""The date conversations against the running bot (frozen today: Friday, 2026-11-27)."""

from __future__ import annotations

import uuid

import pytest


def new_sender():
    return f"dates-{uuid.uuid4()}"


def test_date_in_the_first_message_then_on_request_sets_every_slot(bot):
    sender = new_sender()
    first = " ".join(bot.texts(sender, "My period started Nov 20, when can I have the HSG?"))
    assert "Friday, November 20" in first and "bleeding stop" in first
    assert bot.tracker(sender)["slots"]["period_start"] == "2026-11-20"
    second = " ".join(bot.texts(sender, "it stopped on the 24th"))
    slots = bot.tracker(sender)["slots"]
    assert (slots["bleeding_end"], slots["hsg_window_start"], slots["hsg_window_end"]) == (
        "2026-11-24",
        "2026-11-27",
        "2026-11-29",
    )
    assert "Friday, November 27" in second and "Sunday, November 29" in second and "days 8 to 10" in second


@pytest.mark.parametrize(
    "phrase,iso",
    [
        ("November 20", "2026-11-20"),
        ("Nov 20th", "2026-11-20"),
        ("20 Nov", "2026-11-20"),
        ("11/20", "2026-11-20"),
        ("11/20/2026", "2026-11-20"),
        ("2026-11-20", "2026-11-20"),
        ("today", "2026-11-27"),
        ("yesterday", "2026-11-26"),
        ("3 days ago", "2026-11-24"),
        ("last Monday", "2026-11-23"),
        ("a week ago", "2026-11-20"),
    ],
)
def test_every_date_form_in_the_first_message(bot, phrase, iso):
    sender = new_sender()
    replies = " ".join(bot.texts(sender, f"my period started {phrase}, when can I have the HSG?"))
    assert bot.tracker(sender)["slots"]["period_start"] == iso
    assert "Got it: your period started" in replies


@pytest.mark.parametrize(
    "phrase,iso", [("Nov 20", "2026-11-20"), ("3 days ago", "2026-11-24"), ("last monday", "2026-11-23")]
)
def test_date_given_in_reply_to_the_question(bot, phrase, iso):
    sender = new_sender()
    asked = " ".join(bot.texts(sender, '/timing{"want_dates":"yes"}'))
    assert "first day of your last period" in asked
    bot.texts(sender, phrase)
    assert bot.tracker(sender)["slots"]["period_start"] == iso


def test_correction_and_invalid_date(bot):
    sender = new_sender()
    bot.texts(sender, '/timing{"want_dates":"yes"}')
    refused = " ".join(bot.texts(sender, "February 30"))
    assert "isn't a real date" in refused and bot.tracker(sender)["slots"]["period_start"] is None
    bot.texts(sender, "November 19")
    bot.texts(sender, "no, it was the 20th")
    assert bot.tracker(sender)["slots"]["period_start"] == "2026-11-20"


def test_expected_period_gives_a_window_from_it(bot):
    sender = new_sender()
    replies = " ".join(bot.texts(sender, "my next period is due Dec 10, when should I book the HSG?"))
    slots = bot.tracker(sender)["slots"]
    assert (slots["period_start"], slots["hsg_window_start"], slots["hsg_window_end"]) == (
        "2026-12-10",
        "2026-12-16",
        "2026-12-19",
    )
    assert "Wednesday, December 16" in replies and "Saturday, December 19" in replies


def test_device_check_date(bot):
    sender = new_sender()
    replies = " ".join(bot.texts(sender, "I had Essure placed on 9/15/2018, when is my confirmation test?"))
    slots = bot.tracker(sender)["slots"]
    assert (slots["device_placed"], slots["device_check_date"]) == ("2018-09-15", "2018-12-15")
    assert "Saturday, December 15, 2018" in replies and "birth control" in replies


def uttered(bot, sender):
    return [(e.get("metadata") or {}).get("utter_action") for e in bot.tracker(sender)["events"] if e["event"] == "bot"]


@pytest.mark.parametrize(
    "text",
    [
        "I had my IUD placed Feb 1, when is my confirmation test?",
        "do I need an HSG after my Nexplanon implant in my arm?",
        "me pusieron el DIU el 3 de octubre, ¿cuándo es mi prueba de confirmación?",
    ],
)
def test_an_iud_or_arm_implant_gets_no_test_date(bot, text):
    sender = new_sender()
    bot.texts(sender, text)
    assert "utter_device_not_checked_by_hsg" in uttered(bot, sender)
    slots = bot.tracker(sender)["slots"]
    assert slots["device_check_date"] is None and slots["device_placed"] is None


def test_a_2026_essure_placement_asks_whether_it_is_another_device(bot):
    sender = new_sender()
    bot.texts(sender, "I had Essure placed on 9/15/2026, when is my confirmation test?")
    tracker = bot.tracker(sender)
    assert "utter_device_placed_recent" in uttered(bot, sender)
    assert tracker["slots"]["device_check_date"] is None and tracker["slots"]["requested_slot"] == "device_placed"
    bot.texts(sender, "sorry, it was 9/15/2016")
    assert bot.tracker(sender)["slots"]["device_check_date"] == "2016-12-15"


@pytest.mark.parametrize("reply", ["ya no", "ya paró", "it's done", "already stopped"])
def test_the_bleeding_already_stopped_goes_on_to_the_window(bot, reply):
    sender = new_sender()
    bot.texts(sender, "My period started Nov 22, when can I have the HSG?")
    bot.texts(sender, reply)
    slots = bot.tracker(sender)["slots"]
    assert (slots["bleeding_end"], slots["hsg_window_start"]) == ("2026-11-27", "2026-11-28")
    assert "utter_readback_bleeding_stopped" in uttered(bot, sender) and "utter_form_stopped" not in uttered(
        bot, sender
    )


@pytest.mark.parametrize("reply", ["never mind", "olvídelo"])
def test_a_clear_cancel_stops_the_date_questions(bot, reply):
    sender = new_sender()
    bot.texts(sender, "My period started Nov 22, when can I have the HSG?")
    bot.texts(sender, reply)
    tracker = bot.tracker(sender)
    assert not (tracker["active_loop"] or {}).get("name") and uttered(bot, sender)[-1] == "utter_form_stopped"


def test_symptom_inside_the_form_gets_the_urgent_answer(bot, settings):
    sender = new_sender()
    bot.texts(sender, '/timing{"want_dates":"yes"}')
    replies = " ".join(bot.texts(sender, "I have a high fever and really bad pain since my HSG"))
    assert settings["emergency_number"] in replies and settings["clinic_phone"] in replies
    assert bot.tracker(sender)["active_loop"] in ({}, None) or not bot.tracker(sender)["active_loop"].get("name")


@pytest.mark.parametrize(
    "correction", ["no, it was the 19th", "no no no, the 19th", "not the 20th, the 19th", "wrong, it was the 19th"]
)
def test_a_correction_inside_the_form_corrects_the_date_and_never_stops_the_form(bot, correction):
    """ "no, ... the 19th" is a corrected date (components/date_correction.py), whatever
    the model makes of the "no": the form reads it and asks its next question."""
    sender = new_sender()
    bot.texts(sender, "My period started Nov 20, when can I have the HSG?")
    replies = " ".join(bot.texts(sender, correction))
    tracker = bot.tracker(sender)
    assert tracker["active_loop"]["name"] == "timing_form", replies
    assert tracker["slots"]["period_start"] == "2026-11-19" and "Thursday, November 19" in replies
    assert tracker["slots"]["requested_slot"] == "bleeding_end"


def test_a_plain_no_inside_the_form_asks_again_and_never_mind_stops_it(bot):
    """Issue 22: "no" to "when did the bleeding stop?" is no answer, not a cancel (it used to
    stop the form); only a clear cancel does."""
    sender = new_sender()
    bot.texts(sender, "My period started Nov 20, when can I have the HSG?")
    bot.texts(sender, "no")
    tracker = bot.tracker(sender)
    assert tracker["active_loop"].get("name") == "timing_form" and tracker["slots"]["requested_slot"] == "bleeding_end"
    assert uttered(bot, sender)[-2:] == ["utter_no_date_found", "utter_ask_bleeding_end"]
    bot.texts(sender, "never mind")
    assert not (bot.tracker(sender)["active_loop"] or {}).get("name")
