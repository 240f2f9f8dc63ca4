"""A new session keeps the language: actions/session.py (Rasa's extension point,
action_session_start) and what Rasa does when the action server cannot answer it
(components/action_fallback.py)."""

from __future__ import annotations

import socket
import threading

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions.session import ActionSessionStart


def _sdk_tracker(domain, slots):
    from rasa_sdk import Tracker

    values = {name: None for name in domain["slots"]}
    values.update(slots)
    return Tracker("p", values, {"text": "hola", "intent": {"name": "greet"}}, [], False, None, {}, "action_listen")


async def test_a_new_session_keeps_the_language_but_not_the_dates(dispatcher, domain):
    assert domain["session_config"]["carry_over_slots_to_new_session"] is False
    tracker = _sdk_tracker(domain, {"language": "es", "period_start": "2026-11-03", "bleeding_end": "2026-11-08"})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert events == [SessionStarted(), SlotSet("language", "es"), ActionExecuted("action_listen")]
    assert dispatcher.messages == []  # it says nothing


async def test_a_conversation_without_a_language_starts_a_session_with_no_slots(dispatcher, domain):
    events = await ActionSessionStart().run(dispatcher, _sdk_tracker(domain, {"period_start": "2026-11-03"}), domain)
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


async def test_a_domain_that_carries_every_slot_over_is_left_as_rasa_does_it(dispatcher, domain):
    carrying = dict(domain, session_config={"session_expiration_time": 60, "carry_over_slots_to_new_session": True})
    tracker = _sdk_tracker(domain, {"language": "es", "period_start": "2026-11-03"})
    events = await ActionSessionStart().run(dispatcher, tracker, carrying)
    assert events[0] == SessionStarted() and events[-1] == ActionExecuted("action_listen")
    assert sorted(e["name"] for e in events[1:-1]) == ["language", "period_start"]


def test_the_domain_names_the_custom_session_start(domain):
    assert "action_session_start" in domain["actions"]


def _rasa_domain():
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml("""
version: "3.1"
actions: [action_session_start]
slots:
  language: {type: categorical, values: [en, es], influence_conversation: false, mappings: [{type: custom}]}
session_config: {session_expiration_time: 60, carry_over_slots_to_new_session: false}
""")


@pytest.fixture()
def silent_server():
    """A port that accepts connections and never answers (a hung action server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("server", ["down", "hung"])
async def test_without_the_action_server_the_session_starts_as_rasa_starts_it(server, request, monkeypatch):
    """Down (connection refused) or hung: Rasa's own session start, no message to the
    patient (not the polite "please call": the patient asked nothing of the action
    server), within HSG_SESSION_START_TIMEOUT for a hung server."""
    import time

    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import ActionExecuted as RasaActionExecuted
    from rasa.shared.core.events import SessionStarted as RasaSessionStarted
    from rasa.shared.core.events import SlotSet as RasaSlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from components import rasa_patches

    rasa_patches.apply()
    monkeypatch.setenv("HSG_SESSION_START_TIMEOUT", "0.5")
    port = request.getfixturevalue("silent_server") if server == "hung" else _closed_port()
    domain = _rasa_domain()
    action = RemoteAction("action_session_start", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
    tracker = DialogueStateTracker.from_events("p", [RasaSlotSet("language", "es")], slots=domain.slots)
    started = time.monotonic()
    events = await action.run(None, None, tracker, domain)
    assert time.monotonic() - started < 2.5
    assert events == [RasaSessionStarted(), RasaActionExecuted("action_listen")]


def test_the_session_start_waits_less_than_other_actions(monkeypatch):
    from components.action_fallback import action_timeout

    monkeypatch.delenv("HSG_ACTION_TIMEOUT", raising=False)
    monkeypatch.delenv("HSG_SESSION_START_TIMEOUT", raising=False)
    assert (action_timeout("action_timing_route"), action_timeout("action_session_start")) == (3.0, 1.0)
    monkeypatch.setenv("HSG_ACTION_TIMEOUT", "0.5")
    assert action_timeout("action_session_start") == 0.5  # never longer than any action's wait
