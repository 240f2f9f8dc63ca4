"""Small fixes of Rasa 3.6 hot spots, applied once when the model's topic classifier
is imported (components/topic_classifier.py), which every process that loads the
model does (`rasa run`, `make shell`, `rasa test`). Nothing is forked: each patch replaces one function with
one that behaves the same, and refuses to run on any Rasa but the one it was written
for (a newer Rasa may have fixed it differently).

- Action-server replies and NLG replies are checked against a JSON schema with
  `jsonschema.validate(result, schema)`, which checks the schema itself and builds a
  validator again on every call (about 49 ms per call here). A validator built once
  gives the same answer, and raises the same error, in about 1 ms.
- Rasa wraps every tracker store in `FailSafeTrackerStore`, which turns a database
  error into an answer on a blank, in-memory conversation whose events are then lost.
  Patched, a `ConversationStoreUnavailable` raised by our tracker store
  (components/tracker_store.py) is passed on instead, so the channel can ask the
  patient to try again and nothing is lost; any other error keeps Rasa's behaviour.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Callable, Dict

from rasa.shared.exceptions import RasaException

WRITTEN_FOR = "3.6.21"
logger = logging.getLogger(__name__)


class ConversationStoreUnavailable(RasaException):
    """The conversation database cannot be reached (or refused a read or a write)."""


@lru_cache(maxsize=None)
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


def apply() -> None:
    """Applies every patch (once), after checking the Rasa version."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.core.nlg import callback

    if rasa.__version__ != WRITTEN_FOR:
        raise RuntimeError(f"components/rasa_patches.py was written for Rasa {WRITTEN_FOR}, not "
                           f"{rasa.__version__}: check each patch against the new Rasa, then update WRITTEN_FOR")
    if getattr(RemoteAction, "_hsg_patched", False):
        return
    _pass_store_outages_on()
    original_action_check = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        from jsonschema import ValidationError

        try:
            validate_once_built(result, RemoteAction.action_response_format_spec)
            return True
        except ValidationError:
            return original_action_check(self, result)  # the original's message for the log

    def validate_response(content: Any) -> bool:
        if content is None or content == "":
            return True
        from jsonschema import ValidationError

        try:
            validate_once_built(content, callback.nlg_response_format_spec)
            return True
        except ValidationError:
            return original_nlg_check(content)  # raises Rasa's own RasaException

    original_nlg_check = callback.CallbackNaturalLanguageGenerator.validate_response
    RemoteAction._validate_action_result = _validate_action_result
    callback.CallbackNaturalLanguageGenerator.validate_response = staticmethod(validate_response)
    RemoteAction._hsg_patched = True


def _pass_store_outages_on() -> None:
    """FailSafeTrackerStore.retrieve/retrieve_full_tracker/save re-raise
    ConversationStoreUnavailable instead of falling back to an empty memory store;
    any other error is handled as in Rasa 3.6.21 (rasa/core/tracker_store.py)."""
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
