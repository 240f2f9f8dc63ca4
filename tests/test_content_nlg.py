"""The bot's side of the content service (components/content_nlg.py): replies rendered
in the bot from its copy of the answers with no request per reply, an edit picked up
by polling the version, the last-known-good copy during an outage, and the report
entries sent in the background.

No timed assertions: each test waits for a condition with a generous deadline."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from conftest import ROOT
from test_content_service import TOKEN, approve, login, service  # noqa: F401 - the fixture

from editor.report import Report

NEW_TEXT = "The exam itself takes about 15 minutes."
QUESTION = "how long is it"


@pytest.fixture(scope="module")
def domain_object():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "build" / "domain.yml"))


def tracker(domain_object, text=QUESTION, intent="faq", confidence=0.9, message_id="m1"):
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return DialogueStateTracker.from_events(
        "patient",
        [UserUttered(text, intent=parse["intent"], parse_data=parse, message_id=message_id)],
        slots=domain_object.slots,
    )


MADE = []


@pytest.fixture(autouse=True)
async def stop_polling():
    """Stops the pollers a test started, inside the test's event loop."""
    yield
    while MADE:
        await MADE.pop().close()


def make_nlg(url, domain_object, lkg_path, monkeypatch, token=TOKEN, poll_seconds=0.05, timeout=2):
    from rasa.utils.endpoints import EndpointConfig

    from components.content_nlg import ContentNLG

    monkeypatch.setenv("HSG_CONTENT_TOKEN", token)
    monkeypatch.setenv("HSG_CONTENT_LKG", str(lkg_path))
    nlg = ContentNLG(
        EndpointConfig(
            url=url + "/nlg", type="components.content_nlg.ContentNLG", timeout=timeout, poll_seconds=poll_seconds
        ),
        domain_object,
    )
    MADE.append(nlg)
    return nlg


def edit_duration(service):
    session, _ = login(service)
    answer = service.store.answers()["utter_faq/duration"]
    answer["web"]["text"] = NEW_TEXT
    assert session.post(service.url + "/editor/api/answers/utter_faq/duration", json={"answer": answer}).ok
    approve(service, "utter_faq/duration")  # a save is a draft until a clinician approves it


async def say(nlg, domain_object, channel="rest", response="utter_faq/duration", **latest):
    return await nlg.generate(
        response, tracker(domain_object, **latest), channel, domain_responses=domain_object.responses
    )


async def until(condition, seconds=15.0, what="the condition"):
    """Waits for condition() (which may be a coroutine function) with a deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        await asyncio.sleep(0.02)


async def polls(nlg, count):
    """Waits until the poller has finished `count` more polls."""
    target = nlg.polls + count
    await until(lambda: nlg.polls >= target, what=f"{count} polls")


def nlg_calls(service):
    return service.requests[("POST", "/nlg")]


# --- rendering in the bot, an edit through polling -----------------------------------
async def test_replies_make_no_request_and_an_edit_is_live_after_the_next_poll(
    service, domain_object, tmp_path, monkeypatch
):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    built = domain_object.responses["utter_faq/duration"][0]["text"]
    assert (await say(nlg, domain_object))["text"] == built
    assert nlg.copy_version == service.store.version()  # the first reply waited for the first poll
    assert service.requests[("GET", "/nlg/bundle")] == 1
    await asyncio.to_thread(edit_duration, service)
    await until(lambda: nlg.copy_version == service.store.version(), what="the edit to be fetched")
    assert (await say(nlg, domain_object))["text"] == NEW_TEXT
    sms = service.store.answers()["utter_faq/duration"]["sms"]["text"]
    assert (await say(nlg, domain_object, "twilio"))["text"] == sms != NEW_TEXT
    assert NEW_TEXT in (tmp_path / "lkg.json").read_text()
    assert service.requests[("GET", "/nlg/bundle")] == 2
    assert nlg_calls(service) == 0 and service.requests[("POST", "/nlg/report")] == 0


async def test_a_hundred_replies_send_no_request_at_all(service, domain_object, tmp_path, monkeypatch):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch, poll_seconds=3600)
    await say(nlg, domain_object)  # starts the poller; its first poll is done when this returns
    before = sum(service.requests.values())
    for number in range(100):
        assert (await say(nlg, domain_object, "twilio" if number % 2 else "rest", message_id=f"n{number}"))["text"]
    assert sum(service.requests.values()) == before


async def test_an_unchanged_version_fetches_no_bundle(service, domain_object, tmp_path, monkeypatch):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    await say(nlg, domain_object)
    await polls(nlg, 5)
    assert service.requests[("GET", "/nlg/version")] >= 6
    assert service.requests[("GET", "/nlg/bundle")] == 1
    saved = (tmp_path / "lkg.json").stat().st_mtime_ns
    # A restarted bot with the same copy in its file fetches no bundle either.
    again = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    assert again.copy_version == nlg.copy_version
    await say(again, domain_object)
    await polls(again, 2)
    assert service.requests[("GET", "/nlg/bundle")] == 1 and (tmp_path / "lkg.json").stat().st_mtime_ns == saved


# --- outages --------------------------------------------------------------------------
def refuse(service, monkeypatch):
    monkeypatch.setattr(service, "token", "another-token")  # every request gets 401


def fail(service, monkeypatch):
    def broken():
        raise OSError("the disk went away")

    monkeypatch.setattr(service.store, "version", broken)  # every poll gets 500


def hang(service, monkeypatch):
    version = service.store.version

    def slow():
        time.sleep(1.0)  # longer than the bot's timeout below
        return version()

    monkeypatch.setattr(service.store, "version", slow)


@pytest.mark.parametrize("outage", [refuse, fail, hang])
async def test_during_an_outage_replies_go_on_from_the_copy_logged_once_without_text(
    service, domain_object, tmp_path, monkeypatch, caplog, outage
):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch, timeout=0.3)
    await asyncio.to_thread(edit_duration, service)
    with caplog.at_level(logging.INFO, logger="components.content_nlg"):
        assert (await say(nlg, domain_object))["text"] == NEW_TEXT
        with monkeypatch.context() as patch:
            outage(service, patch)
            await until(lambda: nlg.down_since is not None, what="the outage to be noticed")
            await polls(nlg, 3)
            assert (await say(nlg, domain_object))["text"] == NEW_TEXT  # the copy, not the model's answer
            assert (await say(nlg, domain_object, "twilio"))["text"] != NEW_TEXT
        await until(lambda: nlg.down_since is None, what="the service to be back")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "did not answer" in warnings[0].getMessage()
    assert "answering from the last-known-good copy" in warnings[0].getMessage()
    assert any(r.levelno == logging.INFO and "answers again" in r.getMessage() for r in caplog.records)
    assert QUESTION not in caplog.text and NEW_TEXT not in caplog.text  # never message text
    assert nlg_calls(service) == 0


async def test_a_restart_during_an_outage_answers_from_the_last_known_good_file(
    service, domain_object, tmp_path, monkeypatch, caplog
):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    await asyncio.to_thread(edit_duration, service)
    assert (await say(nlg, domain_object))["text"] == NEW_TEXT  # fetched, and the copy is saved
    down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "lkg.json", monkeypatch)  # nothing listens
    with caplog.at_level(logging.INFO, logger="components.content_nlg"):
        first = await say(down, domain_object)
        await polls(down, 3)
        second = await say(down, domain_object)
    assert first["text"] == second["text"] == NEW_TEXT  # the edited text, not the one built into the model
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "did not answer" in r.getMessage()]
    assert len(warnings) == 1  # logged once per outage
    assert "how long" not in caplog.text  # never the patient's words


async def test_before_any_copy_exists_the_answers_built_into_the_model_are_used(domain_object, tmp_path, monkeypatch):
    down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "none.json", monkeypatch)
    assert (await say(down, domain_object))["text"] == domain_object.responses["utter_faq/duration"][0]["text"]
    assert not (tmp_path / "none.json").exists()


async def test_a_refusing_service_also_falls_back(service, domain_object, tmp_path, monkeypatch, caplog):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch, token="wrong-token")
    with caplog.at_level(logging.WARNING, logger="components.content_nlg"):
        assert (await say(nlg, domain_object))["text"] == domain_object.responses["utter_faq/duration"][0]["text"]
    assert "401" in caplog.text


async def test_an_unreadable_copy_is_ignored_with_a_warning(domain_object, tmp_path, monkeypatch, caplog):
    (tmp_path / "lkg.json").write_text("{broken")
    with caplog.at_level(logging.WARNING, logger="components.content_nlg"):
        down = make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "lkg.json", monkeypatch)
    assert "unreadable" in caplog.text
    assert (await say(down, domain_object))["text"] == domain_object.responses["utter_faq/duration"][0]["text"]


# --- the editors' report ------------------------------------------------------------
FALLBACK = dict(response="utter_fallback", text="can my husband come in", intent="nlu_fallback", confidence=0.45)


async def test_a_fallback_reply_is_recorded_for_the_report_in_the_background(
    service, domain_object, tmp_path, monkeypatch, caplog
):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="components.content_nlg"):
        assert (await say(nlg, domain_object))["text"]  # a sure answer: nothing to report
        reply = await say(nlg, domain_object, message_id="a", **FALLBACK)
        assert reply["text"] == service.responses()["utter_fallback"][0]["text"]
        await say(nlg, domain_object, message_id="b", response="utter_faq/pain", text="is it sore", confidence=0.5)
        await say(
            nlg, domain_object, message_id="c", response="utter_greet", text="/greet", intent="greet", confidence=1.0
        )
        await until(lambda: len(service.report.groups()) == 2, what="two report rows")
    groups = {g["text"]: g for g in service.report.groups()}
    assert groups["can my husband come in"]["kinds"] == {"not understood": 1}
    assert groups["is it sore"]["kinds"] == {"unsure": 1}
    assert service.requests[("POST", "/nlg/report")] == 2  # only the replies the report keeps
    assert nlg_calls(service) == 0
    assert "husband" not in caplog.text and "sore" not in caplog.text


async def test_report_entries_wait_for_the_service_during_an_outage(service, domain_object, tmp_path, monkeypatch):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    await say(nlg, domain_object)
    fallback_text = service.responses()["utter_fallback"][0]["text"]
    with monkeypatch.context() as patch:
        fail(service, patch)

        def locked(*args):
            raise OSError("database is locked")

        patch.setattr(service.report, "record", locked)  # were an entry sent now, it would be refused
        await until(lambda: nlg.down_since is not None, what="the outage to be noticed")
        reply = await say(nlg, domain_object, message_id="a", **FALLBACK)  # answered at once, report waits
        assert reply["text"] == fallback_text
        await polls(nlg, 2)
        assert len(nlg.pending) == 1 and service.report.groups() == []
    await until(lambda: service.report.groups(), what="the waiting entry to be recorded")
    assert [g["text"] for g in service.report.groups()] == ["can my husband come in"] and not nlg.pending


@pytest.mark.parametrize(
    "response,latest",
    [
        (
            "utter_fallback",
            {
                "text": "can my husband come in",
                "intent": {"name": "nlu_fallback", "confidence": 0.45},
                "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "faq", "confidence": 0.3}],
            },
        ),
        ("utter_default", {"text": "hmm", "intent": {"name": "faq", "confidence": 0.9}}),
        (
            "utter_out_of_scope",
            {
                "text": "weather?",
                "intent": {"name": "out_of_scope", "confidence": 0.9},
                "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}],
            },
        ),
        (
            "utter_faq/pain",
            {
                "text": "is it sore",
                "intent": {"name": "faq", "confidence": 0.5},
                "intent_ranking": [{"name": "faq", "confidence": 0.5}],
            },
        ),
        (
            "utter_faq/pain",
            {
                "text": "does it hurt",
                "intent": {"name": "faq", "confidence": 0.97},
                "intent_ranking": [{"name": "faq", "confidence": 0.97}],
            },
        ),
        (
            "utter_faq/pain",
            {
                "text": "does it hurt",
                "intent": {"name": "nlu_fallback", "confidence": 0.7},
                "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "faq", "confidence": 0.65}],
            },
        ),
        ("utter_greet", {"text": "hi", "intent": {"name": "greet"}}),
        ("utter_fallback", {"text": "/greet", "intent": {"name": "greet", "confidence": 1.0}}),
        ("utter_fallback", {"text": "  ", "intent": {"name": "nlu_fallback", "confidence": 0.2}}),
    ],
)
def test_the_bot_offers_the_report_exactly_the_replies_it_keeps(
    service, domain_object, tmp_path, monkeypatch, response, latest
):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    report = Report(tmp_path / "report.sqlite3", low_confidence=0.6)
    nlg.report_rules = service.report_rules()
    assert nlg.reportable(response, latest) == (report.classify(response, latest) is not None)
    nlg.report_rules = None  # before the service said which: every reply to a typed message
    assert nlg.reportable(response, latest) == bool(latest["text"].strip() and not latest["text"].startswith("/"))


def test_the_saved_copy_keeps_the_report_rules(service, domain_object, tmp_path, monkeypatch):
    nlg = make_nlg(service.url, domain_object, tmp_path / "lkg.json", monkeypatch)
    asyncio.run(say(nlg, domain_object))
    saved = json.loads((tmp_path / "lkg.json").read_text())
    assert saved["report"] == service.report_rules() and saved["version"] == service.store.version()
    assert (
        make_nlg("http://127.0.0.1:9", domain_object, tmp_path / "lkg.json", monkeypatch).report_rules
        == service.report_rules()
    )
