"""The answers part of the staff web app's JSON API (login needed; writes need JSON):
list the answers with their checks and sign-off, show one with its history and
previews, and check, save or roll back one (as a draft, editor/signoff.py), or approve
or reject its draft (clinicians only, never their own). An answer's Spanish version
(`es`) is edited, checked, saved and rolled back with it. The routes are
editor/staff_app.py's.

    GET  /editor/api/answers                    every answer, its problems and sign-off
    GET  /editor/api/answers/<name>             one answer, its draft, history and previews
    POST /editor/api/answers/<name>[/check|/rollback]   {answer | version, note, base_version}
    POST /editor/api/answers/<name>/approve     {version, note}: the draft goes live
    POST /editor/api/answers/<name>/reject      {version, note}: back to its author
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple, TypeGuard

from common.settings import load_settings
from editor import checks, signoff
from editor.staff_login import StaffLogin
from editor.store import StoreError, normalise

logger = logging.getLogger("hsg.content")
MAX_EDIT_BODY = 64 * 1024
NAME = re.compile(r"^utter_[a-z0-9_]+(/[a-z0-9_]+)?$")


class StaffAnswers(StaffLogin):
    """Reading and editing the answers; the caller has checked the login."""

    def answers_overview(self) -> None:
        """GET /editor/api/answers: every answer's row, the problems, the medians."""
        service = self.service
        answers = service.store.answers()
        values, values_es = service.clinic_placeholders(), service.clinic_placeholders("es")
        problems, rows = checks.check_store(answers, values, None, values_es)
        general = [str(p) for p in problems if p.answer == "all answers"]
        rules = checks.load_rules()
        self.json(
            HTTPStatus.OK,
            {
                "answers": rows,
                "general_problems": general,
                "limits": service.limits(),
                "median_grade": checks.median_grade(answers, rules, values),
                "median_reading_ease_es": checks.median_reading_ease(answers, rules, values_es),
                "spanish_unreviewed": [row["answer"] for row in rows if row["spanish_unreviewed"]],
                "spanish_missing": [row["answer"] for row in rows if not row["has_spanish"]],
                "gate_failures": service.gate_failures(),
                **self.signoff_rows(answers, rows),
            },
        )

    def signoff_rows(self, answers: Dict[str, Any], rows: List[Dict[str, Any]]) -> Dict[str, Any]:
        """Adds each row's sign-off (editor/signoff.py review_row) and says what the list
        is measured against: the frozen or real today, the review interval, four_eyes."""
        settings = load_settings()
        today, months = signoff.today(settings), signoff.review_months(settings)
        newest = self.service.store.newest_entries()
        for row in rows:
            row.update(signoff.review_row(answers[row["answer"]], newest.get(row["answer"]), today, months))
        return {
            "today": today.isoformat(),
            "review_interval_months": months,
            "four_eyes": settings.get("four_eyes", True) is not False,
            "always_approved": list(signoff.ALWAYS_APPROVED),
        }

    def answer_detail(self, name: str) -> None:
        """GET /editor/api/answers/<name>: the answer, its history, problems and previews."""
        service = self.service
        answers = service.store.answers()
        if name not in answers:
            return self.error(HTTPStatus.NOT_FOUND, f"there is no answer called {name}")
        answer = answers[name]
        history = service.store.history(name)
        problems = service.check_answer(name, answer)
        draft = signoff.waiting(history)
        editor = self.logged_in_editor()
        role = self.logged_in_role(editor)
        entry = signoff.last_live(history) or {}
        author = draft["by"] if draft else entry.get("author") or entry.get("by")
        changes = signoff.changed_languages(draft["answer"], answer) if draft else []
        self.json(
            HTTPStatus.OK,
            {
                "name": name,
                "answer": answer,
                "version": history[-1]["version"],
                "draft": draft,
                "returned": signoff.returned(history),
                "draft_changes": changes,
                "role": role,
                "approver": role in signoff.APPROVES,
                "approve_refused": signoff.refusal(role, editor or "", author, changes),
                "four_eyes": signoff.four_eyes(load_settings(), name),
                "gate": next((f for f in service.gate_failures() if f["answer"] == name), None),
                "history": history,
                "problems": [vars(p) for p in problems],
                "messages": [str(p) for p in problems],
                "previews": service.previews(answer),
                "placeholders": sorted(service.clinic_placeholders()),
                "sources": checks.load_rules()["sources"],
                "limits": service.limits(),
            },
        )

    def answer_post(self, route: str, editor: str) -> None:
        """POST /editor/api/answers/<name>[/check|/rollback]: check, save or roll back
        one answer, in three steps: the request, the answer it proposes, the save."""
        request = self.answer_request(route)
        if request is None:
            return
        name, action, data, answers = request
        if action in ("/approve", "/reject"):
            return self.decide(name, action, data, editor, answers[name])
        if action != "/check" and (self.logged_in_role(editor) or signoff.WRITES[0]) not in signoff.WRITES:
            return self.error(HTTPStatus.FORBIDDEN, "your role may not change answers")
        proposed = self.proposed_answer(name, action, data, answers, editor)
        if proposed is None:
            return
        answer, note = proposed
        service = self.service
        problems = checks.check_save(
            name, answer, answers, service.clinic_placeholders(), None, service.clinic_placeholders("es")
        )
        found = {"problems": [vars(p) for p in problems], "messages": [str(p) for p in problems]}
        if action == "/check":
            return self.json(HTTPStatus.OK, dict(found, previews=service.previews(answer)))
        if problems:
            logger.info("Save of %s refused: %s", name, ", ".join(sorted({p.check for p in problems})))
            return self.json(
                HTTPStatus.UNPROCESSABLE_ENTITY, dict({"error": "not saved: fix the problems below first"}, **found)
            )
        self.save_answer(name, answer, editor, note, data.get("base_version"), answers[name])

    def answer_request(self, route: str) -> Optional[Tuple[str, str, Dict[str, Any], Dict[str, Any]]]:
        """(answer name, action, request body, every answer) of a valid request, or
        None when it was answered with an error."""
        data = self.json_body(MAX_EDIT_BODY)
        if data is None:
            return None
        if not isinstance(data, dict):
            self.error(HTTPStatus.BAD_REQUEST, "send a JSON object")
            return None
        match = re.fullmatch(r"answers/(.+?)(/check|/rollback|/approve|/reject)?", route)
        if not match or not NAME.match(match.group(1)):
            self.error(HTTPStatus.NOT_FOUND, "not found")
            return None
        name, action = match.group(1), match.group(2) or "/save"
        answers = self.service.store.answers()
        if name not in answers:
            self.error(HTTPStatus.NOT_FOUND, f"there is no answer called {name}")
            return None
        return name, action, data, answers

    def proposed_answer(
        self, name: str, action: str, data: Dict[str, Any], answers: Dict[str, Any], editor: str
    ) -> Optional[Tuple[Dict[str, Any], str]]:
        """(the answer as it would be saved, the history note): an old version for a
        rollback, else the edited answer; None when answered with an error."""
        try:
            if action == "/rollback":
                return self.rollback_answer(name, data)
            # Reviews are recorded by an approval only (editor/signoff.py): any sent are ignored.
            answer = signoff.with_live_reviews(normalise(dict(data.get("answer") or {}, response=name)), answers[name])
            if answers[name].get("sms_only"):
                answer["sms_only"] = True
                answer.pop("web", None)
                if answer.get("es"):
                    answer["es"].pop("web", None)
            return answer, str(data.get("note") or "")[:200]
        except StoreError as error:
            self.error(HTTPStatus.BAD_REQUEST, str(error))
            return None

    def rollback_answer(self, name: str, data: Dict[str, Any]) -> Optional[Tuple[Dict[str, Any], str]]:
        """(the old version asked for, the history note), or None when answered with an
        error; the store raises StoreError for a version it does not have."""
        version = data.get("version")
        if not _is_int(version):
            self.error(HTTPStatus.BAD_REQUEST, "say which version to go back to")
            return None
        if not _is_int(data.get("base_version")):
            self.error(HTTPStatus.BAD_REQUEST, "say which version you are looking at (base_version); reload the page")
            return None
        return self.service.store.version_of(name, version), f"rolled back to version {version}"

    def save_answer(
        self, name: str, answer: Dict[str, Any], editor: str, note: str, base: Any, live: Dict[str, Any]
    ) -> None:
        """Saves a checked answer as a draft (editor/signoff.py), or, when clinic.yml's
        four_eyes is false (never for ALWAYS_APPROVED), live and marked "not clinically
        approved" with the review of each changed language cleared. A save or rollback
        over someone else's newer change (the base version is not the latest) is
        refused with 409."""
        answer = signoff.with_live_reviews(answer, live)
        draft = signoff.four_eyes(load_settings(), name)
        if not draft:
            note = f"{note} ({signoff.UNAPPROVED_NOTE})" if note else signoff.UNAPPROVED_NOTE
        try:
            version = self.service.store.save(
                name,
                answer,
                editor,
                note,
                base_version=base if _is_int(base) else None,
                state=signoff.DRAFT if draft else None,
            )
        except StoreError as error:
            return self.error(HTTPStatus.CONFLICT, str(error))
        logger.info("%s saved as %s version %d by %s", name, "draft" if draft else "live", version, editor)
        self.json(HTTPStatus.OK, {"saved": name, "version": version, "draft": draft})

    def decide(self, name: str, action: str, data: Dict[str, Any], clinician: str, live: Dict[str, Any]) -> None:
        """POST .../approve or .../reject of version `data["version"]`: the draft waiting
        (or, for an approval with no draft, the live answer: a new review of it). Refused
        with 403 for a role that may not, the author, or a Spanish change without a
        bilingual clinician; with 409 when that version is not the one waiting."""
        history = self.service.store.history(name)
        draft, version = signoff.waiting(history), data.get("version")
        if not _is_int(version):
            return self.error(HTTPStatus.BAD_REQUEST, "say which version you approve or reject")
        if draft is not None and draft["version"] == version:
            subject, author = draft["answer"], draft["by"]
        elif draft is None and action == "/approve" and history[-1]["version"] == version:
            entry = signoff.last_live(history) or history[-1]
            subject, author = live, entry.get("author") or entry["by"]
        else:
            return self.error(HTTPStatus.CONFLICT, f"version {version} is not the draft waiting; reload the page")
        role = self.logged_in_role(clinician)
        changes = signoff.changed_languages(subject, live)
        reason = signoff.refusal(role, clinician, author, changes)
        if reason:
            logger.info("%s of %s version %d refused for %s", action[1:].title(), name, version, clinician)
            return self.error(HTTPStatus.FORBIDDEN, reason)
        note = str(data.get("note") or "").strip()[:200]
        if action == "/reject":
            return self.reject(name, version, subject, clinician, author, note)
        self.approve(
            name,
            version,
            signoff.approved(subject, clinician, role or "", signoff.today(load_settings())),
            clinician,
            author,
            note,
        )

    def reject(self, name: str, version: int, answer: Dict[str, Any], clinician: str, author: str, note: str) -> None:
        if not note:
            return self.error(HTTPStatus.BAD_REQUEST, "say why in the note: the author reads it")
        try:
            saved = self.service.store.save(
                name, answer, clinician, note, base_version=version, state=signoff.REJECTED, author=author
            )
        except StoreError as error:
            return self.error(HTTPStatus.CONFLICT, str(error))
        logger.info("%s version %d rejected by %s", name, version, clinician)
        self.json(HTTPStatus.OK, {"rejected": name, "version": saved})

    def approve(self, name: str, version: int, answer: Dict[str, Any], clinician: str, author: str, note: str) -> None:
        """Checks the approved answer once more (the gate), then makes it live."""
        service = self.service
        answers = service.store.answers()
        problems = checks.check_save(
            name, answer, answers, service.clinic_placeholders(), None, service.clinic_placeholders("es")
        )
        if problems:
            found = {"problems": [vars(p) for p in problems], "messages": [str(p) for p in problems]}
            return self.json(HTTPStatus.UNPROCESSABLE_ENTITY, dict(found, error="not approved: it fails its checks"))
        what = f"approved version {version} by {author}" + (f": {note}" if note else "")
        try:
            saved = service.store.save(
                name, answer, clinician, what, base_version=version, state=signoff.APPROVED, author=author
            )
        except StoreError as error:
            return self.error(HTTPStatus.CONFLICT, str(error))
        logger.info("%s version %d approved by %s, live as version %d", name, version, clinician, saved)
        self.json(HTTPStatus.OK, {"approved": name, "version": saved})


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
