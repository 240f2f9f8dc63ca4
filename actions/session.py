"""A new conversation session keeps the patient's language (Rasa's own extension point).

Rasa starts a new session after `session_expiration_time` (60 minutes, domain.yml)
and, with `carry_over_slots_to_new_session: false`, forgets every slot: dates from an
hour ago must be asked again. The language is the exception: a Spanish-speaking patient
who comes back and answers "ok" or taps a button must still be answered in Spanish.
So is the context of a first text from staff (`staff_reason`, `hsg_date`).
This is `action_session_start` as RasaHQ's financial-demo writes it: the session's
start, the slots in CARRIED_SLOTS that are set, then `action_listen` (Rasa's own
ActionSessionStart does the same, carrying every slot or none).

If the action server cannot answer, Rasa's own session start is used instead
(components/action_fallback.py) and only the carried language is lost for that
session: a message written in Spanish sets it again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# kept from one conversation session to the next: the language, and what staff's first
# text said (editor/first_text.py: why she was texted, and her HSG date when booked)
CARRIED_SLOTS = ("language", "staff_reason", "hsg_date")


def carried_slots(tracker: Tracker, domain: DomainDict) -> List[EventType]:
    """SlotSet events for the slots the new session keeps: every set slot when the
    domain carries slots over (as Rasa does), else the CARRIED_SLOTS that are set."""
    config: Dict[Text, Any] = domain.get("session_config") or {}
    names = list(domain.get("slots") or {})
    if not config.get("carry_over_slots_to_new_session", True):
        names = [name for name in CARRIED_SLOTS if name in names]
    return [SlotSet(name, tracker.get_slot(name)) for name in names if tracker.get_slot(name) is not None]


class ActionSessionStart(Action):
    """action_session_start: SessionStarted, the carried slots, action_listen."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SessionStarted(), *carried_slots(tracker, domain), ActionExecuted("action_listen")]
