"""Clinical sign-off at the running content service (issue 25): an editor's change is a
draft that patients do not get until a clinician other than its author approves it;
the Spanish part needs a bilingual clinician; approval and rejection are in the
history; reviews older than the interval are listed as due (frozen today); the
four-eyes rule can be turned off for a demo, never for the urgent answers. And the one
gate: an answer file edited on disk so that it fails a check is kept from the bot (its
last good version stays live) and shown on the editor's page."""

from __future__ import annotations

import copy
import logging

import pytest
import yaml
from test_content_service import EDITOR, login, nlg_text, service  # noqa: F401 - service is a fixture

from common.settings import load_settings
from editor import signoff
from editor.accounts import set_password

NAME = "utter_faq/duration"
CLINICIAN = ("dr.lopez", "another-long-password")
CLINICIAN_2 = ("dr.chen", "a-third-long-password")
BILINGUAL = ("dra.ruiz", "a-fourth-long-password")
ADMIN = ("it.admin", "a-fifth-long-password")
NEW_WEB = "The X-ray part takes about 15 minutes. Plan to be at the clinic for about an hour."


@pytest.fixture()
def people(service, monkeypatch):
    monkeypatch.setenv("HSG_TODAY", "2026-11-27")  # the frozen today of the tests (conftest.TODAY)
    set_password(*CLINICIAN, role="clinician")
    set_password(*CLINICIAN_2, role="clinician")
    set_password(*BILINGUAL, role="bilingual_clinician")
    set_password(*ADMIN, role="admin")
    return {who[0]: login(service, *who)[0] for who in (EDITOR, CLINICIAN, CLINICIAN_2, BILINGUAL, ADMIN)}


def url(service, name=NAME, action=""):
    return f"{service.url}/editor/api/answers/{name}{action}"


def save_draft(service, session, change, name=NAME, note="shorter"):
    detail = session.get(url(service, name)).json()
    answer = copy.deepcopy(detail["draft"]["answer"] if detail["draft"] else detail["answer"])
    change(answer)
    response = session.post(
        url(service, name), json={"answer": answer, "note": note, "base_version": detail["version"]}
    )
    assert response.status_code == 200, response.text
    return response.json()


def english_change(answer):
    answer["web"]["text"] = NEW_WEB


def spanish_change(answer):
    answer["es"]["web"]["text"] = "El examen dura unos 15 minutos. Cuente con una hora en la clínica."


def test_a_change_is_not_live_until_another_clinician_approves_it(service, people):
    before = nlg_text(service, NAME)
    saved = save_draft(service, people[EDITOR[0]], english_change)
    assert saved["draft"] is True
    assert nlg_text(service, NAME) == before  # the bot's answer did not change
    assert service.store.answers()[NAME]["web"]["text"] == before
    detail = people[CLINICIAN[0]].get(url(service)).json()
    assert detail["draft"]["version"] == saved["version"] and detail["draft"]["by"] == EDITOR[0]
    assert detail["approver"] and detail["approve_refused"] is None
    listing = people[CLINICIAN[0]].get(service.url + "/editor/api/answers").json()
    row = next(r for r in listing["answers"] if r["answer"] == NAME)
    assert row["draft_waiting"] and row["review"]["en"]["draft"] and not row["review"]["es"]["draft"]
    approved = people[CLINICIAN[0]].post(url(service, action="/approve"), json={"version": saved["version"]})
    assert approved.status_code == 200, approved.text
    assert nlg_text(service, NAME) == NEW_WEB
    live = service.store.answers()[NAME]
    assert live["reviewed_by"] == CLINICIAN[0] and live["reviewed_on"] == "2026-11-27"  # frozen today
    assert live["es"]["reviewed_by"] is None  # a clinician approves the English only
    history = people[EDITOR[0]].get(url(service)).json()["history"]
    assert [(h["by"], h.get("state")) for h in history[-2:]] == [(EDITOR[0], "draft"), (CLINICIAN[0], "approved")]
    assert history[-1]["author"] == EDITOR[0] and f"approved version {saved['version']}" in history[-1]["note"]


def test_nobody_approves_their_own_draft_and_editors_and_admins_approve_nothing(service, people):
    saved = save_draft(service, people[CLINICIAN[0]], english_change)
    for who in (CLINICIAN[0], EDITOR[0], ADMIN[0]):
        response = people[who].post(url(service, action="/approve"), json={"version": saved["version"]})
        assert response.status_code == 403, (who, response.text)
    assert (
        "four-eyes"
        in people[CLINICIAN[0]]
        .post(url(service, action="/approve"), json={"version": saved["version"]})
        .json()["error"]
    )
    assert people[CLINICIAN[0]].get(url(service)).json()["approve_refused"]
    assert people[EDITOR[0]].get(url(service)).json()["approver"] is False
    assert service.store.answers()[NAME]["web"]["text"] != NEW_WEB
    set_password("front.desk", "a-sixth-long-password", role="staff")
    staff, _ = login(service, "front.desk", "a-sixth-long-password")
    body = {"answer": service.store.answers()[NAME], "base_version": saved["version"]}
    assert staff.post(url(service), json=body).status_code == 403  # staff text patients, they write no answers
    ok = people[CLINICIAN_2[0]].post(url(service, action="/approve"), json={"version": saved["version"]})

    assert ok.status_code == 200 and service.store.answers()[NAME]["web"]["text"] == NEW_WEB


def test_the_spanish_part_needs_a_bilingual_clinician_who_reviews_both_languages(service, people):
    before = nlg_text(service, NAME, "rest", "es")
    saved = save_draft(service, people[EDITOR[0]], spanish_change)
    refused = people[CLINICIAN[0]].post(url(service, action="/approve"), json={"version": saved["version"]})
    assert refused.status_code == 403 and "bilingual clinician" in refused.json()["error"]
    assert nlg_text(service, NAME, "rest", "es") == before
    ok = people[BILINGUAL[0]].post(url(service, action="/approve"), json={"version": saved["version"]})
    assert ok.status_code == 200
    assert nlg_text(service, NAME, "rest", "es").startswith("El examen dura unos 15 minutos.")
    live = service.store.answers()[NAME]
    assert live["es"]["reviewed_by"] == BILINGUAL[0] == live["reviewed_by"]


def test_a_rejection_needs_a_note_goes_back_to_the_author_and_is_in_the_history(service, people):
    saved = save_draft(service, people[EDITOR[0]], english_change)
    clinician = people[CLINICIAN[0]]
    no_note = clinician.post(url(service, action="/reject"), json={"version": saved["version"], "note": " "})
    assert no_note.status_code == 400
    rejected = clinician.post(
        url(service, action="/reject"), json={"version": saved["version"], "note": "say 'about', it varies"}
    )
    assert rejected.status_code == 200
    detail = people[EDITOR[0]].get(url(service)).json()
    assert detail["draft"] is None and detail["returned"]["note"] == "say 'about', it varies"
    assert detail["returned"]["by"] == CLINICIAN[0] and detail["returned"]["author"] == EDITOR[0]
    assert detail["returned"]["answer"]["web"]["text"] == NEW_WEB  # the author gets the text back to fix
    assert detail["answer"]["web"]["text"] != NEW_WEB and nlg_text(service, NAME) != NEW_WEB
    assert [h.get("state") for h in detail["history"][-2:]] == ["draft", "rejected"]
    listing = people[EDITOR[0]].get(service.url + "/editor/api/answers").json()
    row = next(r for r in listing["answers"] if r["answer"] == NAME)
    assert row["returned"] and not row["draft_waiting"]
    stale = clinician.post(url(service, action="/approve"), json={"version": saved["version"]})
    assert stale.status_code == 409  # a rejected draft cannot be approved afterwards


def test_a_rollback_is_a_draft_too(service, people):
    saved = save_draft(service, people[EDITOR[0]], english_change)
    people[CLINICIAN[0]].post(url(service, action="/approve"), json={"version": saved["version"]})
    latest = people[EDITOR[0]].get(url(service)).json()["version"]
    back = people[EDITOR[0]].post(url(service, action="/rollback"), json={"version": 1, "base_version": latest})
    assert back.status_code == 200 and back.json()["draft"] is True
    assert nlg_text(service, NAME) == NEW_WEB
    people[CLINICIAN_2[0]].post(url(service, action="/approve"), json={"version": back.json()["version"]})
    assert nlg_text(service, NAME) != NEW_WEB


def test_the_old_self_tick_records_no_review(service, people):
    detail = people[EDITOR[0]].get(url(service)).json()
    answer = dict(detail["answer"], reviewed_by="nurse.kim", reviewed_on="2026-11-27")
    body = {"answer": answer, "reviewed": True, "reviewed_es": True, "base_version": detail["version"]}
    assert people[EDITOR[0]].post(url(service), json=body).status_code == 200
    draft = people[EDITOR[0]].get(url(service)).json()["draft"]["answer"]
    assert draft["reviewed_by"] is None and draft["es"]["reviewed_by"] is None


def test_reviews_older_than_the_interval_are_due_and_the_list_filters_them(service, people, monkeypatch):
    months = signoff.review_months(load_settings())
    for name, english, spanish in (
        ("utter_faq/pain", "2025-11-27", "2026-06-01"),  # exactly the interval before the frozen today
        ("utter_faq/duration", "2025-11-28", None),
    ):
        path = service.store.path_of(name)
        answer = yaml.safe_load(path.read_text(encoding="utf-8"))
        answer.update(reviewed_by="dr.old", reviewed_on=english)
        answer["es"].update(reviewed_by="dra.old" if spanish else None, reviewed_on=spanish)
        path.write_text(yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8")
    assert months == 12
    listing = people[EDITOR[0]].get(service.url + "/editor/api/answers").json()
    assert listing["today"] == "2026-11-27" and listing["review_interval_months"] == 12
    rows = {row["answer"]: row for row in listing["answers"]}
    assert rows["utter_faq/pain"]["review"]["en"]["state"] == "due"
    assert rows["utter_faq/pain"]["review"]["es"]["state"] == "ok"
    assert rows["utter_faq/duration"]["review"]["en"]["state"] == "ok"
    assert rows["utter_faq/duration"]["review"]["es"]["state"] == "never"
    assert rows["utter_faq/catheter"]["review"]["en"]["state"] == "never"
    monkeypatch.setenv("HSG_TODAY", "2026-11-28")  # a day later the second one is due too
    rows = {r["answer"]: r for r in people[EDITOR[0]].get(service.url + "/editor/api/answers").json()["answers"]}
    assert rows["utter_faq/duration"]["review"]["en"]["state"] == "due"


def test_a_clinician_renews_a_due_review_without_a_change(service, people):
    detail = people[CLINICIAN[0]].get(url(service)).json()
    renewed = people[CLINICIAN[0]].post(url(service, action="/approve"), json={"version": detail["version"]})
    assert renewed.status_code == 200, renewed.text
    live = service.store.answers()[NAME]
    assert live["reviewed_by"] == CLINICIAN[0] and live["web"] == detail["answer"]["web"]


def test_without_four_eyes_a_save_goes_live_marked_unapproved_but_never_the_urgent_answers(
    service, people, monkeypatch
):
    demo = dict(load_settings(), four_eyes=False)
    monkeypatch.setattr("editor.staff_answers.load_settings", lambda: demo)
    saved = save_draft(service, people[EDITOR[0]], english_change, note="")
    assert saved["draft"] is False and nlg_text(service, NAME) == NEW_WEB
    entry = people[EDITOR[0]].get(url(service)).json()["history"][-1]
    assert entry["note"] == signoff.UNAPPROVED_NOTE and service.store.answers()[NAME]["reviewed_by"] is None
    for name in signoff.ALWAYS_APPROVED:
        assert save_draft(service, people[EDITOR[0]], lambda answer: None, name=name)["draft"] is True
        assert people[EDITOR[0]].get(url(service, name)).json()["history"][-1]["state"] == "draft"


def test_a_file_edited_on_disk_to_fail_a_check_keeps_its_last_good_version_live(service, people, caplog):
    before = nlg_text(service, NAME)
    path = service.store.path_of(NAME)
    answer = yaml.safe_load(path.read_text(encoding="utf-8"))
    bad = "The exam is guaranteed to take 15 minutes and it never hurts."
    answer["web"]["text"] = bad
    with caplog.at_level(logging.INFO, logger="hsg.content"):
        path.write_text(yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8")
        assert nlg_text(service, NAME) == before  # the bot keeps the last good text
        bundle = service.bundle()
    assert bundle["responses"][NAME][0]["text"] == before
    logged = [r.getMessage() for r in caplog.records if NAME in r.getMessage()]
    assert any("fails its checks (" in m and "promise" in m for m in logged), logged
    assert not any(bad in r.getMessage() for r in caplog.records)  # never the answer's text
    listing = people[EDITOR[0]].get(service.url + "/editor/api/answers").json()
    failure = next(f for f in listing["gate_failures"] if f["answer"] == NAME)
    assert "promise" in failure["checks"] and failure["serving"] == "last good"
    assert "promise" in people[EDITOR[0]].get(url(service)).json()["gate"]["checks"]
    answer["web"]["text"] = NEW_WEB  # fixed on disk: live again, and no longer listed
    path.write_text(yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8")
    assert nlg_text(service, NAME) == NEW_WEB
    assert people[EDITOR[0]].get(service.url + "/editor/api/answers").json()["gate_failures"] == []


def test_a_failing_file_with_no_good_version_is_withheld_for_the_bots_own_copy(service):
    service.gate._good.clear()  # as at a start with the file already broken and no history
    path = service.store.path_of(NAME)
    answer = yaml.safe_load(path.read_text(encoding="utf-8"))
    answer["web"]["text"] = "Call {clinic_fone}."
    path.write_text(yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8")
    bundle = service.bundle()
    assert NAME not in bundle["responses"] and bundle["withheld"] == [NAME]


def test_a_file_broken_on_disk_keeps_its_last_good_version_and_is_listed(service, people):
    before = nlg_text(service, NAME)
    path = service.store.path_of(NAME)
    path.write_text(path.read_text(encoding="utf-8") + "\nweb: [unclosed\n", encoding="utf-8")
    assert nlg_text(service, NAME) == before
    listing = people[EDITOR[0]].get(service.url + "/editor/api/answers")
    assert listing.status_code == 200  # the page still works
    failure = next(f for f in listing.json()["gate_failures"] if f["answer"] == NAME)
    assert failure["checks"] == ["the file cannot be read (YAML)"] and failure["serving"] == "last good"
    assert people[EDITOR[0]].get(url(service)).status_code == 200
