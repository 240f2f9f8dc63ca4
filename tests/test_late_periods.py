"""A late period gets no exam dates, in any wording, in both languages (issue 22).

tests/nlu/late_periods.yml holds the wordings: messages that say a period is due but has
not come, replies to "Has a new period started since then?" that mean no or not sure,
and look-alikes whose period did come. Each is checked turn by turn (actions/flow.py, a
frozen today) and at the running bot (frozen today: Friday, 2026-11-27)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import List

import pytest
import yaml
from conftest import ROOT, load_nlu_examples

from actions import flow
from common.late_period import says_late

LATE = yaml.safe_load((ROOT / "tests" / "nlu" / "late_periods.yml").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 27)
# Answers that carry exam dates: none may follow a late period.
WINDOW_ANSWERS = {
    "utter_window",
    "utter_window_one_day",
    "utter_window_expected",
    "utter_window_estimate",
    "utter_window_reminders",
}
# The opening of a conversation whose last period began 38 days ago: the bot asks whether a
# new period has started since then.
OPENING = {
    "en": "my last period started October 20, when can I have the HSG?",
    "es": "mi regla empezó el 20 de octubre, ¿cuándo me puedo hacer la histerosalpingografía?",
}
CASES = [(language, text) for language in ("en", "es") for text in LATE[language]["messages"]]
REPLIES = [(language, text) for language in ("en", "es") for text in LATE[language]["replies"]]


def test_the_set_is_big_enough_and_never_trained_on():
    for language in ("en", "es"):
        assert len(LATE[language]["messages"]) >= 50, language
        assert len(LATE[language]["replies"]) >= 30, language
    trained = {
        text.lower()
        for path in (ROOT / "data" / "nlu").rglob("*.yml")
        for examples in load_nlu_examples(path).values()
        for text in examples
    }
    # (the short replies, "no", "not sure", are the deny and inform examples themselves)
    assert not [text for _, text in CASES if text.lower() in trained]


@pytest.mark.parametrize("language,text", CASES)
def test_late_words_are_found_in_either_language(language, text):
    assert says_late(text)


@pytest.mark.parametrize(
    "text",
    [
        "will the hsg make my period late?",
        "what if my period is late?",
        "my period is never late",
        "I'm late for my appointment",
        "my next period is due Dec 10",
        "no estoy atrasada",
        "¿el estudio puede retrasar la regla?",
        "my period started Nov 20",
    ],
)
def test_questions_about_lateness_and_other_lateness_are_not_a_late_period(text):
    assert not says_late(text)


@pytest.mark.parametrize("language,text", CASES)
def test_a_late_period_ends_the_date_questions_with_no_dates(settings, language, text):
    """Whatever date comes with it, and whichever language the conversation is in."""
    for conversation_language in {language, "en"}:
        turn = flow.timing_turn(text, "timing", {}, None, TODAY, settings, conversation_language)
        assert turn.slots.get("period_late") is True and turn.requested_slot is None, conversation_language
        assert not [say.response for say in turn.say if say.response.startswith("utter_readback")]
        result = flow.timing_result(turn.slots, TODAY, settings, conversation_language)
        assert [say.response for say in result.say] == ["utter_window_period_late"]
        assert result.slots == {"hsg_window_start": None, "hsg_window_end": None}


@pytest.mark.parametrize("language,reply", REPLIES)
def test_no_or_unsure_to_has_a_new_period_started_means_no_dates(settings, language, reply):
    turn = flow.timing_turn(OPENING[language], "timing", {}, None, TODAY, settings, language)
    assert turn.requested_slot == "period_since"
    slots = {**turn.slots, "requested_slot": "period_since"}
    for intent in ("inform", "affirm", "deny"):  # the words decide, whatever the model read
        answer = flow.timing_turn(reply, intent, slots, "period_since", TODAY, settings, language)
        assert answer.handled and answer.requested_slot is None, intent
        result = flow.timing_result({**slots, **answer.slots}, TODAY, settings, language)
        assert [say.response for say in result.say] == ["utter_window_period_late"], intent


@pytest.mark.parametrize("language,item", [(lang, item) for lang in ("en", "es") for item in LATE[lang]["not_late"]])
def test_a_period_that_came_is_not_late(settings, language, item):
    turn = flow.timing_turn(item["text"], "timing", {}, None, TODAY, settings, language)
    assert not turn.slots.get("period_late")
    assert turn.slots["period_start"] == item["start"] and turn.requested_slot == "bleeding_end"


# ---- at the running bot


def bot_actions(bot, sender: str) -> List[str]:
    return [
        (event.get("metadata") or {}).get("utter_action") or ""
        for event in bot.tracker(sender)["events"]
        if event["event"] == "bot"
    ]


def test_every_late_wording_gets_the_late_period_answer_at_the_bot(bot):
    wrong = []
    for language, text in CASES:
        sender = f"late-{uuid.uuid4()}"
        bot.say(sender, text)
        said = bot_actions(bot, sender)
        slots = bot.tracker(sender)["slots"]
        if "utter_window_period_late" not in said or WINDOW_ANSWERS & set(said) or slots["hsg_window_start"]:
            wrong.append((language, text, said))
    print(f"late periods at the bot: {len(CASES) - len(wrong)}/{len(CASES)} got the late-period answer")
    assert wrong == []


def test_every_no_or_unsure_reply_gets_the_late_period_answer_at_the_bot(bot):
    wrong = []
    for language, reply in REPLIES:
        sender = f"late-reply-{uuid.uuid4()}"
        bot.say(sender, OPENING[language])
        assert bot.tracker(sender)["slots"]["requested_slot"] == "period_since", language
        bot.say(sender, reply)
        said = bot_actions(bot, sender)
        if said[-1:] != ["utter_window_period_late"] or WINDOW_ANSWERS & set(said):
            wrong.append((language, reply, said))
    print(f"replies at the bot: {len(REPLIES) - len(wrong)}/{len(REPLIES)} read as no or not sure")
    assert wrong == []


@pytest.mark.parametrize(
    "text",
    ["I'm 5 days late and I'm bleeding through a pad every hour", "tengo 5 días de atraso y me desmayé hace rato"],
)
def test_a_late_period_with_a_red_flag_still_gets_the_urgent_answer(bot, text):
    sender = f"late-urgent-{uuid.uuid4()}"
    bot.say(sender, text)
    assert "utter_urgent" in bot_actions(bot, sender)


# ---- the pipeline steps (components/late_period.py, components/other_device.py)


def _message(text: str, intent: str):
    from rasa.shared.nlu.training_data.message import Message

    return Message(
        data={"text": text, "intent": {"name": intent, "confidence": 0.6}, "intent_ranking": [{"name": intent}]}
    )


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("my period is 4 days late, can I still go?", "faq", "timing"),
        ("me toca desde el 20 y nada", "report_symptoms", "timing"),  # the net after it judges red flags
        ("what if my period is late?", "faq", "faq"),
        ('/choose_language{"language":"es"}', "choose_language", "choose_language"),
    ],
)
def test_the_late_period_step_sends_late_words_to_the_date_questions(text, intent, expected):
    from components.late_period import LatePeriod

    [message] = LatePeriod.create({}, None, None, None).process([_message(text, intent)])
    assert message.get("intent")["name"] == expected
    assert bool(message.get("late_period")) == (expected == "timing")


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("I had my IUD placed Feb 1, when is my test?", "nlu_fallback", "device_confirmation"),
        ("can I have an HSG with my IUD in?", "faq", "faq"),  # a confident topic answer stays
        ("I had Essure and then an IUD", "nlu_fallback", "nlu_fallback"),
    ],
)
def test_the_other_device_step_sends_an_unplaced_iud_message_to_the_device_question(text, intent, expected):
    from components.other_device import OtherDevice

    [message] = OtherDevice.create({}, None, None, None).process([_message(text, intent)])
    assert message.get("intent")["name"] == expected
