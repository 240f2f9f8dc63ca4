"""The guided choice (issue 23) without a running bot: its content (the topic list's
groups, names and SMS lengths), the editors' report of what was offered and picked,
and the rule the bot uses to send picks to the report. The running bot's side is in
tests/test_server_guided.py."""

from __future__ import annotations

import json
import time

import pytest
from conftest import ROOT

from common.report_rules import offered_topics, picked_topic, report_kind
from common.settings import fill, placeholders, topic_groups, topic_labels
from common.sms_segments import numbered, segments
from editor.checks import load_rules
from editor.report import Report
from editor.store import FileContentStore

TOPIC_INTENTS = {"timing", "device_confirmation", "human_handoff"}  # topics that are intents of their own


def faq_keys():
    return {path.stem for path in (ROOT / "content" / "answers" / "faq").glob("*.yml")}


# ---------------------------------------------------------------- the topic list
def test_every_topic_is_in_exactly_one_group():
    listed = [key for group in topic_groups() for key in group["topics"]]
    assert sorted(listed) == sorted(faq_keys() | TOPIC_INTENTS), "each topic once, and nothing else"


def test_every_group_has_a_key_and_both_names_and_every_topic_a_label():
    groups = topic_groups()
    assert len({g["key"] for g in groups}) == len(groups)
    labels = topic_labels()
    for group in groups:
        assert group["key"].isidentifier() and group["en"] and group["es"], group
        for key in group["topics"]:
            assert labels[key]["button"] and labels[key]["es"]["button"], key


def test_group_names_are_no_longer_than_the_checks_longest():
    """The content checks fill {group_name} with its longest value (content/checks.yml)."""
    rules = load_rules()
    for group in topic_groups():
        assert len(group["en"]) <= len(rules["worst_case_values"]["group_name"]), group["en"]
        assert len(group["es"]) <= len(rules["worst_case_values_es"]["group_name"]), group["es"]


def _sms(name, language, settings, **values):
    answer = FileContentStore().answers()[name]
    form = (answer["es"] if language == "es" else answer)["sms"]
    return fill(form["text"], {**placeholders(settings, language), **values})


@pytest.mark.parametrize("language,limit,encoding", [("en", 2, "GSM-7"), ("es", 4, None)])
def test_each_group_and_the_group_list_fit_the_sms_limits(settings, language, limit, encoding):
    """By SMS each list is numbered choices ("Reply 1 for ..."): every one fits 2 segments
    in English (plain GSM-7 characters) and 4 in Spanish."""
    labels, groups = topic_labels(), topic_groups()
    bodies = [
        numbered(_sms("utter_topic_groups", language, settings), [{"title": g[language]} for g in groups], language)
    ]
    for group in groups:
        buttons = [
            {"title": labels[key][language]["button"] if language == "es" else labels[key]["button"]}
            for key in group["topics"]
        ]
        bodies.append(
            numbered(_sms("utter_topic_group", language, settings, group_name=group[language]), buttons, language)
        )
    for body in bodies:
        kind, count = segments(body)
        assert count <= limit, body
        assert encoding is None or kind == encoding, body


# ---------------------------------------------------------------- what the report keeps
def test_the_report_keeps_the_guided_choice_but_not_the_acknowledgement_before_it():
    latest = {"text": "my hsg is tomorrow and im scared", "intent": {"name": "nlu_fallback", "confidence": 0.4}}
    assert report_kind("utter_story_ack", latest, 0.6) is None
    assert report_kind("utter_guided_one", latest, 0.6) == "guided choice"
    assert (
        report_kind("utter_clarify_topic", dict(latest, intent={"name": "faq", "confidence": 0.7}), 0.6)
        == "guided choice"
    )
    assert report_kind("utter_fallback", latest, 0.6) == "not understood"
    assert offered_topics({"topic_a_key": "pain", "topic_b_key": "timing", "topic_a": "x"}) == ["pain", "timing"]


@pytest.mark.parametrize(
    "response,text,offer,picked",
    [
        ("utter_faq/pain", "/faq/pain", {"message_id": "m1"}, "pain"),
        ("utter_timing", "/timing", {"message_id": "m1"}, "timing"),
        ("utter_handoff", "/human_handoff", {"message_id": "m1"}, "human_handoff"),
        ("utter_topic_groups", "/topic_menu", {"message_id": "m1"}, "something else"),
        ("utter_topic_group", '/topic_menu{"topic_group":"dates"}', {"message_id": "m1"}, None),  # on the way
        ("utter_faq/pain", "does it hurt", {"message_id": "m1"}, None),  # typed words: a new question
        ("utter_faq/pain", "/faq/pain", None, None),  # no guided choice before
    ],
)
def test_a_pick_is_a_payload_answered_after_a_guided_choice(response, text, offer, picked):
    assert picked_topic(response, {"text": text}, {"guided_offer": offer}) == picked


def _tracker(message_id, text, intent="nlu_fallback", offer=None):
    return {
        "sender_id": "s",
        "latest_message": {"message_id": message_id, "text": text, "intent": {"name": intent, "confidence": 0.4}},
        "slots": {"guided_offer": offer},
    }


def test_the_report_records_what_was_offered_and_what_was_picked(tmp_path):
    report = Report(tmp_path / "report.sqlite3")
    offered = {"topic_a_key": "pain", "topic_b_key": "pain_relief"}
    assert report.record("utter_clarify_topic", _tracker("m1", "will it be bad"), "rest", offered)
    offer = {"message_id": "m1", "offered": ["pain", "pain_relief"]}
    assert report.record("utter_faq/pain_relief", _tracker("m2", "/faq/pain_relief", "faq", offer), "rest")
    assert not report.record("utter_faq/pain", _tracker("m3", "/faq/pain", "faq", offer), "rest")  # first pick counts
    (group,) = report.groups()
    assert group["kinds"] == {"guided choice": 1} and group["text"] == "will it be bad"
    assert group["offered"] == ["pain", "pain_relief"] and group["picked"] == {"pain_relief": 1}
    assert group["channels"] == ["rest"] and "s" not in json.dumps(group["picked"])  # never the sender


def test_something_else_then_a_topic_from_the_list_is_the_pick(tmp_path):
    report = Report(tmp_path / "report.sqlite3")
    report.record("utter_guided_one", _tracker("m1", "what about the thing"), "twilio", {"topic_a_key": "pain"})
    offer = {"message_id": "m1", "offered": ["pain"]}
    assert not report.record("utter_faq/risks", _tracker("m2", "/faq/risks", "faq", offer), "twilio")  # not offered
    assert report.record("utter_topic_groups", _tracker("m3", "/topic_menu", "topic_menu", offer), "twilio")
    assert report.record("utter_faq/duration", _tracker("m4", "/faq/duration", "faq", offer), "twilio")
    assert not report.record("utter_faq/results", _tracker("m5", "/faq/results", "faq", offer), "twilio")
    (group,) = report.groups()
    assert group["picked"] == {"duration (from the list)": 1}


def test_old_choices_are_deleted_with_their_messages(tmp_path):
    report = Report(tmp_path / "report.sqlite3", retention_days=1)
    report.record("utter_guided_one", _tracker("m1", "something about tubes"), "rest", {"topic_a_key": "results"})
    assert report.purge(now=time.time() + 2 * 86400) == 1
    import sqlite3

    with sqlite3.connect(tmp_path / "report.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM choices").fetchone() == (0,)


def test_the_bot_sends_picks_to_the_report():
    from rasa.utils.endpoints import EndpointConfig

    from components.content_nlg import ContentNLG

    nlg = ContentNLG(EndpointConfig(url="http://127.0.0.1:9/nlg"))
    nlg.report_rules = {"responses": ["utter_fallback"], "low_confidence": 0.6}
    offer = {"guided_offer": {"message_id": "m1", "offered": ["pain"]}}
    assert nlg.reportable("utter_faq/pain", {"text": "/faq/pain"}, offer)
    assert not nlg.reportable("utter_faq/pain", {"text": "/faq/pain"}, {"guided_offer": None})
    assert nlg.reportable(
        "utter_guided_one", {"text": "hmm the tube thing", "intent": {"name": "faq", "confidence": 0.9}}
    )


@pytest.mark.parametrize(
    "response,text,intent,picked",
    [
        ("utter_faq/pain", "yes", "affirm", "pain"),  # "yes" to "Is your question about whether it hurts?"
        ("utter_faq/pain", "sí, esa", "affirm", "pain"),
        ("utter_topic_groups", "no", "deny", "something else"),
        ("utter_topic_groups", "otra cosa", "deny", "something else"),
        ("utter_anything_else", "yes", "affirm", None),  # a yes that answered no topic
        ("utter_faq/pain", "does it hurt", "faq", None),  # typed words: a new question
    ],
)
def test_a_typed_yes_or_no_answered_after_a_guided_choice_is_a_pick(response, text, intent, picked):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    assert picked_topic(response, latest, {"guided_offer": {"message_id": "m1", "offered": ["pain"]}}) == picked
    assert picked_topic(response, latest, {"guided_offer": None}) is None
