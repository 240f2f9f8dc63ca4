"""The Rasa fixes in components/rasa_patches.py: applied, same answers, version-checked."""
from __future__ import annotations

import pytest


def test_the_patches_are_applied_where_the_model_is_loaded():
    import components.topic_classifier  # noqa: F401
    from rasa.core.actions.action import RemoteAction

    assert getattr(RemoteAction, "_hsg_patched", False)


def test_an_action_server_reply_is_checked_as_before():
    import components.topic_classifier  # noqa: F401
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})


def test_an_nlg_reply_is_checked_as_before():
    import components.topic_classifier  # noqa: F401
    from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
    from rasa.shared.exceptions import RasaException

    assert CallbackNaturalLanguageGenerator.validate_response({"text": "hello", "buttons": []})
    assert CallbackNaturalLanguageGenerator.validate_response(None)
    with pytest.raises(RasaException):
        CallbackNaturalLanguageGenerator.validate_response({"text": 5})


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
    import components.tracker_store  # noqa: F401  (applies the patches, as endpoints.yml does)
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    from components.rasa_patches import ConversationStoreUnavailable

    store = FailSafeTrackerStore(_Store(ConversationStoreUnavailable("OperationalError")))
    for call in (store.retrieve("a"), store.retrieve_full_tracker("a"), store.save(DialogueStateTracker("a", []))):
        with pytest.raises(ConversationStoreUnavailable):
            await call
    assert store._fallback_tracker_store is None  # nothing went to an in-memory copy


async def test_other_tracker_store_errors_keep_rasas_fallback():
    import components.tracker_store  # noqa: F401
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

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
