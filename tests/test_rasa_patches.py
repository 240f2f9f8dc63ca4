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
