"""Rasa SDK actions: thin wrappers that read slots, call actions/flow.py and
dispatch responses by name. No patient-facing words live here."""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import flow
from actions.window import today_in
from common.settings import load_settings, topic_groups, topic_labels

logger = logging.getLogger(__name__)
FAQ_RESPONSE = "utter_faq/{key}"  # the answer to topic key `key` (content/answers/faq/<key>.yml)
if os.environ.get("HSG_TODAY"):  # a test setting: in production every window would be wrong
    logger.warning(
        "HSG_TODAY is set: every date is worked out as if today were %s (tests only)", os.environ["HSG_TODAY"]
    )


def _today() -> date:
    """Today in the clinic's time zone; HSG_TODAY=YYYY-MM-DD freezes it (used by tests)."""
    frozen = os.environ.get("HSG_TODAY")
    return date.fromisoformat(frozen) if frozen else today_in(load_settings()["time_zone"])


def _send(dispatcher: CollectingDispatcher, turn: flow.Turn) -> None:
    for item in turn.say:
        dispatcher.utter_message(response=item.response, **item.values)


def _slot_events(updates: Dict[Text, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in updates.items()]


def _intent(tracker: Tracker) -> Optional[Text]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _text(tracker: Tracker) -> Text:
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text  # button payloads carry no dates


def _language(tracker: Tracker) -> Text:
    """The conversation's language: the slot `language` ("es" or "en"; unset is English)."""
    return tracker.get_slot("language") or "en"


def _wants_dates(tracker: Tracker) -> bool:
    return any(e.get("entity") == "want_dates" for e in tracker.latest_message.get("entities") or [])


def _has_dates(tracker: Tracker) -> bool:
    language = _language(tracker)
    return bool(
        flow.extract_dates(_text(tracker), _today(), flow.date_order(load_settings(), language), language=language)
    )


def _asks_personal(tracker: Tracker) -> bool:
    """ "Work out my best days", no periods for months, or a late period: the date questions
    start at once (and a late period ends them at once, with no dates)."""
    flags = flow.detect_flags(_text(tracker), _language(tracker))
    return flags["wants_dates"] or flags["no_periods"] or flags["late"]


class _RouteRun:
    """Shared run() of the two question routes: start the form fresh, or answer generally."""

    route = ""
    fresh_slots: tuple = ()
    general_answer = ""
    personal_words_start = False

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if self.route == "device" and flow.names_other_device(_text(tracker)):
            dispatcher.utter_message(response="utter_device_not_checked_by_hsg")
            return [SlotSet("dates_route", "none")]
        if _wants_dates(tracker) or _has_dates(tracker) or (self.personal_words_start and _asks_personal(tracker)):
            return _slot_events({name: None for name in self.fresh_slots}) + [SlotSet("dates_route", self.route)]
        dispatcher.utter_message(response=self.general_answer)
        return [SlotSet("dates_route", "none")]


class ActionTimingRoute(_RouteRun, Action):
    """A timing question: the general answer, or the personal window when dates are given."""

    route, fresh_slots, general_answer = "timing", flow.TIMING_SLOTS, "utter_timing"
    personal_words_start = True

    def name(self) -> Text:
        return "action_timing_route"


class ActionDeviceRoute(_RouteRun, Action):
    """A device question: the general answer, or the test date when a placement date is given."""

    route, fresh_slots, general_answer = "device", flow.DEVICE_SLOTS, "utter_device_confirmation"

    def name(self) -> Text:
        return "action_device_route"


class ActionInformRoute(Action):
    """A date or a correction outside a form: continue the date conversation it belongs to."""

    def name(self) -> Text:
        return "action_inform_route"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not _has_dates(tracker):
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("dates_route", "none")]
        route = {"period_start": "timing", "bleeding_end": "timing", "device_placed": "device"}.get(
            tracker.get_slot("last_date_slot")
        )
        if route is None:
            dispatcher.utter_message(response="utter_which_dates")
        return [SlotSet("dates_route", route or "none")]


class _DateFormValidation:
    """A custom validation action for a form (Rasa calls `validate_<form name>` on every
    message while the form is active), written as a plain Action on purpose.

    rasa_sdk's FormValidationAction validates slot by slot (`extract_<slot>`,
    `validate_<slot>`); a patient's message often carries two dates, a correction of the
    date read back last, and "still bleeding" at once, which only one pass over the
    whole message reads right. So one pass (actions/flow.py) returns every slot it
    filled, what to say, and the next slot to ask for (`requested_slot`; None ends the
    form). A message with nothing for the form returns no events: Rasa rejects the form's
    turn and the interruption rules answer it. (A mixin, not an Action: rasa_sdk
    registers every Action subclass it finds.)
    """

    @staticmethod
    def turn(
        text: Text,
        intent: Optional[Text],
        slots: Dict[Text, Any],
        requested: Optional[Text],
        today: date,
        settings: Dict[Text, Any],
        language: Text = "en",
    ) -> flow.Turn:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        turn = self.turn(
            _text(tracker),
            _intent(tracker),
            dict(tracker.slots),
            tracker.get_slot("requested_slot"),
            _today(),
            load_settings(),
            _language(tracker),
        )
        if not turn.handled:
            return []
        _send(dispatcher, turn)
        return _slot_events(turn.slots) + [SlotSet("requested_slot", turn.requested_slot)]


class ValidateTimingForm(_DateFormValidation, Action):
    """Reads period and bleeding dates for the timing form."""

    turn = staticmethod(flow.timing_turn)

    def name(self) -> Text:
        return "validate_timing_form"


class ValidateDeviceForm(_DateFormValidation, Action):
    """Reads the placement date for the device form."""

    turn = staticmethod(flow.device_turn)

    def name(self) -> Text:
        return "validate_device_form"


class ActionTimingWindow(Action):
    """Works out the personal window and tells it with its reminders."""

    def name(self) -> Text:
        return "action_timing_window"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        turn = flow.timing_result(dict(tracker.slots), _today(), load_settings(), _language(tracker))
        _send(dispatcher, turn)
        return _slot_events(turn.slots)


class ActionDeviceCheck(Action):
    """Works out the confirmation-test date after Essure or Adiana."""

    def name(self) -> Text:
        return "action_device_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        turn = flow.device_result(dict(tracker.slots), _today(), load_settings(), _language(tracker))
        _send(dispatcher, turn)
        return _slot_events(turn.slots)


def _topic_label(labels: Dict[Text, Any], key: Text, language: Text) -> Dict[Text, Text]:
    """How the guided choice names a topic: the row's `label` and `button`, or for
    another language its `<language>: {label, button}` (each falling back to English)."""
    row = labels.get(key) or {"label": key, "button": key}
    translated = row.get(language) if language != "en" else None
    if not isinstance(translated, dict):
        return {"label": row["label"], "button": row["button"]}
    return {"label": translated.get("label") or row["label"], "button": translated.get("button") or row["button"]}


# The guided choice, by how many likely topics there are: "Is it about A?" (Yes /
# Something else), "A or B?", "one of these?" (each topic a button, and Something else).
GUIDED_RESPONSES = {1: "utter_guided_one", 2: "utter_clarify_topic", 3: "utter_guided_three"}
STORY_ACK = "utter_story_ack"
TOPIC_MENU = "/topic_menu"


def _intent_names(domain: DomainDict) -> set:
    return {item if isinstance(item, str) else next(iter(item)) for item in domain.get("intents") or []}


def topic_payload(key: Text, intents: set) -> Text:
    """A topic's button payload: `/faq/<key>` (the topic model reads it back as that
    answer), or `/<intent>` for a topic that is an intent of its own (timing...)."""
    return f"/{key}" if key in intents else f"/faq/{key}"


def guided_choice(keys: List[Text], language: Text, intents: set) -> tuple:
    """(response, arguments) of the guided choice offering `keys` (1 to 3, best first),
    named from content/topic_labels.yml in `language`."""
    labels = topic_labels()
    keys = keys[: len(GUIDED_RESPONSES)]
    arguments: Dict[Text, Any] = {}
    for letter, key in zip("abc", keys):
        row = _topic_label(labels, key, language)
        arguments.update(
            {
                f"topic_{letter}": row["label"],
                f"topic_{letter}_button": row["button"],
                f"topic_{letter}_key": key,
                f"topic_{letter}_payload": topic_payload(key, intents),
            }
        )
    return GUIDED_RESPONSES[len(keys)], arguments


def _entity_values(tracker: Tracker, name: Text) -> List[Any]:
    return [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]


def _top_guess(tracker: Tracker) -> Optional[Text]:
    """The model's best intent other than nlu_fallback."""
    ranking = [
        item.get("name")
        for item in tracker.latest_message.get("intent_ranking") or []
        if item.get("name") != "nlu_fallback"
    ]
    return ranking[0] if ranking else None


class ActionAnswerTopics(Action):
    """How to answer a message the topic model read as more than one plain answer
    (components/topic_classifier.py):
    - two questions in one message: both answers in the order asked;
    - unsure of the topic (`faq_mode` choose, or story: it asks nothing): the guided
      choice of its likely topics, each a button, and "Something else" (the topic list);
      a story gets a short acknowledgement first. The offer is kept in the slot
      `guided_offer` for the editors' report;
    - not understood (nlu_fallback) with nothing about the HSG: the out-of-scope answer
      when that was the best guess, else the fallback."""

    def name(self) -> Text:
        return "action_answer_topics"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        topics = [t for t in _entity_values(tracker, "topic") if t]
        mode = next(iter(_entity_values(tracker, "faq_mode")), None) or tracker.get_slot("faq_mode")
        unsure = _intent(tracker) == "nlu_fallback"
        events: List[EventType] = [SlotSet("faq_mode", None)]  # the next question is one question again
        if mode == "two" and len(topics) >= 2 and not unsure:
            for key in topics[:2]:
                dispatcher.utter_message(response=FAQ_RESPONSE.format(key=key))
        elif mode in ("choose", "story", "two") and topics:
            if mode == "story":
                dispatcher.utter_message(response=STORY_ACK)
            response, arguments = guided_choice(topics, _language(tracker), _intent_names(domain))
            dispatcher.utter_message(response=response, **arguments)
            offered = topics[: len(GUIDED_RESPONSES)]
            events.append(
                SlotSet("guided_offer", {"message_id": tracker.latest_message.get("message_id"), "offered": offered})
            )
        elif unsure:
            dispatcher.utter_message(
                response="utter_out_of_scope" if _top_guess(tracker) == "out_of_scope" else "utter_fallback"
            )
        else:
            # a slot left over from an earlier message (say the urgent answer answered that
            # one): answer this message's one question
            selected = ((tracker.latest_message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
            key = (selected.get("intent_response_key") or "").partition("/")[2]
            dispatcher.utter_message(response=FAQ_RESPONSE.format(key=key) if key else "utter_fallback")
        return events


# Topics that are intents of their own, and the answer their button's payload leads to.
INTENT_TOPIC_ANSWERS = {
    "timing": "utter_timing",
    "device_confirmation": "utter_device_confirmation",
    "human_handoff": "utter_handoff",
}


def _send_topic_groups(dispatcher: CollectingDispatcher, language: Text) -> None:
    """The topic list's groups, each a button (content/topic_groups.yml)."""
    buttons = [
        {
            "title": g.get(language) or g["en"],
            "payload": TOPIC_MENU + json.dumps({"topic_group": g["key"]}, separators=(",", ":")),
        }
        for g in topic_groups()
    ]
    dispatcher.utter_message(response="utter_topic_groups", buttons=buttons)


def _offer_just_made(tracker: Tracker) -> List[Text]:
    """The topics of the guided choice made in answer to the patient's message before this
    one (the slot `guided_offer`), or [] when the previous message got no guided choice."""
    offer = tracker.get_slot("guided_offer")
    users = [e for e in tracker.events if e.get("event") == "user"]
    if not isinstance(offer, dict) or len(users) < 2 or not offer.get("message_id"):
        return []
    if users[-2].get("message_id") != offer["message_id"]:
        return []
    return [str(key) for key in offer.get("offered") or []]


class ActionGuidedReply(Action):
    """A typed reply to the guided choice, read as the buttons would be: "yes", "sí", "ok",
    "that one" after "Is your question about A?" answers A (as "Yes, that's it" does);
    "no", "something else" after any guided choice opens the topic list (as "Something
    else" does). Anything else (a yes or no with no guided choice just before, or a yes to
    "A or B?") gets what a yes or no outside a question gets."""

    def name(self) -> Text:
        return "action_guided_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offered = _offer_just_made(tracker)
        intent = _intent(tracker)
        if intent == "deny" and offered:
            _send_topic_groups(dispatcher, _language(tracker))
        elif intent == "affirm" and len(offered) == 1:
            key = offered[0]
            dispatcher.utter_message(response=INTENT_TOPIC_ANSWERS.get(key) or FAQ_RESPONSE.format(key=key))
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionTopicMenu(Action):
    """The full topic list, grouped (content/topic_groups.yml): the groups as buttons
    ("Something else", "what can I ask?"), or, for /topic_menu{"topic_group": key}, that
    group's topics as buttons, each leading to its answer."""

    def name(self) -> Text:
        return "action_topic_menu"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = _language(tracker)
        groups = topic_groups()
        wanted = next(iter(_entity_values(tracker, "topic_group")), None)
        group = next((g for g in groups if g.get("key") == wanted), None)
        if group is None:
            _send_topic_groups(dispatcher, language)
            return []
        labels, intents = topic_labels(), _intent_names(domain)
        buttons = [
            {"title": _topic_label(labels, key, language)["button"], "payload": topic_payload(key, intents)}
            for key in group.get("topics") or []
        ]
        dispatcher.utter_message(
            response="utter_topic_group", group_name=group.get(language) or group["en"], buttons=buttons
        )
        return []
