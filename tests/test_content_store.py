"""The file content store: saves, history with who and when, rollback, and edits made in the files."""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from editor.store import FileContentStore, StoreError, normalise


@pytest.fixture()
def store(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return FileContentStore(tmp_path / "content")


def test_every_answer_has_a_response_name_a_source_and_both_forms(store):
    answers = store.answers()
    assert len(answers) > 50
    for name, answer in answers.items():
        assert answer["response"] == name and answer["source"]
        assert answer["sms"]["text"]
        assert answer.get("sms_only") or answer["web"]["text"]


def test_save_writes_the_file_and_the_history_keeps_who_and_when(store):
    original = store.answers()["utter_faq/pain"]
    changed = dict(original, web=dict(original["web"], text="Cramps are common. They fade."))
    version = store.save("utter_faq/pain", changed, "nurse.kim", "shorter")
    assert version == 2  # version 1 is the text as it was in the files
    assert store.answers()["utter_faq/pain"]["web"]["text"] == "Cramps are common. They fade."
    assert "Cramps are common. They fade." in store.path_of("utter_faq/pain").read_text()
    history = store.history("utter_faq/pain")
    assert [(h["version"], h["by"]) for h in history] == [(1, "the files"), (2, "nurse.kim")]
    assert history[0]["answer"] == original and history[1]["note"] == "shorter" and history[1]["at"]


def test_rolling_back_restores_an_earlier_version_as_a_new_one(store):
    original = store.answers()["utter_faq/pain"]
    store.save("utter_faq/pain", dict(original, source="hsg-facts.md: After the exam"), "a")
    store.save("utter_faq/pain", dict(original, source="hsg-facts.md: Risks (rare)"), "b")
    version = store.save("utter_faq/pain", store.version_of("utter_faq/pain", 1), "c", "rolled back to version 1")
    assert version == 4 and store.answers()["utter_faq/pain"] == original
    with pytest.raises(StoreError):
        store.version_of("utter_faq/pain", 99)


def test_a_stale_save_is_refused_instead_of_overwriting(store):
    original = store.answers()["utter_faq/pain"]
    store.save("utter_faq/pain", dict(original, source="hsg-facts.md: After the exam"), "a", base_version=1)
    with pytest.raises(StoreError, match="changed by a"):
        store.save("utter_faq/pain", dict(original, source="hsg-facts.md: Risks (rare)"), "b", base_version=1)


def test_a_change_made_in_the_files_is_seen_and_kept_in_the_history(store):
    path = store.path_of("utter_greet")
    text = path.read_text()
    assert "automated" in text
    path.write_text(text.replace("automated", "automated (edited in git)", 1))
    assert "edited in git" in str(store.answers()["utter_greet"])
    history = store.history("utter_greet")
    assert history[-1]["by"] == "the files" and history[-1].get("unsaved")
    store.save("utter_greet", store.answers()["utter_greet"], "nurse.kim")
    assert [h["by"] for h in store.history("utter_greet")] == ["the files", "nurse.kim"]


def test_unknown_answers_and_bad_shapes_are_refused(store):
    with pytest.raises(StoreError):
        store.save("utter_no_such_answer", {}, "a")
    for bad in ("text", {"web": "text"}, {"web": {"text": "x", "buttons": "no"}}, {"sms": {"buttons": ["x"]}}):
        with pytest.raises(StoreError):
            normalise(bad)


def test_two_files_with_the_same_response_name_are_an_error(store):
    source = store.path_of("utter_greet")
    shutil.copy(source, source.with_name("greet-copy.yml"))
    with pytest.raises(StoreError, match="also in"):
        store.answers()
