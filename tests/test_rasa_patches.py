"""The Rasa fixes in components/rasa_patches.py: applied where the model loads, same
answers, version-checked."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _patched():
    """The patches, applied as the model's components do (apply() is idempotent)."""
    from components import rasa_patches

    rasa_patches.apply()


def _in_a_new_python(code):
    from conftest import ROOT

    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    ).stdout.split()


PATCHED = (
    "from rasa.core.actions.action import RemoteAction; from rasa.core.actions.loops import LoopAction; "
    "print(getattr(RemoteAction, '_hsg_patched', False), getattr(RemoteAction.run, 'hsg_polite', False), "
    "getattr(LoopAction.run, 'hsg_polite', False))"
)


def test_the_patches_are_applied_where_the_model_is_loaded_not_by_an_import():
    """Importing the modules changes nothing in Rasa; building the topic classifier (every
    process that loads the model does) applies every patch, the polite action answer too,
    without the REST channel (`make shell` and `rasa test` have none)."""
    code = (
        "import components.topic_classifier, components.tracker_store, components.language; " + PATCHED + "; "
        "from components.topic_classifier import TopicClassifier as T; "
        "T(T.get_default_config(), None, None); " + PATCHED + "; "
        "import sys; print('components.channels' in sys.modules)"
    )
    assert _in_a_new_python(code)[-7:] == ["False", "False", "False", "True", "True", "True", "False"]


def test_the_tracker_store_applies_the_patches_before_the_model_loads(tmp_path):
    """`rasa run` builds the tracker store before it loads the model: building it applies
    them, so Agent.load_model is already the patched one for the first model."""
    code = (
        "import components.tracker_store as t, gc; from rasa.core.agent import Agent; a = Agent.load_model; "
        f"t.ResilientSQLTrackerStore(dialect='sqlite', db={str(tmp_path / 't.sqlite3')!r}); " + PATCHED + "; "
        "print(Agent.load_model is not a)"
    )
    assert _in_a_new_python(code)[-4:] == ["True", "True", "True", "True"]


def test_apply_twice_patches_once():
    from rasa.core.actions.action import RemoteAction

    from components import rasa_patches

    _patched()
    installed = RemoteAction._validate_action_result, RemoteAction.run
    rasa_patches.apply()
    assert (RemoteAction._validate_action_result, RemoteAction.run) == installed


def test_an_action_server_reply_is_checked_as_before():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    _patched()

    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})


def test_another_rasa_version_is_refused(monkeypatch):
    import rasa

    from components import rasa_patches

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match="written for Rasa 3.6.21"):
        rasa_patches.apply()


class _Store:
    """A tracker store whose every call fails with the given error."""

    def __init__(self, error):
        from rasa.shared.core.domain import Domain

        self.error, self.domain, self.event_broker = error, Domain.empty(), None

    async def retrieve(self, sender_id):
        raise self.error

    retrieve_full_tracker = retrieve

    async def save(self, tracker):
        raise self.error


async def test_a_database_outage_is_passed_on_not_answered_on_a_blank_conversation():
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    _patched()
    from components.rasa_patches import ConversationStoreUnavailable

    store = FailSafeTrackerStore(_Store(ConversationStoreUnavailable("OperationalError")))
    for call in (store.retrieve("a"), store.retrieve_full_tracker("a"), store.save(DialogueStateTracker("a", []))):
        with pytest.raises(ConversationStoreUnavailable):
            await call
    assert store._fallback_tracker_store is None  # nothing went to an in-memory copy


async def test_other_tracker_store_errors_keep_rasas_fallback():
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    _patched()

    errors = []
    store = FailSafeTrackerStore(_Store(ValueError("x")), on_tracker_store_error=errors.append)
    assert await store.retrieve("a") is None
    await store.save(DialogueStateTracker("a", []))
    assert len(errors) == 2 and await store.fallback_tracker_store.retrieve("a") is not None


async def test_the_sql_store_turns_a_refused_connection_into_an_outage(tmp_path):
    from components.rasa_patches import ConversationStoreUnavailable
    from components.tracker_store import ResilientSQLTrackerStore

    missing = tmp_path / "no-such-folder" / "tracker.sqlite3"  # SQLite cannot open it
    store = ResilientSQLTrackerStore.__new__(ResilientSQLTrackerStore)
    import sqlalchemy as sa
    from rasa.shared.core.domain import Domain

    store.domain = Domain.empty()
    store.engine = sa.create_engine(f"sqlite:///{missing}")
    store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    with pytest.raises(ConversationStoreUnavailable):
        await store.retrieve("a")


# --- patches found with make profile (docs/perf/README.md) ------------------------------


def _every_event_as_dict():
    """One serialised event of each kind Rasa has, as an action server could send them."""
    from datetime import datetime

    from rasa.shared.core import events as ev

    return [
        ev.UserUttered(
            "hi", {"name": "greet", "confidence": 0.9}, [{"entity": "DATE", "value": "today", "start": 0, "end": 5}]
        ).as_dict(),
        ev.BotUttered("hello", {"buttons": []}).as_dict(),
        ev.SlotSet("a", 1).as_dict(),
        ev.SlotSet("b", None).as_dict(),
        ev.ActionExecuted("action_listen").as_dict(),
        ev.ActiveLoop("timing_form").as_dict(),
        ev.ActiveLoop(None).as_dict(),
        ev.AllSlotsReset().as_dict(),
        ev.Restarted().as_dict(),
        ev.SessionStarted().as_dict(),
        ev.UserUtteranceReverted().as_dict(),
        ev.ActionReverted().as_dict(),
        ev.FollowupAction("utter_x").as_dict(),
        ev.StoryExported().as_dict(),
        ev.ConversationPaused().as_dict(),
        ev.ConversationResumed().as_dict(),
        ev.ReminderScheduled("intent_x", datetime(2026, 1, 1)).as_dict(),
        ev.ReminderCancelled(name="r").as_dict(),
        ev.ActionExecutionRejected("action_x").as_dict(),
        ev.LoopInterrupted(True).as_dict(),
        ev.EntitiesAdded([{"entity": "e", "value": 1}]).as_dict(),
        ev.DefinePrevUserUtteredFeaturization(False).as_dict(),
    ]


def _action_replies():
    good = _every_event_as_dict()
    replies = [
        {"events": good, "responses": [{"text": "x"}]},
        {"events": []},
        {},
        {"responses": []},
        {"events": [good[2]] * 13, "responses": [{"response": "utter_x", "buttons": []}]},
    ]
    for event in good:  # each kind alone, then broken in the ways an action server could break it
        replies.append({"events": [event]})
        replies.append({"events": [dict(event, timestamp="yesterday")]})
        replies.append({"events": [dict(event, metadata=5)]})
        replies.append({"events": [{k: v for k, v in event.items() if k not in ("name", "entities", "text")}]})
        replies.append({"events": [dict(event, name=7)]})
    replies += [
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"event": 5}]},
        {"events": [{"name": "a"}]},
        {"events": ["slot"]},
        {"events": [None]},
        {"events": "slot"},
        {"events": {"event": "slot"}},
        {"responses": "text"},
        {"responses": [5]},
        [],
        "reply",
        None,
        5,
        {"events": [good[2], {"event": "slot", "value": 1}]},
        {"events": [dict(good[0], parse_data={"intent": {"name": 5}})]},
        {"events": [dict(good[0], parse_data={"entities": [{"entity": "e"}]})]},
        {"events": [{"event": "slot", "name": "a", "value": 1, "extra": True}]},
    ]
    return replies


def test_an_action_reply_gets_rasas_verdict_with_each_event_checked_by_its_type():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    _patched()
    from components.rasa_patches import _events_by_type, action_result_is_valid

    assert _events_by_type() is not None  # Rasa's schema has the shape the shortcut needs
    spec = RemoteAction.action_response_format_spec()
    full = validator_for(spec)(spec)
    replies = _action_replies()
    verdicts = [full.is_valid(reply) for reply in replies]
    assert any(verdicts) and not all(verdicts)
    assert [action_result_is_valid(reply) for reply in replies] == verdicts


def test_a_broken_action_reply_still_raises_rasas_error():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    _patched()
    from components.rasa_patches import ORIGINALS

    action = RemoteAction("action_x", None)
    broken = {"events": [{"event": "slot", "value": 1}]}
    with pytest.raises(ValidationError) as patched:
        action._validate_action_result(broken)
    with pytest.raises(ValidationError) as original:
        ORIGINALS["RemoteAction._validate_action_result"](action, broken)
    assert (
        patched.value.message == original.value.message and "Failed to validate Action server" in patched.value.message
    )


def _first_by_name(type_name):
    """Rasa 3.6.21's lookup, for comparison."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    return next((cls for cls in all_subclasses(Event) if cls.type_name == type_name), None)


def test_event_types_are_found_as_before():
    from rasa.shared.core.events import Event, SlotSet, deserialise_events
    from rasa.shared.utils.common import all_subclasses

    _patched()
    from components.rasa_patches import ORIGINALS

    assert Event.resolve_by_type is not ORIGINALS["Event.resolve_by_type"]
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is _first_by_name(cls.type_name) is not None
        assert ORIGINALS["Event.resolve_by_type"](cls.type_name) is Event.resolve_by_type(cls.type_name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    events = _every_event_as_dict()
    assert [type(e) for e in deserialise_events(events)] == [_first_by_name(e["event"]) for e in events]


def test_an_event_type_defined_later_is_found_and_forgotten_when_gone():
    import gc

    from rasa.shared.core.events import AlwaysEqualEventMixin, Event

    _patched()

    Event.resolve_by_type("slot")  # the lookup is built

    class LaterEvent(AlwaysEqualEventMixin):
        type_name = "hsg_later_event"

        def as_story_string(self):
            return None

    assert Event.resolve_by_type("hsg_later_event") is LaterEvent
    del LaterEvent
    gc.collect()
    assert _first_by_name("hsg_later_event") is None  # Rasa's lookup no longer lists it...
    with pytest.raises(ValueError):  # ...and neither does the patched one
        Event.resolve_by_type("hsg_later_event")


def _conversation(sender):
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    first = [
        ActionExecuted("action_session_start", timestamp=1),
        SessionStarted(timestamp=2),
        ActionExecuted("action_listen", timestamp=3),
        UserUttered("hi", {"name": "greet"}, timestamp=4),
        SlotSet("a", "x", timestamp=5),
    ]
    second = [
        ActionExecuted("action_session_start", timestamp=10),
        SessionStarted(timestamp=11),
        UserUttered("again", {"name": "greet"}, timestamp=12),
        ActionExecuted("utter_greet", timestamp=13),
    ]
    return DialogueStateTracker.from_events(sender, first), DialogueStateTracker.from_events(sender, first + second)


async def test_a_sqlite_store_keeps_its_connection_and_reads_what_rasa_read(tmp_path):
    import asyncio
    import threading

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy.pool import SingletonThreadPool

    _patched()
    from components.rasa_patches import ORIGINALS
    from components.tracker_store import ResilientSQLTrackerStore

    domain = Domain.from_dict({"slots": {"a": {"type": "any", "mappings": [{"type": "custom"}]}}})
    for kind in (SQLTrackerStore, ResilientSQLTrackerStore):
        store = kind(domain, dialect="sqlite", db=str(tmp_path / f"{kind.__name__}.sqlite3"))
        first, both = _conversation("a")
        await store.save(first)
        await store.save(both)
        assert type(store.engine.pool) is SingletonThreadPool  # one kept connection, not one per session
        for all_sessions in (False, True):
            patched = await store._retrieve("a", all_sessions)
            original = await ORIGINALS["SQLTrackerStore._retrieve"](store, "a", all_sessions)
            assert [e.as_dict() for e in patched.events] == [e.as_dict() for e in original.events]
            assert patched.current_slot_values() == original.current_slot_values()
        assert await store.retrieve("nobody") is None
        with store.engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert journal == ("wal" if kind is ResilientSQLTrackerStore else "delete")  # the store's PRAGMAs still run
        assert store.engine.pool._pre_ping is (kind is ResilientSQLTrackerStore)
        seen = []  # another thread gets its own connection (SQLite's connections stay in their thread)
        thread = threading.Thread(target=lambda seen=seen, store=store: seen.append(asyncio.run(store.retrieve("a"))))
        thread.start()
        thread.join()
        assert len(seen[0].events) == len((await store.retrieve("a")).events)


async def test_new_events_are_stored_in_the_same_rows_as_rasa_stored_them(tmp_path):
    import sqlite3

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered

    _patched()
    from components.rasa_patches import ORIGINALS

    domain = Domain.from_dict({"slots": {"a": {"type": "any", "mappings": [{"type": "custom"}]}}})

    async def rows(save, name):
        store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / name))
        first, both = _conversation("a")
        await save(store, first)
        await save(store, first)  # nothing new: nothing stored
        both.update(UserUttered("when", {"name": "timing"}, [{"entity": "DATE", "value": "x"}], timestamp=20))
        both.update(BotUttered("ok", {"buttons": [{"title": "t", "payload": "/p"}]}, {"m": 1}, timestamp=21))
        await save(store, both)
        store.engine.dispose()
        with sqlite3.connect(tmp_path / name) as db:
            return db.execute(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
            ).fetchall()

    assert SQLTrackerStore.save is not ORIGINALS["SQLTrackerStore.save"]
    patched = await rows(SQLTrackerStore.save, "patched.sqlite3")
    original = await rows(ORIGINALS["SQLTrackerStore.save"], "original.sqlite3")
    assert patched == original and len(patched) > 9


def test_a_loaded_model_is_kept_out_of_full_garbage_collections(monkeypatch):
    import gc

    from rasa.core.agent import Agent

    _patched()
    from components import rasa_patches

    calls = []

    def load(agent, model_path, fingerprint=None):  # stands in for Rasa's: leaves objects behind
        calls.append((model_path, fingerprint, gc.get_freeze_count()))
        agent.processor = [[i] for i in range(1000)]

    monkeypatch.setitem(rasa_patches.ORIGINALS, "Agent.load_model", load)
    agent = Agent()
    try:
        Agent.load_model(agent, "models/a.tar.gz", "f1")
        assert calls[-1][:2] == ("models/a.tar.gz", "f1") and len(agent.processor) == 1000
        assert gc.get_freeze_count() >= 1000  # what it loaded is out of the collector's walks
        Agent.load_model(agent, "models/b.tar.gz")
        assert calls[-1] == ("models/b.tar.gz", None, 0)  # the old model was unfrozen first, so it can go
        assert gc.get_freeze_count() >= 1000
    finally:
        gc.unfreeze()


def _extract_domain():
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml("""
version: "3.1"
intents: [faq, choose_language]
entities: [language]
slots:
  language: {type: categorical, values: [en, es], influence_conversation: false,
             mappings: [{type: from_entity, entity: language}]}
""")


def _after_message(parse_language=None, entities=(), slot=None):
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _extract_domain()
    parse = {"intent": {"name": "faq", "confidence": 0.9}, "entities": list(entities)}
    if parse_language:
        parse["language"] = parse_language
    events = ([SlotSet("language", slot)] if slot else []) + [
        UserUttered("text", parse["intent"], list(entities), parse)
    ]
    return DialogueStateTracker.from_events("p", events, slots=domain.slots), domain


async def _extracted(tracker, domain):
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.events import SlotSet

    events = await ActionExtractSlots(None).run(None, None, tracker, domain)
    return [(e.key, e.value) for e in events if isinstance(e, SlotSet)]


async def test_the_language_a_message_is_written_in_fills_the_slot():
    _patched()

    assert await _extracted(*_after_message("es")) == [("language", "es")]
    assert await _extracted(*_after_message("en", slot="es")) == [("language", "en")]  # English again
    assert await _extracted(*_after_message("es", slot="es")) == []  # no change
    assert await _extracted(*_after_message(None, slot="es")) == []  # "ok": kept


async def test_the_web_switchs_entity_wins_over_the_written_language():
    _patched()

    switch = [{"entity": "language", "value": "en"}]
    assert await _extracted(*_after_message("es", entities=switch, slot="es")) == [("language", "en")]
