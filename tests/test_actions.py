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
    tracker = make_tracker('/timing{"want_dates":"yes"}', "timing", entities=[{"entity": "want_dates", "value": "yes"}])
    events = await actions.ActionTimingRoute().run(dispatcher, tracker, domain)
    assert SlotSet("dates_route", "timing") in events


async def test_form_validation_sets_slots_and_asks_next(dispatcher, make_tracker, domain):
    tracker = make_tracker(
        "it started on the 20th", "inform", slots={"requested_slot": "period_start"}, active_loop="timing_form"
    )
    events = await actions.ValidateTimingForm().run(dispatcher, tracker, domain)
    assert SlotSet("period_start", "2026-11-20") in events
    assert events[-1] == SlotSet("requested_slot", "bleeding_end")
    assert sent(dispatcher) == ["utter_readback_period_start"]


async def test_form_validation_rejects_an_unrelated_question(dispatcher, make_tracker, domain):
    tracker = make_tracker(
        "is the dye safe", "faq", slots={"requested_slot": "period_start"}, active_loop="timing_form"
    )
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


def test_two_questions_are_answered_in_order_and_the_mode_reset(make_tracker, dispatcher, domain):
    import asyncio

    from actions.actions import ActionAnswerTopics

    entities = [
        {"entity": "faq_mode", "value": "two"},
        {"entity": "topic", "value": "contrast"},
        {"entity": "topic", "value": "pain"},
    ]
    tracker = make_tracker("is the dye safe? also will it hurt", "faq", {"faq_mode": "two"}, entities)
    events = asyncio.run(ActionAnswerTopics().run(dispatcher, tracker, domain))
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/contrast", "utter_faq/pain"]
    assert events == [{"event": "slot", "timestamp": None, "name": "faq_mode", "value": None}]


def test_unsure_asks_with_the_topic_names_from_content(make_tracker, dispatcher, domain):
    import asyncio

    from actions.actions import ActionAnswerTopics
    from common.settings import topic_labels

    entities = [{"entity": "topic", "value": "catheter"}, {"entity": "topic", "value": "contrast"}]
    tracker = make_tracker("questions about the tube and dye", "faq", {"faq_mode": "choose"}, entities)
    asyncio.run(ActionAnswerTopics().run(dispatcher, tracker, domain))
    (message,) = dispatcher.messages
    labels = topic_labels()
    assert message["response"] == "utter_clarify_topic"
    assert (message["topic_a"], message["topic_b_button"]) == (
        labels["catheter"]["label"],
        labels["contrast"]["button"],
    )
    assert (message["topic_a_key"], message["topic_b_key"]) == ("catheter", "contrast")


def test_a_left_over_mode_answers_the_one_question(make_tracker, dispatcher, domain):
    import asyncio

    from actions.actions import ActionAnswerTopics

    tracker = make_tracker("does it hurt", "faq", {"faq_mode": "two"})
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/pain"}}}
    asyncio.run(ActionAnswerTopics().run(dispatcher, tracker, domain))
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/pain"]


def test_every_faq_topic_has_a_name_for_do_you_mean(domain):
    from common.settings import topic_labels

    labels = topic_labels()
    keys = {name.split("/", 1)[1] for name in domain["responses"] if name.startswith("utter_faq/")}
    assert keys <= set(labels) and all(v["label"] and v["button"] for v in labels.values())


# ---- the slot `language` drives how dates are read and written, and the topic names


async def test_spanish_form_validation_reads_and_writes_spanish(dispatcher, make_tracker, domain):
    tracker = make_tracker(
        "el 3/11", "inform", slots={"requested_slot": "period_start", "language": "es"}, active_loop="timing_form"
    )
    events = await actions.ValidateTimingForm().run(dispatcher, tracker, domain)
    assert SlotSet("period_start", "2026-11-03") in events  # day first: clinic.yml date_order_es
    assert sent(dispatcher) == ["utter_readback_period_start"]
    assert dispatcher.messages[0]["date_text"] == "martes, 3 de noviembre"


async def test_the_same_message_without_the_language_slot_is_english(dispatcher, make_tracker, domain):
    tracker = make_tracker("3/11", "inform", slots={"requested_slot": "period_start"}, active_loop="timing_form")
    events = await actions.ValidateTimingForm().run(dispatcher, tracker, domain)
    assert SlotSet("period_start", "2026-03-11") in events
    assert dispatcher.messages[0]["date_text"] == "Wednesday, March 11"


async def test_spanish_timing_route_starts_the_form_on_a_spanish_date(dispatcher, make_tracker, domain):
    tracker = make_tracker("mi regla empezó hace dos días", "timing", slots={"language": "es"})
    events = await actions.ActionTimingRoute().run(dispatcher, tracker, domain)
    assert SlotSet("dates_route", "timing") in events and sent(dispatcher) == []


async def test_spanish_personal_words_start_the_form(dispatcher, make_tracker, domain):
    tracker = make_tracker("no me ha bajado en meses", "timing", slots={"language": "es"})
    events = await actions.ActionTimingRoute().run(dispatcher, tracker, domain)
    assert SlotSet("dates_route", "timing") in events


async def test_spanish_inform_route_continues_after_a_correction(dispatcher, make_tracker, domain):
    tracker = make_tracker("no, fue el 21", "inform", slots={"last_date_slot": "period_start", "language": "es"})
    assert await actions.ActionInformRoute().run(dispatcher, tracker, domain) == [SlotSet("dates_route", "timing")]


async def test_spanish_window_action_fills_spanish_placeholders(dispatcher, make_tracker, domain):
    tracker = make_tracker("", slots={"period_start": "2026-11-20", "bleeding_end": "2026-11-24", "language": "es"})
    events = await actions.ActionTimingWindow().run(dispatcher, tracker, domain)
    assert SlotSet("hsg_window_start", "2026-11-27") in events
    message = dispatcher.messages[0]
    assert (message["start_text"], message["end_text"], message["cycle_start_text"]) == (
        "viernes, 27 de noviembre",
        "domingo, 29 de noviembre",
        "viernes, 20 de noviembre",
    )


async def test_spanish_device_check_action(dispatcher, make_tracker, domain):
    tracker = make_tracker("", slots={"device_placed": "2026-09-15", "language": "es"})
    await actions.ActionDeviceCheck().run(dispatcher, tracker, domain)
    assert (dispatcher.messages[0]["check_text"], dispatcher.messages[0]["placed_text"]) == (
        "martes, 15 de diciembre",
        "martes, 15 de septiembre",
    )


def _clarify(make_tracker, dispatcher, domain, language):
    import asyncio

    from actions.actions import ActionAnswerTopics

    entities = [{"entity": "topic", "value": "catheter"}, {"entity": "topic", "value": "contrast"}]
    slots = {"faq_mode": "choose", "language": language}
    asyncio.run(ActionAnswerTopics().run(dispatcher, make_tracker("tubo y tinte", "faq", slots, entities), domain))
    (message,) = dispatcher.messages
    return message


def test_spanish_do_you_mean_uses_the_spanish_topic_names(make_tracker, dispatcher, domain, monkeypatch):
    """A row's `es: {label, button}` names the topic in Spanish; a row without one keeps
    English; the payload keys (intent payloads /faq/<key>) are the same in both languages."""
    from actions import actions as module

    labels = {
        "catheter": {
            "label": "the thin tube (catheter)",
            "button": "The thin tube",
            "es": {"label": "el tubo delgado (catéter)", "button": "El tubo delgado"},
        },
        "contrast": {"label": "the dye (contrast)", "button": "The dye"},
    }
    monkeypatch.setattr(module, "topic_labels", lambda: labels)
    message = _clarify(make_tracker, dispatcher, domain, "es")
    assert (message["topic_a"], message["topic_a_button"]) == ("el tubo delgado (catéter)", "El tubo delgado")
    assert (message["topic_b"], message["topic_b_button"]) == ("the dye (contrast)", "The dye")  # no Spanish row
    assert (message["topic_a_key"], message["topic_b_key"]) == ("catheter", "contrast")


def test_english_do_you_mean_ignores_the_spanish_names(make_tracker, dispatcher, domain, monkeypatch):
    from actions import actions as module

    labels = {
        "catheter": {
            "label": "the thin tube (catheter)",
            "button": "The thin tube",
            "es": {"label": "el tubo delgado (catéter)", "button": "El tubo delgado"},
        }
    }
    monkeypatch.setattr(module, "topic_labels", lambda: labels)
    message = _clarify(make_tracker, dispatcher, domain, None)
    assert (message["topic_a"], message["topic_a_button"]) == ("the thin tube (catheter)", "The thin tube")
    assert (message["topic_b"], message["topic_b_button"]) == ("contrast", "contrast")  # no row at all: the key


def test_spanish_do_you_mean_with_the_real_labels(make_tracker, dispatcher, domain):
    """With content/topic_labels.yml as it is: Spanish names where a row has them, else English."""
    from common.settings import topic_labels

    labels = topic_labels()
    message = _clarify(make_tracker, dispatcher, domain, "es")
    for key, name in (("catheter", "topic_a"), ("contrast", "topic_b")):
        row = labels[key]
        assert message[name] == (row.get("es") or {}).get("label", row["label"])
        assert message[f"{name}_button"] == (row.get("es") or {}).get("button", row["button"])


# ---- the guided choice (issue 23): the likely topics when the model is unsure


def _guided(
    make_tracker, dispatcher, domain, topics, mode="choose", intent="nlu_fallback", language=None, ranking=None
):
    entities = [{"entity": "faq_mode", "value": mode}] if mode else []
    entities += [{"entity": "topic", "value": key} for key in topics]
    tracker = make_tracker("something about my hsg", intent, {"language": language, "faq_mode": mode}, entities)
    tracker.latest_message["message_id"] = "m-1"
    tracker.latest_message["intent_ranking"] = ranking or []
    import asyncio

    return asyncio.run(actions.ActionAnswerTopics().run(dispatcher, tracker, domain))


@pytest.mark.parametrize(
    "topics,response",
    [
        (["pain"], "utter_guided_one"),
        (["pain", "pain_relief"], "utter_clarify_topic"),
        (["pain", "pain_relief", "timing"], "utter_guided_three"),
    ],
)
def test_unsure_offers_each_likely_topic_with_its_answer_as_payload(make_tracker, dispatcher, domain, topics, response):
    from common.settings import topic_labels

    events = _guided(make_tracker, dispatcher, domain, topics)
    (message,) = dispatcher.messages
    labels = topic_labels()
    assert message["response"] == response
    for letter, key in zip("abc", topics):
        assert message[f"topic_{letter}"] == labels[key]["label"]
        assert message[f"topic_{letter}_button"] == labels[key]["button"]
        # a faq key is read back by the topic model; timing is an intent with its own answer
        assert message[f"topic_{letter}_payload"] == ("/timing" if key == "timing" else f"/faq/{key}")
    assert SlotSet("faq_mode", None) in events
    assert SlotSet("guided_offer", {"message_id": "m-1", "offered": topics}) in events


def test_a_story_gets_an_acknowledgement_before_its_choice(make_tracker, dispatcher, domain):
    _guided(make_tracker, dispatcher, domain, ["pain", "pain_relief"], mode="story", intent="faq")
    assert sent(dispatcher) == ["utter_story_ack", "utter_clarify_topic"]


def test_two_questions_not_understood_surely_are_offered_not_answered(make_tracker, dispatcher, domain):
    _guided(make_tracker, dispatcher, domain, ["contrast", "pain"], mode="two")
    assert sent(dispatcher) == ["utter_clarify_topic"]


def test_spanish_guided_choice_names_the_topics_in_spanish(make_tracker, dispatcher, domain):
    from common.settings import topic_labels

    _guided(make_tracker, dispatcher, domain, ["timing"], language="es")
    (message,) = dispatcher.messages
    assert message["topic_a"] == topic_labels()["timing"]["es"]["label"]


@pytest.mark.parametrize(
    "best,response", [("out_of_scope", "utter_out_of_scope"), ("greet", "utter_fallback"), (None, "utter_fallback")]
)
def test_not_understood_with_nothing_about_the_hsg(make_tracker, dispatcher, domain, best, response):
    ranking = [{"name": "nlu_fallback", "confidence": 0.55}] + ([{"name": best, "confidence": 0.4}] if best else [])
    events = _guided(make_tracker, dispatcher, domain, [], mode=None, ranking=ranking)
    assert sent(dispatcher) == [response]
    assert events == [SlotSet("faq_mode", None)]


async def test_the_topic_list_shows_the_groups_in_order(make_tracker, dispatcher, domain):
    from common.settings import topic_groups

    await actions.ActionTopicMenu().run(dispatcher, make_tracker("/topic_menu", "topic_menu"), domain)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_topic_groups"
    groups = topic_groups()
    assert [b["title"] for b in message["buttons"]] == [g["en"] for g in groups]
    assert message["buttons"][0]["payload"] == '/topic_menu{"topic_group":"' + groups[0]["key"] + '"}'


async def test_a_group_shows_its_topics_in_spanish_too(make_tracker, dispatcher, domain):
    from common.settings import topic_groups, topic_labels

    group = next(g for g in topic_groups() if "human_handoff" in g["topics"])
    tracker = make_tracker(
        '/topic_menu{"topic_group":"' + group["key"] + '"}',
        "topic_menu",
        {"language": "es"},
        [{"entity": "topic_group", "value": group["key"]}],
    )
    await actions.ActionTopicMenu().run(dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    labels = topic_labels()
    assert message["response"] == "utter_topic_group" and message["group_name"] == group["es"]
    assert [b["title"] for b in message["buttons"]] == [labels[key]["es"]["button"] for key in group["topics"]]
    assert "/human_handoff" in [b["payload"] for b in message["buttons"]]


async def test_an_unknown_group_shows_the_groups(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        '/topic_menu{"topic_group":"nope"}', "topic_menu", entities=[{"entity": "topic_group", "value": "nope"}]
    )
    await actions.ActionTopicMenu().run(dispatcher, tracker, domain)
    assert sent(dispatcher) == ["utter_topic_groups"]
