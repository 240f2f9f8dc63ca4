"""Safety at the running bot (issue 11): red flags by clause, the urgent answer inside a
date form, and the late-period and long-bleeding rules (frozen today: Friday, 2026-11-27)."""

from __future__ import annotations

import uuid
from typing import List

import pytest
import yaml
from conftest import ROOT

# The English set and the Spanish one (each message judged at the running bot).
RED_FLAG_SETS = {
    language: yaml.safe_load((ROOT / "tests" / "nlu" / path).read_text(encoding="utf-8"))
    for language, path in (("en", "red_flags.yml"), ("es", "es/red_flags.yml"))
}
MAX_FALSE_ALARMS = 0.10


def new_sender(kind: str) -> str:
    return f"safety-{kind}-{uuid.uuid4()}"


def bot_actions(bot, sender: str) -> List[str]:
    """The response names the bot uttered in this conversation, in order."""
    return [
        (event.get("metadata") or {}).get("utter_action") or ""
        for event in bot.tracker(sender)["events"]
        if event["event"] == "bot"
    ]


def got_urgent(bot, text: str) -> bool:
    sender = new_sender("flag")
    bot.say(sender, text)
    return "utter_urgent" in bot_actions(bot, sender)


@pytest.mark.parametrize("language", list(RED_FLAG_SETS))
def test_every_described_symptom_gets_the_urgent_answer(bot, language):
    flags = RED_FLAG_SETS[language]
    missed = [item["text"] for item in flags["urgent"] if not got_urgent(bot, item["text"])]
    total = len(flags["urgent"])
    print(f"red flags ({language}): recall {total - len(missed)}/{total}")
    assert total >= 60 and missed == []


@pytest.mark.parametrize("language", list(RED_FLAG_SETS))
def test_look_alikes_rarely_get_the_urgent_answer(bot, language):
    """Hearsay look-alikes included (issue 22): the net raises none of them, so any alarm
    here is the topic model reading a look-alike as a symptom report."""
    flags = RED_FLAG_SETS[language]
    alarms = [item["text"] for item in flags["not_urgent"] if got_urgent(bot, item["text"])]
    total = len(flags["not_urgent"])
    hearsay = [item["text"] for item in flags["not_urgent"] if item.get("hearsay")]
    print(
        f"red flags ({language}): false alarms {len(alarms)}/{total}, of them hearsay "
        f"{len(set(alarms) & set(hearsay))}/{len(hearsay)}: {alarms}"
    )
    assert total >= 60 and len(hearsay) >= 25 and len(alarms) <= MAX_FALSE_ALARMS * total, alarms


@pytest.mark.parametrize(
    "text",
    [
        "my friend drove me home because I fainted",
        "I'm scared, I'm bleeding through a pad an hour",
        "I read a fever can mean an infection and I've got 101.5 now",
        "mi hermana dice que estoy pálida y me desmayé",
        "leí que puede ser infección, y tengo 38.7",
    ],
)
def test_the_patients_own_symptom_inside_hearsay_ends_a_date_form(bot, text):
    """Issue 22: hearsay around the patient's own symptom gets the urgent answer in every
    state, here in the middle of the date questions."""
    sender = new_sender("hearsay")
    bot.say(sender, "my period started Nov 20, when can I have the HSG?")
    assert bot.tracker(sender)["active_loop"].get("name") == "timing_form"
    bot.say(sender, text)
    assert bot_actions(bot, sender)[-1] == "utter_urgent"
    assert not (bot.tracker(sender).get("active_loop") or {}).get("name")


def test_the_urgent_answer_interrupts_a_date_form_and_ends_it(bot):
    sender = new_sender("form")
    bot.say(sender, "my period started Nov 20, when can I have the HSG?")
    assert bot.tracker(sender)["active_loop"].get("name") == "timing_form"
    replies = " ".join(bot.texts(sender, "I fainted in the car after my hsg yesterday. should I go to the ER?"))
    assert "911" in replies
    tracker = bot.tracker(sender)
    assert bot_actions(bot, sender)[-1] == "utter_urgent"
    assert not (tracker.get("active_loop") or {}).get("name")
    # the next message works: the patient can start again
    assert bot.texts(sender, "does it hurt?")


@pytest.mark.parametrize("days_ago_date", ["Oct 27", "Oct 22"])  # 31 and 36 days before Nov 27
def test_a_late_period_gets_no_dates(bot, days_ago_date):
    sender = new_sender("late")
    bot.say(sender, f"my last period started {days_ago_date}, when can I have the HSG?")
    assert bot.tracker(sender)["slots"]["requested_slot"] == "period_since"
    assert "utter_ask_period_since" in bot_actions(bot, sender)
    bot.say(sender, "No")
    tracker = bot.tracker(sender)
    assert "utter_window_period_late" in bot_actions(bot, sender)
    assert tracker["slots"]["hsg_window_start"] is None and tracker["slots"]["hsg_window_end"] is None


def test_a_later_period_gets_its_window(bot):
    sender = new_sender("later")
    bot.say(sender, "my last period started Oct 22, when can I have the HSG?")
    bot.say(sender, "yes")
    assert bot.tracker(sender)["slots"]["requested_slot"] == "period_start"
    bot.say(sender, "it started Nov 20")
    bot.say(sender, "it stopped on the 24th")
    slots = bot.tracker(sender)["slots"]
    assert (slots["hsg_window_start"], slots["hsg_window_end"]) == ("2026-11-27", "2026-11-29")


def test_bleeding_expected_past_day_10_gets_no_window(bot):
    sender = new_sender("bleed")
    bot.say(sender, "My period started Nov 24 but I'm still bleeding and expect it to stop Dec 4")
    actions = bot_actions(bot, sender)
    slots = bot.tracker(sender)["slots"]
    assert "utter_readback_bleeding_expected" in actions and "utter_window_bleeding_too_long" in actions
    assert "utter_date_problem_too_far" not in actions
    assert slots["bleeding_end"] == "2026-12-04" and slots["hsg_window_start"] is None


def test_a_long_ago_period_gets_the_no_periods_answer_after_one_retry(bot):
    sender = new_sender("longago")
    bot.say(sender, "my last period started March 3 2025, when can I book the HSG?")
    assert "utter_date_problem_too_old" in bot_actions(bot, sender)
    bot.say(sender, "yes, it really was March 3 2025")
    assert bot_actions(bot, sender)[-1] == "utter_window_pregnancy_test"


def test_no_period_for_months_gets_the_no_periods_answer_at_once(bot):
    sender = new_sender("noperiod")
    bot.say(sender, "I'm breastfeeding and haven't had a period in months, when can I have the HSG?")
    # the no-periods answer of the date questions, or the pregnancy-test topic answer: no dates either way
    assert {"utter_window_pregnancy_test", "utter_faq/pregnancy_test"} & set(bot_actions(bot, sender))
    assert bot.tracker(sender)["slots"]["hsg_window_start"] is None


def test_work_out_my_best_days_starts_the_date_questions(bot):
    sender = new_sender("workout")
    bot.say(sender, "can you work out my best days for the HSG?")
    tracker = bot.tracker(sender)
    assert tracker["active_loop"].get("name") == "timing_form"
    assert "utter_timing" not in bot_actions(bot, sender)
    assert tracker["slots"]["requested_slot"] == "period_start"


@pytest.mark.parametrize(
    "text",
    [
        "my friend said she nearly passed out",
        "my friend said she nearly passed out at hers",
        "mi amiga dijo que casi se desmaya",
    ],
)
def test_what_a_friend_said_is_not_the_emergency_answer(bot, text):
    """Issue 22: a frightened patient repeating hearsay gets no emergency answer."""
    assert not got_urgent(bot, text)
