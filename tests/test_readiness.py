"""Go-live readiness (editor/readiness.py): what stands between this install and patients.
The rules with a frozen "today"; `make readiness` on a copy of the answers; and the page at
the running editor service, which names the demo phone numbers of today's clinic.yml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date

import pytest
import requests
import yaml
from conftest import EDITOR, ROOT

from common.settings import SETTINGS_FILE
from editor.readiness import blockers, never_approved, retention_scheduled, review_due, today
from editor.store import dump_answer

FROZEN = date(2026, 11, 27)


def demo_phones():
    """(setting, number) of each fictional 555-01xx phone in today's clinic.yml, read here."""
    settings = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))
    found = [(k, str(v)) for k, v in settings.items() if k.endswith("_phone") and re.search(r"555-01\d\d", str(v))]
    assert found, "the shipped clinic.yml has demo phone numbers"
    return found


def answer(by=None, on=None, es_by=None, es_on=None, spanish=True):
    record = {"reviewed_by": by, "reviewed_on": on}
    if spanish:
        record["es"] = {"reviewed_by": es_by, "reviewed_on": es_on}
    return record


def test_never_approved_and_due_per_language_with_a_frozen_today():
    answers = {
        "utter_a": answer("dr.lee", "2025-11-26", "dr.ruiz", "2025-11-28"),  # English due, Spanish not
        "utter_b": answer("dr.lee", "2025-11-27"),  # exactly 12 months: not yet due; Spanish never
        "utter_c": answer(spanish=False),  # no Spanish part at all: never approved in Spanish
        "utter_d": answer("dr.lee", "not a date", "dr.ruiz", "2024-01-01"),
    }
    assert never_approved(answers, "en") == ["utter_c"]
    assert never_approved(answers, "es") == ["utter_b", "utter_c"]
    assert review_due(answers, "en", FROZEN, 12) == ["utter_a (approved 2025-11-26)", "utter_d (approved not a date)"]
    assert review_due(answers, "es", FROZEN, 12) == ["utter_d (approved 2024-01-01)"]
    assert review_due(answers, "es", FROZEN, 36) == []


def test_today_is_frozen_by_hsg_today_and_the_interval_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("HSG_TODAY", FROZEN.isoformat())
    assert today({"time_zone": "America/Denver"}) == FROZEN
    answers = {"utter_a": answer("dr.lee", "2026-05-01", "dr.ruiz", "2026-05-01")}
    settings = {"time_zone": "America/Denver", "review_interval_months": 6, "clinic_phone": "720-867-5309"}
    monkeypatch.setattr("editor.readiness.failing_checks", lambda answers, settings: [])
    found = {b.kind: b.items for b in blockers(answers, settings, prod=True, env={})}
    assert found["review_due_en"] == ["utter_a (approved 2026-05-01)"] and found["review_due_es"]
    assert found["demo_settings"] == [] and found["retention"] == []


@pytest.mark.parametrize(
    "prod,hours,scheduled",
    [(True, None, True), (True, "0", False), (True, "6", True), (False, None, False), (False, "24", True)],
)
def test_the_retention_job_is_scheduled_as_run_sh_schedules_it(prod, hours, scheduled):
    env = {} if hours is None else {"HSG_PURGE_HOURS": hours}
    assert retention_scheduled(prod, env) is scheduled


def test_make_readiness_prints_the_list_and_exits_0_or_1_with_strict(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    path = content / "answers" / "faq" / "pain.yml"
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record.update(reviewed_by="dr.lee", reviewed_on="2025-10-01")
    path.write_text(dump_answer(record), encoding="utf-8")
    env = dict(os.environ, HSG_CONTENT_DIR=str(content), HSG_TODAY=FROZEN.isoformat(), HSG_STORE="files")
    env.pop("HSG_PURGE_HOURS", None)
    result = subprocess.run(["make", "-s", "readiness"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    unapproved = [
        p
        for p in (content / "answers").glob("*/*.yml")
        if not yaml.safe_load(p.read_text(encoding="utf-8"))["reviewed_by"]
    ]
    assert f"Answers never clinically approved in English ({len(unapproved)})" in out
    assert "utter_faq/pain (approved 2025-10-01)" in out and "as of 2026-11-27" in out
    for name, number in demo_phones():
        assert f"{name}: {number}" in out
    assert "The retention job (make purge) is not scheduled" in out
    strict = subprocess.run(
        [sys.executable, "scripts/readiness.py", "--strict"], cwd=ROOT, env=env, capture_output=True, timeout=300
    )
    assert strict.returncode == 1


def test_the_readiness_page_lists_the_demo_phone_numbers_for_logged_in_editors(bot):
    anonymous = requests.get(bot.content_url + "/editor/readiness", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and "/editor/login" in anonymous.headers["Location"]
    session = requests.Session()
    session.post(bot.content_url + "/editor/login", data={"name": EDITOR[0], "password": EDITOR[1]}, timeout=30)
    page = session.get(bot.content_url + "/editor/readiness", timeout=60)
    assert page.status_code == 200 and "Go-live readiness" in page.text
    for name, number in demo_phones():
        assert f"{name}: {number}" in page.text, name
    listed = session.get(bot.content_url + "/editor/api/readiness", timeout=60).json()
    kinds = {b["kind"]: b for b in listed["blockers"]}
    assert kinds["demo_settings"]["count"] >= len(demo_phones()) and listed["total"] > 0
    assert kinds["retention"]["count"] == 1  # `make run` does not schedule make purge
    assert '<a href="/editor/readiness">' in session.get(bot.content_url + "/editor", timeout=30).text
