"""The answers part of the staff web app's JSON API (login needed; writes need JSON):
list the answers with their checks, show one with its history and previews, and
check, save or roll back one. An answer's Spanish version (`es`) is edited, checked,
saved and rolled back with it; `reviewed_es` marks the Spanish reviewed (by a
bilingual clinician) on its own. The routes are editor/staff_app.py's.

    GET  /editor/api/answers                    every answer and its problems
    GET  /editor/api/answers/<name>             one answer, its history and previews
    POST /editor/api/answers/<name>[/check|/rollback]
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from typing import Any, Dict, Optional, Tuple, TypeGuard

from editor import checks
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
            },
        )

    def answer_detail(self, name: str) -> None:
        """GET /editor/api/answers/<name>: the answer, its history, problems and previews."""
        service = self.service
        answers = service.store.answers()
        if name not in answers:
            return self.error(HTTPStatus.NOT_FOUND, f"there is no answer called {name}")
        answer = answers[name]
        history = service.store.history(name)
        problems = service.check_answer(name, answer)
        self.json(
            HTTPStatus.OK,
            {
                "name": name,
                "answer": answer,
                "version": history[-1]["version"],
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
        self.save_answer(name, answer, editor, note, data.get("base_version"))

    def answer_request(self, route: str) -> Optional[Tuple[str, str, Dict[str, Any], Dict[str, Any]]]:
        """(answer name, action, request body, every answer) of a valid request, or
        None when it was answered with an error."""
        data = self.json_body(MAX_EDIT_BODY)
        if data is None:
            return None
        if not isinstance(data, dict):
            self.error(HTTPStatus.BAD_REQUEST, "send a JSON object")
            return None
        match = re.fullmatch(r"answers/(.+?)(/check|/rollback)?", route)
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
            answer = normalise(dict(data.get("answer") or {}, response=name))
            if data.get("reviewed"):
                answer["reviewed_by"] = editor
                answer["reviewed_on"] = time.strftime("%Y-%m-%d")
            if data.get("reviewed_es"):  # the Spanish version, reviewed by a bilingual clinician
                if not answer.get("es"):
                    self.error(HTTPStatus.BAD_REQUEST, "there is no Spanish version to mark as reviewed")
                    return None
                answer["es"]["reviewed_by"] = editor
                answer["es"]["reviewed_on"] = time.strftime("%Y-%m-%d")
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

    def save_answer(self, name: str, answer: Dict[str, Any], editor: str, note: str, base: Any) -> None:
        """Saves a checked answer; a save or rollback over someone else's newer change
        (the base version is not the latest) is refused with 409."""
        try:
            version = self.service.store.save(name, answer, editor, note, base_version=base if _is_int(base) else None)
        except StoreError as error:
            return self.error(HTTPStatus.CONFLICT, str(error))
        logger.info("%s saved as version %d by an editor", name, version)
        self.json(HTTPStatus.OK, {"saved": name, "version": version})


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
