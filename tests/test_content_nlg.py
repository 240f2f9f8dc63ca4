"""The bot's side of the NLG endpoint (components/content_nlg.py): live answers from the
content service, and a last-known-good copy when the service does not answer."""
from __future__ import annotations

import asyncio
import logging

import pytest

from conftest import ROOT
from test_content_service import EDITOR, TOKEN, login, service  # noqa: F401 - the fixture

NEW_TEXT = "The exam itself takes about 15 minutes."


@pytest.fixture(scope="module")
def domain_object():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "build" / "domain.yml"))


def tracker(domain_object):
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events("patient", [UserUttered("how long is it", intent={"name": "faq",
                                                                                              "confidence": 0.9})],
                                            slots=domain_object.slots)


def make_nlg(url, domain_object, lkg_path, monkeypatch, token=TOKEN):
    from rasa.utils.endpoints import EndpointConfig

    from components.content_nlg import ContentNLG

    monkeypatch.setenv("HSG_CONTENT_TOKEN", token)
    monkeypatch.setenv("HSG_CONTENT_LKG", str(lkg_path))
    return ContentNLG(EndpointConfig(url=url + "/nlg", type="components.content_nlg.ContentNLG", timeout=2,
                                     sync_seconds=0), domain_object)


def edit_duration(service):  # noqa: F811
    session, _ = login(service)
    answer = service.store.answers()["utter_faq/duration"]
    answer["web"]["text"] = NEW_TEXT
    assert session.post(service.url + "/editor/api/answers/utter_faq/duration", json={"answer": answer}).ok


def generate(nlg, domain_object, channel="rest"):
    async def run():
        message = await nlg.generate("utter_faq/duration", tracker(domain_object), channel)
        if nlg.syncing:
            await nlg.syncing
        return message
    return asyncio.run(run())


def test_answers_come_live_from_the_service_and_a_copy_is_kept(service, domain_object, tmp_path,  # noqa: F811
                                                                 monkeypatch):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    built = domain_object.responses["utter_faq/duration"][0]["text"]
    assert generate(nlg, domain_object)["text"] == built
    edit_duration(service)
    assert generate(nlg, domain_object)["text"] == NEW_TEXT
    assert NEW_TEXT in (tmp_path / "lkg.json").read_text()
    assert generate(nlg, domain_object, "twilio")["text"] == service.store.answers()["utter_faq/duration"]["sms"]["text"]


def test_with_the_service_down_the_bot_answers_from_the_last_known_good_copy(service, domain_object,  # noqa: F811
                                                                             tmp_path, monkeypatch, caplog):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    edit_duration(service)
    assert generate(nlg, domain_object)["text"] == NEW_TEXT  # live, and the copy is saved
    down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "lkg.json", monkeypatch)  # nothing listens
    with caplog.at_level(logging.INFO, logger="components.content_nlg"):
        first = generate(down, domain_object)
        second = generate(down, domain_object)
    assert first["text"] == second["text"] == NEW_TEXT  # the edited text, not the one built into the model
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "did not answer" in r.getMessage()]
    assert len(warnings) == 1  # logged once per outage
    assert "how long" not in caplog.text  # never the patient's words


def test_before_any_copy_exists_the_answers_built_into_the_model_are_used(domain_object, tmp_path, monkeypatch):
    down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "none.json", monkeypatch)
    assert generate(down, domain_object)["text"] == domain_object.responses["utter_faq/duration"][0]["text"]


def test_a_refusing_service_also_falls_back(service, domain_object, tmp_path, monkeypatch, caplog):  # noqa: F811
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch, token="wrong-token")
    with caplog.at_level(logging.WARNING, logger="components.content_nlg"):
        assert generate(nlg, domain_object)["text"] == domain_object.responses["utter_faq/duration"][0]["text"]
    assert "401" in caplog.text


def test_an_unreadable_copy_is_ignored_with_a_warning(domain_object, tmp_path, monkeypatch, caplog):
    (tmp_path / "lkg.json").write_text("{broken")
    with caplog.at_level(logging.WARNING, logger="components.content_nlg"):
        down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "lkg.json", monkeypatch)
    assert "unreadable" in caplog.text
    assert generate(down, domain_object)["text"] == domain_object.responses["utter_faq/duration"][0]["text"]
