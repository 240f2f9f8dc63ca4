"""Operations, embedded profile: conversations survive a restart (SQLite tracker store),
retention, a polite answer while the action server is down, and a clear error for a
missing or damaged model."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest
import requests
import yaml

from conftest import ROOT, TODAY
from scripts.purge import purge, store_url

PERIOD = "my period started Nov 20, when can I have the HSG?"


def texts(bot, sender, message):
    response = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=60)
    assert response.status_code == 200, response.text
    return [m.get("text", "") for m in response.json()]


def tracker(bot, sender):
    return requests.get(f"{bot.url}/conversations/{sender}/tracker", params={"token": bot.token}, timeout=30).json()


def unavailable_text(settings):
    web = yaml.safe_load((ROOT / "content/answers/conversation/actions_unavailable.yml").read_text())["web"]["text"]
    return web.replace("{clinic_name}", settings["clinic_name"]).replace("{clinic_phone}", settings["clinic_phone"])


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded")


def start(store_dir, name):
    from scripts.servers import start_bot

    return start_bot(store_dir / name, 5505, 5555, "ops-" + uuid.uuid4().hex, web_port=8505,
                     extra_env={"HSG_TODAY": TODAY.isoformat(), "HSG_TRACKER_DB": str(store_dir / "tracker.sqlite3"),
                                "HSG_SMS_HASH_KEY": "ops-test"})


def test_a_restart_mid_conversation_loses_nothing_and_the_form_goes_on(store_dir):
    sender = "restart-" + uuid.uuid4().hex[:8]
    first = start(store_dir, "first")
    try:
        replies = texts(first, sender, PERIOD)
        assert "Friday, November 20" in replies[0] and "bleeding stop" in replies[-1]
        before = tracker(first, sender)
        assert before["active_loop"]["name"] == "timing_form"
    finally:
        first.stop()
    second = start(store_dir, "second")
    try:
        after = tracker(second, sender)
        assert after["active_loop"]["name"] == "timing_form"  # the pending form survived
        assert after["slots"]["period_start"] == "2026-11-20" and after["slots"]["requested_slot"] == "bleeding_end"
        assert [e["event"] for e in after["events"]] == [e["event"] for e in before["events"]]
        replies = texts(second, sender, "it stopped on the 24th")
        assert any("Friday, November 27" in text for text in replies), replies
        assert tracker(second, sender)["slots"]["hsg_window_start"] == "2026-11-27"
        check_action_server_outage(second)
    finally:
        second.stop()


def check_action_server_outage(bot):
    """With the action server stopped: a polite answer for dates, FAQ answers as usual,
    and dates work again once `make run` has started it again."""
    from actions.settings import load_settings

    polite = unavailable_text(load_settings())
    faq_before = texts(bot, "faq-" + uuid.uuid4().hex[:6], "does it hurt?")
    pids = bot.server_pids()["actions"]
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    sender = "outage-" + uuid.uuid4().hex[:8]
    replies = texts(bot, sender, PERIOD)
    assert replies == [polite], replies
    assert not (tracker(bot, sender)["active_loop"] or {}).get("name")  # the form was left
    assert texts(bot, "faq-" + uuid.uuid4().hex[:6], "does it hurt?") == faq_before
    assert "did not answer" in (bot.run_dir / "rasa.log").read_text()
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if requests.get(f"http://localhost:{bot.actions_port}/health", timeout=2).ok:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    replies = texts(bot, "back-" + uuid.uuid4().hex[:8], PERIOD)
    assert "Friday, November 20" in replies[0], replies


def make_events_table(url, rows):
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(url)
    SQLTrackerStore.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, stamp in rows:
            connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(),
                               {"sender_id": sender, "type_name": "user", "timestamp": stamp, "data": "{}"})
    engine.dispose()


def senders(url):
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = sorted({row[0] for row in connection.execute(sa.text("SELECT sender_id FROM events"))})
    engine.dispose()
    return found


def test_purge_deletes_old_conversations_and_keeps_recent_ones_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("HSG_TRACKER_DB", str(tmp_path / "tracker.sqlite3"))
    url = store_url(prod=False)
    day = 86400
    now = time.time()
    make_events_table(url, [("old", now - 45 * day), ("old", now - 40 * day),
                            ("ongoing", now - 40 * day), ("ongoing", now - 2 * day),  # still talking: kept whole
                            ("recent", now - 1 * day)])
    assert purge(url, 30, now) == (1, 2)
    assert senders(url) == ["ongoing", "recent"]
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "scripts/purge.py", "--days", "1.5"], cwd=ROOT,
                            capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0 and "Deleted 1 conversation(s)" in result.stdout, result.stdout + result.stderr
    assert senders(url) == ["recent"]


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "not a model"])
def test_a_missing_or_damaged_model_gives_a_clear_error_not_a_stack_trace(tmp_path, damage):
    model = tmp_path / "model.tar.gz"
    if damage == "empty":
        model.write_bytes(b"")
    elif damage == "truncated":
        model.write_bytes((ROOT / "models" / "hsg.tar.gz").read_bytes()[:4096])
    elif damage == "not a model":
        shutil.make_archive(str(tmp_path / "model"), "gztar", root_dir=ROOT / "content")
    env = dict(os.environ, HSG_MODEL=str(model), HSG_RUN_DIR=str(tmp_path / "run"), HSG_API_TOKEN="x",
               HSG_SMS_HASH_KEY="x", HSG_CONTENT_TOKEN="x", HSG_EDITOR_SECRET="x", RASA_PORT="5599")
    result = subprocess.run(["bash", "scripts/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "make train" in output and str(model) in output
    assert "Traceback" not in output and not (tmp_path / "run" / "rasa.log").exists()
