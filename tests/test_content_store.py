"""The content stores: saves, history with who and when, rollback and the stale-save
check, the same for the files (the embedded default) and for PostgreSQL (the production
profile, against a PostgreSQL that scripts/services.sh starts on its own ports and
folder, once for this module); edits made in the files; filling PostgreSQL from the
files; a save on one host seen by another; git as the export and import. The Spanish
version (`es:`): kept, written and saved like the English forms, and turned into the Rasa
variants that Rasa's own generator picks by the `language` slot and the channel."""

from __future__ import annotations

import shutil
import threading

import pytest
import sqlalchemy as sa
import yaml
from conftest import ROOT, local_services

from editor.store import (
    FileContentStore,
    PgContentStore,
    StoreError,
    dump_answer,
    normalise,
    spanish_values,
    to_variants,
)

PG_PORT, REDIS_PORT = 5663, 6603


@pytest.fixture(scope="module")
def pg_engine():
    """A PostgreSQL of this module's own."""
    from common import pg

    with local_services("hsg-test-store-", PG_PORT, REDIS_PORT) as running:
        s = running["settings"]
        engine = pg.engine(
            sa.engine.URL.create(
                "postgresql",
                s["HSG_PG_USER"],
                s["HSG_PG_PASSWORD"],
                s["HSG_PG_HOST"],
                int(s["HSG_PG_PORT"]),
                s["HSG_PG_DB"],
            )
        )
        yield engine
        engine.dispose()


def empty(engine):
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE hsg_answers, hsg_answer_history RESTART IDENTITY"))
        connection.execute(sa.text("UPDATE hsg_meta SET number = 0 WHERE key = 'content_version'"))


@pytest.fixture()
def content(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


@pytest.fixture(params=["files", "postgresql"])
def store(request, content):
    if request.param == "files":
        return FileContentStore(content)
    engine = request.getfixturevalue("pg_engine")
    empty(engine)
    return PgContentStore(engine, seed_dir=content)


@pytest.fixture()
def file_store(content):
    return FileContentStore(content)


@pytest.fixture()
def pg_store(pg_engine, content):
    empty(pg_engine)
    return PgContentStore(pg_engine, seed_dir=content)


# --- both stores ------------------------------------------------------------------------
def test_every_answer_has_a_response_name_a_source_and_both_forms(store):
    answers = store.answers()
    assert len(answers) > 50
    for name, answer in answers.items():
        assert answer["response"] == name and answer["source"]
        assert answer["sms"]["text"]
        assert answer.get("sms_only") or answer["web"]["text"]


def test_save_keeps_the_answer_and_the_history_keeps_who_and_when(store):
    original = store.answers()["utter_faq/pain"]
    version_before = store.version()
    changed = dict(original, web=dict(original["web"], text="Cramps are common. They fade."))
    version = store.save("utter_faq/pain", changed, "nurse.kim", "shorter")
    assert version == 2  # version 1 is the text as it was in the files
    assert store.answers()["utter_faq/pain"]["web"]["text"] == "Cramps are common. They fade."
    assert store.version() != version_before
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
    assert store.answers()["utter_faq/pain"]["source"] == "hsg-facts.md: After the exam"


def test_unknown_answers_and_bad_shapes_are_refused(store):
    with pytest.raises(StoreError):
        store.save("utter_no_such_answer", {}, "a")
    with pytest.raises(StoreError):
        store.history("utter_no_such_answer")
    for bad in ("text", {"web": "text"}, {"web": {"text": "x", "buttons": "no"}}, {"sms": {"buttons": ["x"]}}):
        with pytest.raises(StoreError):
            normalise(bad)


# --- the files --------------------------------------------------------------------------
def test_a_save_writes_the_answer_file(file_store):
    original = file_store.answers()["utter_faq/pain"]
    file_store.save("utter_faq/pain", dict(original, web=dict(original["web"], text="Cramps are common.")), "a")
    assert "Cramps are common." in file_store.path_of("utter_faq/pain").read_text()


def test_a_change_made_in_the_files_is_seen_and_kept_in_the_history(file_store):
    store = file_store
    path = store.path_of("utter_greet")
    text = path.read_text()
    assert "automated" in text
    path.write_text(text.replace("automated", "automated (edited in git)", 1))
    assert "edited in git" in str(store.answers()["utter_greet"])
    history = store.history("utter_greet")
    assert history[-1]["by"] == "the files" and history[-1].get("unsaved")
    store.save("utter_greet", store.answers()["utter_greet"], "nurse.kim")
    assert [h["by"] for h in store.history("utter_greet")] == ["the files", "nurse.kim"]


def test_two_files_with_the_same_response_name_are_an_error(file_store):
    source = file_store.path_of("utter_greet")
    shutil.copy(source, source.with_name("greet-copy.yml"))
    with pytest.raises(StoreError, match="also in"):
        file_store.answers()


# --- PostgreSQL ---------------------------------------------------------------------------
def test_postgresql_is_filled_once_from_the_files_even_when_two_hosts_start_at_once(pg_engine, content):
    empty(pg_engine)
    files = FileContentStore(content).answers()
    hosts = [PgContentStore(pg_engine, seed_dir=content) for _ in range(4)]
    start, results = threading.Barrier(len(hosts)), []

    def first_start(store):
        start.wait()
        results.append(store.answers())

    threads = [threading.Thread(target=first_start, args=(store,)) for store in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(answers == files for answers in results)
    assert len({store.version() for store in hosts}) == 1
    with pg_engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT name, version, by, note FROM hsg_answer_history")).fetchall()
    assert len(rows) == len(files)  # one entry per answer, not one per host
    assert {(version, by, note) for _, version, by, note in rows} == {(1, "the files", "imported from the files")}


def test_a_save_on_one_host_is_seen_on_another_and_version_is_one_cheap_read(pg_engine, pg_store, content):
    other_host = PgContentStore(pg_engine, seed_dir=content)
    before = other_host.version()
    assert before == pg_store.version()
    other_host.answers()  # cached from now on
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(pg_engine, "before_cursor_execute", count)
    try:
        other_host.version()
        assert len(statements) == 1  # one primary-key read: the bot polls it every 2 s
        statements.clear()
        other_host.answers()
        assert len(statements) == 1  # unchanged: the cached answers, after one version read
    finally:
        sa.event.remove(pg_engine, "before_cursor_execute", count)
    original = pg_store.answers()["utter_faq/pain"]
    pg_store.save("utter_faq/pain", dict(original, web=dict(original["web"], text="Cramps are common.")), "a")
    assert other_host.version() != before
    assert other_host.answers()["utter_faq/pain"]["web"]["text"] == "Cramps are common."
    assert [h["by"] for h in other_host.history("utter_faq/pain")] == ["the files", "a"]


def test_two_hosts_saving_from_the_same_version_at_once_give_one_save_and_one_conflict(pg_engine, pg_store, content):
    other_host = PgContentStore(pg_engine, seed_dir=content)
    original = pg_store.answers()["utter_faq/duration"]
    start, outcomes = threading.Barrier(2), []

    def save(store, editor):
        start.wait()
        try:
            outcomes.append(
                store.save(
                    "utter_faq/duration", dict(original, source=f"hsg-facts.md: {editor}"), editor, base_version=1
                )
            )
        except StoreError as error:
            outcomes.append(str(error))

    threads = [
        threading.Thread(target=save, args=(store, name)) for store, name in ((pg_store, "a"), (other_host, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str)[0] == 2 and "while you were editing" in sorted(outcomes, key=str)[1]
    assert [h["version"] for h in pg_store.history("utter_faq/duration")] == [1, 2]


def test_an_answer_new_in_the_files_is_added_at_the_next_start_and_live_edits_are_kept(pg_engine, pg_store, content):
    original = pg_store.answers()["utter_faq/pain"]
    pg_store.save("utter_faq/pain", dict(original, web=dict(original["web"], text="Live edit.")), "a")
    path = FileContentStore(content).path_of("utter_faq/pain").with_name("new_topic_for_test.yml")
    path.write_text(yaml.safe_dump(dict(original, response="utter_faq/new_topic_for_test")))
    restarted = PgContentStore(pg_engine, seed_dir=content)
    answers = restarted.answers()
    assert "utter_faq/new_topic_for_test" in answers
    assert answers["utter_faq/pain"]["web"]["text"] == "Live edit."  # the database is the store of record
    assert restarted.history("utter_faq/new_topic_for_test")[0]["note"] == "imported from the files"


def test_git_is_the_export_and_the_import(pg_engine, pg_store, content, tmp_path):
    from editor.content_sync import export, import_files

    original = pg_store.answers()["utter_faq/pain"]
    pg_store.save("utter_faq/pain", dict(original, web=dict(original["web"], text="Cramps are common.")), "a")
    target = tmp_path / "export"
    shutil.copytree(content, target)
    changed = export(pg_store, target)
    assert changed == [
        target / "answers" / FileContentStore(content).path_of("utter_faq/pain").relative_to(content / "answers")
    ]
    assert FileContentStore(target).answers() == pg_store.answers()
    assert export(pg_store, target) == []  # nothing left to write
    # a change made in git comes back as a new version by "the files"
    greet = FileContentStore(target).path_of("utter_greet")
    greet.write_text(greet.read_text().replace("automated", "automated (edited in git)", 1))
    assert import_files(pg_store, target) == ["utter_greet"]
    assert "edited in git" in str(pg_store.answers()["utter_greet"])
    assert [(h["by"], h["note"]) for h in pg_store.history("utter_greet")][-1] == (
        "the files",
        "imported from the files",
    )


def test_content_sync_import_refuses_answers_that_fail_their_checks(
    pg_engine, pg_store, content, tmp_path, monkeypatch, capsys
):
    """The one gate (review M1): nothing of an import is saved when one answer fails a
    check; the command lists the failures and exits with 1."""
    from editor.content_sync import import_files, main
    from editor.store import ChecksFailed

    target = tmp_path / "import"
    shutil.copytree(content, target)
    files = FileContentStore(target)
    greet, pain = files.path_of("utter_greet"), files.path_of("utter_faq/pain")
    greet.write_text(greet.read_text().replace("automated", "automated (edited in git)", 1))
    pain.write_text(pain.read_text().replace("Most people", "It is guaranteed that most people", 1))
    before = {name: len(pg_store.history(name)) for name in ("utter_greet", "utter_faq/pain")}
    with pytest.raises(ChecksFailed) as refused:
        import_files(pg_store, target)
    assert list(refused.value.failures) == ["utter_faq/pain"] and "promise" in refused.value.failures["utter_faq/pain"]
    assert {name: len(pg_store.history(name)) for name in before} == before  # not even the good one
    assert "edited in git" not in str(pg_store.answers()["utter_greet"])
    monkeypatch.setattr("common.pg.load_prod_settings", lambda: None)
    monkeypatch.setattr("editor.content_sync.PgContentStore", lambda seed_dir: PgContentStore(pg_engine, seed_dir))
    assert main(["import", "--from", str(target)]) == 1
    failures = capsys.readouterr().err
    assert "utter_faq/pain fails: " in failures and "promise" in failures and "Nothing imported" in failures


def test_the_first_import_into_postgresql_leaves_out_an_answer_that_fails_its_checks(pg_engine, content, caplog):
    empty(pg_engine)
    pain = FileContentStore(content).path_of("utter_faq/pain")
    good = pain.read_text()
    pain.write_text(good.replace("Most people", "It is guaranteed that most people", 1))
    first = PgContentStore(pg_engine, seed_dir=content)
    answers = first.answers()
    assert "utter_faq/pain" not in answers and len(answers) > 50
    assert "promise" in first.refused["utter_faq/pain"]
    assert any("utter_faq/pain in the files fails its checks" in r.getMessage() for r in caplog.records)
    pain.write_text(good)  # fixed: the next start adds it
    assert "utter_faq/pain" in PgContentStore(pg_engine, seed_dir=content).answers()


# --- the Spanish version ------------------------------------------------------------------
SPANISH_PAIN = {
    "reviewed_by": None,
    "reviewed_on": None,
    "web": {
        "text": "  La mayoría de las personas sienten algunos cólicos.  ",
        "buttons": [{"title": "¿Cuánto dura?", "payload": "¿Cuánto dura el examen?"}, {"title": "", "payload": ""}],
        "custom": {},
    },
    "sms": {"text": "Suelen pasar en unas horas.", "buttons": []},
}


def test_normalise_keeps_and_cleans_the_spanish_version_like_the_english_one():
    clean = normalise(
        {
            "response": "utter_faq/pain",
            "web": {"text": "Hi"},
            "sms": {"text": "Hi"},
            "es": dict(SPANISH_PAIN, reviewed_by=" dra.lopez ", reviewed_on=20261101, extra="dropped"),
        }
    )
    assert clean["es"] == {
        "reviewed_by": "dra.lopez",
        "reviewed_on": "20261101",
        "web": {
            "text": "La mayoría de las personas sienten algunos cólicos.",
            "buttons": [{"title": "¿Cuánto dura?", "payload": "¿Cuánto dura el examen?"}],
        },
        "sms": {"text": "Suelen pasar en unas horas."},
    }
    # no Spanish, or an empty one (the editor's blank Spanish fields): no `es` at all
    assert "es" not in normalise({"response": "utter_greet", "web": {"text": "Hi"}})
    assert "es" not in normalise(
        {
            "response": "utter_greet",
            "web": {"text": "Hi"},
            "es": {"reviewed_by": None, "web": {"text": " ", "buttons": []}, "sms": {"text": ""}},
        }
    )
    for bad in (
        {"es": "texto"},
        {"es": {"web": "texto"}},
        {"es": {"sms": {"text": "x", "buttons": "no"}}},
        {"es": {"web": {"buttons": ["x"]}}},
    ):
        with pytest.raises(StoreError, match="es"):
            normalise(dict(bad, response="utter_greet"))


def test_the_spanish_version_is_written_last_and_kept_in_the_history(file_store):
    original = file_store.answers()["utter_faq/pain"]
    version = file_store.save("utter_faq/pain", dict(original, es=SPANISH_PAIN), "dra.lopez", "Spanish")
    text = file_store.path_of("utter_faq/pain").read_text(encoding="utf-8")
    assert list(yaml.safe_load(text))[-1] == "es" and "\nes:\n  reviewed_by: null\n  reviewed_on: null\n  web:" in text
    assert "cólicos" in text  # written as UTF-8, not escaped
    saved = file_store.answers()["utter_faq/pain"]
    assert saved["es"]["web"]["text"] == "La mayoría de las personas sienten algunos cólicos."
    assert file_store.history("utter_faq/pain")[-1]["answer"]["es"] == saved["es"] and version == 2
    assert dump_answer(saved) == text  # what is read is written back unchanged


def test_both_stores_save_and_roll_back_the_spanish_version(store):
    original = store.answers()["utter_faq/pain"]
    store.save("utter_faq/pain", dict(original, es=SPANISH_PAIN), "dra.lopez")
    assert store.answers()["utter_faq/pain"]["es"]["sms"]["text"] == "Suelen pasar en unas horas."
    store.save("utter_faq/pain", store.version_of("utter_faq/pain", 1), "dra.lopez", "rolled back to version 1")
    assert store.answers()["utter_faq/pain"].get("es") == original.get("es")


ANSWER = {
    "response": "utter_faq/results",
    "source": "docs/facts.md: Results",
    "web": {"text": "The report comes in {results_days}.", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    "sms": {"text": "Report in {results_days}."},
    "es": {
        "reviewed_by": None,
        "reviewed_on": None,
        "web": {"text": "El informe llega en {results_days}.", "buttons": [{"title": "Sí", "payload": "/affirm"}]},
        "sms": {"text": "Informe en {results_days}."},
    },
}
VALUES = {"results_days": "2 to 3 business days"}
VALUES_ES = {"results_days": "2 a 3 días hábiles"}
SPANISH_CONDITION = [{"type": "slot", "name": "language", "value": "es"}]


def test_an_answer_is_four_variants_english_and_spanish_web_and_sms():
    assert to_variants(ANSWER, VALUES, VALUES_ES) == [
        {"text": "The report comes in 2 to 3 business days.", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {"text": "Report in 2 to 3 business days.", "channel": "twilio"},
        {
            "text": "El informe llega en 2 a 3 días hábiles.",
            "buttons": [{"title": "Sí", "payload": "/affirm"}],
            "condition": SPANISH_CONDITION,
        },
        {"text": "Informe en 2 a 3 días hábiles.", "condition": SPANISH_CONDITION, "channel": "twilio"},
    ]
    # without Spanish values, the English values with clinic.yml's Spanish words (results_days_es)
    from common.settings import load_settings

    spanish = to_variants(ANSWER, VALUES)[2]["text"]
    assert spanish == f"El informe llega en {load_settings()['results_days_es']}."
    assert spanish_values(VALUES)["results_days"] == load_settings()["results_days_es"]
    # an answer without Spanish is the two English variants, as before
    assert to_variants(dict(ANSWER, es=None), VALUES, VALUES_ES) == to_variants(ANSWER, VALUES, VALUES_ES)[:2]


def test_an_sms_only_answer_has_a_conditional_default_variant_in_spanish():
    stop = {
        "response": "utter_sms_stop",
        "sms_only": True,
        "sms": {"text": "You will get no more texts."},
        "es": {"sms": {"text": "No recibirá más mensajes."}},
    }
    assert to_variants(stop, {}, {}) == [
        {"text": "You will get no more texts."},
        {"text": "No recibirá más mensajes.", "condition": SPANISH_CONDITION},
    ]


def test_spanish_web_text_goes_by_sms_when_there_is_no_spanish_sms_form():
    answer = dict(ANSWER, es={"web": dict(ANSWER["es"]["web"], custom={"alt": "Dibujo"})})
    variants = to_variants(answer, VALUES, VALUES_ES)
    assert variants[3] == {
        "text": "El informe llega en 2 a 3 días hábiles.",
        "buttons": [{"title": "Sí", "payload": "/affirm"}],
        "condition": SPANISH_CONDITION,
        "channel": "twilio",
    }


def rasa_reply(responses, name, language, channel):
    """What Rasa's own templated generator sends for a tracker with this `language` slot."""
    import asyncio

    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.slots import CategoricalSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    slot = CategoricalSlot(
        "language",
        mappings=[{"type": "from_entity", "entity": "language"}],
        values=["en", "es"],
        influence_conversation=False,
    )
    events = [SlotSet("language", language)] if language is not None else []
    tracker = DialogueStateTracker.from_events("patient", events, slots=[slot])
    assert tracker.get_slot("language") == language
    return asyncio.run(TemplatedNaturalLanguageGenerator(responses).generate(name, tracker, channel))


@pytest.mark.parametrize(
    "language,channel,expected",
    [
        ("es", "twilio", "Informe en 2 a 3 días hábiles."),
        ("es", "rest", "El informe llega en 2 a 3 días hábiles."),
        ("es", "socketio", "El informe llega en 2 a 3 días hábiles."),
        ("en", "twilio", "Report in 2 to 3 business days."),
        ("en", "rest", "The report comes in 2 to 3 business days."),
        (None, "twilio", "Report in 2 to 3 business days."),
        (None, "rest", "The report comes in 2 to 3 business days."),
    ],
)
def test_rasa_picks_the_variant_of_the_conversations_language_and_channel(language, channel, expected):
    """rasa/core/nlg/generator.py ResponseVariationFilter: a matching conditional variant
    for the channel, then a default one for the channel, then a matching conditional one,
    then a default one."""
    responses = {"utter_faq/results": to_variants(ANSWER, VALUES, VALUES_ES)}
    reply = rasa_reply(responses, "utter_faq/results", language, channel)
    assert reply["text"] == expected
    web_buttons = [{"title": "Sí" if language == "es" else "Yes", "payload": "/affirm"}]
    assert reply.get("buttons", []) == ([] if channel == "twilio" else web_buttons)


@pytest.mark.parametrize(
    "language,expected",
    [("es", "No recibirá más mensajes."), ("en", "You will get no more texts."), (None, "You will get no more texts.")],
)
def test_rasa_picks_the_spanish_sms_only_reply_on_any_channel(language, expected):
    stop = {
        "response": "utter_sms_stop",
        "sms_only": True,
        "sms": {"text": "You will get no more texts."},
        "es": {"sms": {"text": "No recibirá más mensajes."}},
    }
    for channel in ("twilio", "rest"):
        assert (
            rasa_reply({"utter_sms_stop": to_variants(stop, {}, {})}, "utter_sms_stop", language, channel)["text"]
            == expected
        )
