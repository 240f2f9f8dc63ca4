"""Small fixes of Rasa 3.6, and one feature Rasa has no extension point for.

`apply()` installs them, once (a second call does nothing), and refuses any Rasa but
the one they were written for (a newer Rasa may have fixed them differently). It is
called explicitly where the model loads, not as a side effect of an import: by the
topic classifier's constructor (components/topic_classifier.py), which every process
that loads the model builds (`rasa run`, `make shell`, `rasa test`), and by the tracker
store's constructor (components/tracker_store.py), which `rasa run` builds before it
loads the model, so the loading itself is patched too. Nothing is forked: each fix
replaces one function with one that gives Rasa's answer (the same events, the same
rows, the same errors) and differs only in what it fixes, as each function's
docstring says; each has a test in tests/test_rasa_patches.py. `apply()` also installs
the polite answer when the action server is down or hung (components/action_fallback.py).

- Action-server replies are checked against a JSON schema with
  `jsonschema.validate(result, schema)`, which checks the schema itself and builds a
  validator again on every call (about 49 ms per call here). A validator built once
  gives the same answer, and raises the same error, in about 1 ms.
- Rasa wraps every tracker store in `FailSafeTrackerStore`, which turns a database
  error into an answer on a blank, in-memory conversation whose events are then lost.
  Patched, a `ConversationStoreUnavailable` raised by our tracker store
  (components/tracker_store.py) is passed on instead, so the channel can ask the
  patient to try again and nothing is lost; any other error keeps Rasa's behaviour.

Found with `make profile` (docs/perf/README.md; what each is worth is measured there):

- An action-server reply's events are checked against a `oneOf` of every event type's
  schema, which tries all of them (building an error for each miss) for every event:
  about 0.25 ms per event, 3 ms for a reply that resets 13 slots. Only the schemas
  whose `event` constant is the event's own name can match, so each event is checked
  against those alone: the same verdict, and a failing reply still gets Rasa's error.
- Every stored event is turned back into its class by `Event.resolve_by_type`, which
  lists every subclass of `Event` again (`all_subclasses`, about 23 us) for each event
  of each conversation on each message. The lookup is kept by name and built again
  whenever a new subclass of `Event` is made or a listed one is gone.
- Rasa's SQL tracker store opens a new database connection for every read and write
  of a conversation on SQLite (SQLAlchemy 1.4 gives file databases a `NullPool`):
  connecting, the store's PRAGMAs and, on closing the last connection of a
  write-ahead-logged file, a checkpoint, for each read and each write. Patched, a SQLite
  store keeps one connection per thread (`SingletonThreadPool`, SQLAlchemy's own pool
  for SQLite); PostgreSQL is left as it is.
- Loading a conversation builds an ORM object for each stored event only to read its
  `data` column; patched, the same query selects that column alone. Saving one builds
  an ORM object for each new event and flushes them one by one; patched, the same rows
  go in with one multi-row INSERT, in the same order, in the same transaction.
- A Rasa server holds about half a million objects once its model is loaded
  (TensorFlow, spaCy, scikit-learn), and Python's full garbage collection walks all of
  them: about 200 ms here, every few hundred messages, during which no patient gets an
  answer (the p95 of 20 paced conversations was four times their p50). Patched,
  `Agent.load_model` hands what it loaded to `gc.freeze()`, so a full collection walks
  only what came after; loading another model first unfreezes the old one, so it can
  still be collected.

The feature, not a fix (`_fill_the_language_slot`): the slot `language` is also filled
from the language a typed message is written in, which components/language.py puts in
the parse as a field. Rasa's supported ways were tried and do not fit:
- an entity `language` with the slot's `from_entity` mapping: Rasa's end-to-end test
  (`rasa test core --e2e --fail-on-prediction-errors`, scripts/test.sh) compares every
  predicted entity with the test story's annotations, so every English or Spanish test
  message would need a `language` entity over the whole text; Rasa's markup cannot nest
  one annotation in another (`[text](entity)` takes no `]` inside), and the test
  messages already annotate their dates (`[11/3](DATE)`), so those stories cannot count
  right;
- a `custom` slot mapping or `action_validate_slot_mappings`: the action server on
  every message, and the FAQ answers must work without it (README, Faults).
Rasa's ActionExtractSlots runs unchanged; the slot is set afterwards only when no
mapping set it this turn, so the web chat's switch (its `language` entity) still wins.
Carrying the language into a new session is no patch: it is Rasa's extension point,
a custom `action_session_start` (actions/session.py).
"""

from __future__ import annotations

import gc
import json
import logging
import weakref
from functools import cache
from typing import Any, Callable, Dict, List, Optional

from rasa.shared.exceptions import RasaException

WRITTEN_FOR = "3.6.21"
logger = logging.getLogger(__name__)
ORIGINALS: Dict[str, Any] = {}  # "Class.function" -> Rasa's own, for the tests that compare


class ConversationStoreUnavailable(RasaException):
    """The conversation database cannot be reached (or refused a read or a write)."""


@cache
def _validator(schema_function: Callable[[], Dict[str, Any]]) -> Any:
    from jsonschema.validators import validator_for

    schema = schema_function()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_once_built(instance: Any, schema_function: Callable[[], Dict[str, Any]]) -> None:
    """jsonschema.validate(instance, schema_function()), with the validator built once."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(schema_function).iter_errors(instance))
    if error is not None:
        raise error


class _EventsByType:
    """The action-reply schema split so that each event is checked only against the
    `oneOf` alternatives for its own `event` name (the others cannot match it, as each
    requires another constant there). None when the schema is not of that shape."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        from jsonschema.validators import validator_for

        events = spec["properties"]["events"]
        item = events["items"]
        self.names: Dict[str, List[Dict[str, Any]]] = {}
        for alternative in item["oneOf"]:
            name = alternative.get("properties", {}).get("event", {}).get("const")
            if not isinstance(name, str):
                raise ValueError("an event schema without a constant name")
            self.names.setdefault(name, []).append(alternative)
        cls = validator_for(spec)
        cls.check_schema(spec)
        # the reply without its events' items, then each event on its own
        self.outside = cls(dict(spec, properties=dict(spec["properties"], events=dict(events, items={}))))
        self.any_event = cls(item)
        self.by_name = {name: cls(dict(item, oneOf=alternatives)) for name, alternatives in self.names.items()}

    def is_valid(self, result: Any) -> bool:
        if not self.outside.is_valid(result):
            return False
        events = result.get("events") if isinstance(result, dict) else None
        if not isinstance(events, list):
            return True  # no events to check, or not a list: `outside` has judged it
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            if isinstance(name, str):
                validator = self.by_name.get(name)
                if validator is None or not validator.is_valid(event):
                    return False
            elif not self.any_event.is_valid(event):
                return False
        return True


@cache
def _events_by_type() -> Optional[_EventsByType]:
    from rasa.core.actions.action import RemoteAction

    try:
        return _EventsByType(RemoteAction.action_response_format_spec())
    except (KeyError, TypeError, ValueError, AttributeError):
        logger.warning("Rasa's action-reply schema changed shape: every event is checked against every type")
        return None


def action_result_is_valid(result: Any) -> bool:
    """The verdict of Rasa's action-reply schema on `result`, each event checked against
    its own type's schema only (False also when that cannot be used)."""
    checker = _events_by_type()
    return checker is not None and checker.is_valid(result)


def apply() -> None:
    """Applies every patch (once), after checking the Rasa version."""
    import rasa
    from rasa.core.actions.action import RemoteAction

    if rasa.__version__ != WRITTEN_FOR:
        raise RuntimeError(
            f"components/rasa_patches.py was written for Rasa {WRITTEN_FOR}, not "
            f"{rasa.__version__}: check each patch against the new Rasa, then update WRITTEN_FOR"
        )
    if getattr(RemoteAction, "_hsg_patched", False):
        return
    from components import action_fallback

    action_fallback.install()  # the polite answer when the action server is down or hung
    for patch in PATCHES:
        patch()
    RemoteAction._hsg_patched = True


def _check_action_replies_once_built() -> None:
    """Fixes: RemoteAction._validate_action_result rebuilt its JSON-schema validator on
    every reply. Otherwise as Rasa 3.6.21: the same verdict, and for a failing reply
    Rasa's own check runs, so the log and the error are Rasa's."""
    from rasa.core.actions.action import RemoteAction

    original_action_check = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        from jsonschema import ValidationError

        if action_result_is_valid(result):
            return True
        try:
            validate_once_built(result, RemoteAction.action_response_format_spec)
            return True
        except ValidationError:
            return original_action_check(self, result)  # the original's message for the log

    ORIGINALS["RemoteAction._validate_action_result"] = original_action_check
    RemoteAction._validate_action_result = _validate_action_result


def _pass_store_outages_on() -> None:
    """Fixes: a database outage answered on a blank conversation, then lost.
    FailSafeTrackerStore.retrieve/retrieve_full_tracker/save re-raise
    ConversationStoreUnavailable instead of falling back to an empty memory store;
    otherwise as Rasa 3.6.21: any other error is handled as there (rasa/core/tracker_store.py)."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    def outage(name: str, error: Exception) -> None:
        if isinstance(error, ConversationStoreUnavailable):
            logger.error("The conversation database cannot be reached (%s); the patient is asked to try again", name)
            raise error

    async def retrieve(self: FailSafeTrackerStore, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as error:
            outage("retrieve", error)
            self.on_tracker_store_retrieve_error(error)
            return None

    async def retrieve_full_tracker(self: FailSafeTrackerStore, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as error:
            outage("retrieve_full_tracker", error)
            self.on_tracker_store_retrieve_error(error)
            return None

    async def save(self: FailSafeTrackerStore, tracker: Any) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:
            outage("save", error)
            self.on_tracker_store_error(error)
            await self.fallback_tracker_store.save(tracker)

    FailSafeTrackerStore.retrieve = retrieve
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker
    FailSafeTrackerStore.save = save


def _cache_event_type_lookup() -> None:
    """Fixes: every stored event listed all of Event's subclasses again. Otherwise as
    Rasa 3.6.21: Event.resolve_by_type(name) finds the first subclass of Event (in
    rasa.shared.utils.common.all_subclasses order) whose type_name is `name`. The
    patched lookup keeps that answer per name, made again after any new subclass of
    Event is defined (Event.__init_subclass__) or when a class it keeps is gone."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    if "__init_subclass__" in vars(Event):
        raise RuntimeError("rasa.shared.core.events.Event defines __init_subclass__: check _cache_event_type_lookup")
    state: Dict[str, Any] = {"generation": 0, "built": -1, "by_name": {}}

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        super(Event, cls).__init_subclass__(**kwargs)
        state["generation"] += 1

    def lookup() -> Dict[str, Any]:
        if state["built"] != state["generation"]:
            generation = state["generation"]
            by_name: Dict[str, Any] = {}
            for cls in rasa.shared.utils.common.all_subclasses(Event):
                by_name.setdefault(cls.type_name, weakref.ref(cls))
            state["by_name"], state["built"] = by_name, generation
        return state["by_name"]

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        """Returns a slots class by its type name."""
        found = lookup().get(type_name)
        cls = found() if found is not None else None
        if found is not None and cls is None:  # that class is gone: list them again
            state["built"] = -1
            found = lookup().get(type_name)
            cls = found() if found is not None else None
        if cls is not None:
            return cls
        if type_name == "topic":
            return None  # backwards compatibility to support old TopicSet evts
        elif default is not None:
            return default
        else:
            raise ValueError(f"Unknown event name '{type_name}'.")

    ORIGINALS["Event.resolve_by_type"] = Event.resolve_by_type
    Event.__init_subclass__ = classmethod(__init_subclass__)
    Event.resolve_by_type = staticmethod(resolve_by_type)


def _keep_sqlite_connections_open() -> None:
    """Fixes: a new SQLite connection for every read and write of a conversation.
    Otherwise as Rasa 3.6.21. SQLTrackerStore.session_scope: a store on a SQLite file whose engine opens a
    connection per session (NullPool, SQLAlchemy 1.4's default for files) gets a pool
    that keeps one connection per thread instead, with the same connection factory,
    events (the store's PRAGMAs run once per connection), pre-ping and reset. Other
    databases, and SQLite in memory, are left as they are."""
    import sqlalchemy
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.pool import NullPool, SingletonThreadPool

    if not sqlalchemy.__version__.startswith("1.4."):
        raise RuntimeError(f"components/rasa_patches.py was written for SQLAlchemy 1.4, not {sqlalchemy.__version__}")
    original_scope = SQLTrackerStore.session_scope

    def session_scope(self: SQLTrackerStore) -> Any:
        engine = self.engine
        if engine.dialect.name == "sqlite" and type(engine.pool) is NullPool:
            old = engine.pool
            engine.pool = SingletonThreadPool(
                old._creator,
                recycle=old._recycle,
                echo=old.echo,
                logging_name=old._orig_logging_name,
                reset_on_return=old._reset_on_return,
                pre_ping=old._pre_ping,
                _dispatch=old.dispatch,
                dialect=old._dialect,
            )
            old.dispose()
        return original_scope(self)

    session_scope.__doc__ = original_scope.__doc__
    ORIGINALS["SQLTrackerStore.session_scope"] = original_scope
    SQLTrackerStore.session_scope = session_scope


def _load_only_the_event_data() -> None:
    """Fixes: an ORM object built for each stored event only to read one column.
    Otherwise SQLTrackerStore._retrieve as in Rasa 3.6.21, with the events' `data` column
    selected alone (Query.with_entities keeps the filters and the order)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.core.tracker_store import logger as store_logger
    from rasa.shared.core.trackers import DialogueStateTracker

    async def _retrieve(
        self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
                .with_entities(self.SQLEvent.data)
                .all()
            )
            events = [json.loads(data) for (data,) in rows]
            if self.domain and len(events) > 0:
                store_logger.debug(f"Recreating tracker from sender id '{sender_id}'")
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            store_logger.debug(
                f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. Returning `None` instead."
            )
            return None

    ORIGINALS["SQLTrackerStore._retrieve"] = SQLTrackerStore._retrieve
    SQLTrackerStore._retrieve = _retrieve


def _store_new_events_at_once() -> None:
    """Fixes: one ORM object and one INSERT per new event.
    Otherwise SQLTrackerStore.save as in Rasa 3.6.21, with the new events' rows (the same
    columns and values) inserted by one executemany instead of one ORM object each."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.core.tracker_store import logger as store_logger
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        """Update database with events from the current conversation."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):  # only store recent events
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        store_logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    ORIGINALS["SQLTrackerStore.save"] = SQLTrackerStore.save
    SQLTrackerStore.save = save


def _freeze_the_loaded_model_for_gc() -> None:
    """Fixes: 200 ms pauses of Python's full garbage collections over the loaded model.
    Otherwise Agent.load_model as in Rasa 3.6.21, then gc.freeze(): the objects it leaves
    (and everything before them) are kept out of Python's full collections. Objects
    frozen by an earlier load are unfrozen first, so a replaced model can be freed."""
    from rasa.core.agent import Agent

    def load_model(self: Agent, model_path: Any, fingerprint: Optional[str] = None) -> None:
        """Loads the agent's model and processor given a new model path."""
        gc.unfreeze()
        ORIGINALS["Agent.load_model"](self, model_path, fingerprint)
        gc.collect()
        gc.freeze()

    ORIGINALS["Agent.load_model"] = Agent.load_model
    Agent.load_model = load_model


LANGUAGE = "language"  # the parse field components/language.py sets, and the slot it fills


def _fill_the_language_slot() -> None:
    """A feature, not a fix (the module's docstring says why it is a patch): the slot
    `language` follows the language a message is written in. Otherwise
    ActionExtractSlots.run as in Rasa 3.6.21; then, when the message's parse carries
    a `language` (components/language.py: the language the whole message is written
    in) that differs from the slot's, and no mapping set the slot this turn (the web
    chat's /choose_language{"language": ...} payload does, by its entity), the slot is
    set to it. A field of the parse rather than an entity, since it marks no span of
    the text."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.events import SlotSet

    original_run = ActionExtractSlots.run

    async def run(self: ActionExtractSlots, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        events = await original_run(self, output_channel, nlg, tracker, domain)
        latest = tracker.latest_message
        language = (latest.parse_data or {}).get(LANGUAGE) if latest is not None else None
        if (
            language in ("en", "es")
            and any(slot.name == LANGUAGE for slot in domain.slots)
            and tracker.get_slot(LANGUAGE) != language
            and not any(isinstance(event, SlotSet) and event.key == LANGUAGE for event in events)
        ):
            events = list(events) + [SlotSet(LANGUAGE, language)]
        return events

    ORIGINALS["ActionExtractSlots.run"] = original_run
    ActionExtractSlots.run = run


PATCHES = (
    _pass_store_outages_on,
    _check_action_replies_once_built,
    _cache_event_type_lookup,
    _keep_sqlite_connections_open,
    _load_only_the_event_data,
    _store_new_events_at_once,
    _freeze_the_loaded_model_for_gc,
    _fill_the_language_slot,
)
