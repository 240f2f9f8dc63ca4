"""Clinical sign-off of the answers: drafts, approval by a clinician other than the
author (the four-eyes rule), rejection with a note, and reviews that expire. No Rasa
imports; the store keeps the entries (editor/store.py), the staff API applies the rules
(editor/staff_answers.py).

Every change an editor saves (an edit or a rollback) is a *draft*: a version in the
answer's history with the state "draft", while the live answer stays as it was. A
clinician other than the draft's author approves it (state "approved": it goes live,
with the approver's name and date as the review of the languages they approve) or
rejects it with a note (state "rejected": it goes back to its author, who sees the note
on the answer). A draft that changes the Spanish version needs a bilingual clinician.

`clinic.yml`:
    four_eyes: true               (default) every change waits for a clinician; false (a
                                  demo) lets a save go live at once, marked "not
                                  clinically approved", except for ALWAYS_APPROVED
    review_interval_months: 12    (default) after this, a review is listed as due
"""

from __future__ import annotations

import copy
import os
from datetime import date, datetime
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

DRAFT, REJECTED, APPROVED = "draft", "rejected", "approved"
NOT_LIVE = (DRAFT, REJECTED)  # history entries that never were the live answer
# The answers a worrying symptom gets: always approved by a clinician, whatever four_eyes says.
ALWAYS_APPROVED = ("utter_urgent", "utter_faq/warning_signs")
APPROVES = {"clinician": ("en",), "bilingual_clinician": ("en", "es")}  # role -> the languages it approves
WRITES = ("editor", "clinician", "bilingual_clinician", "admin")  # the roles that save drafts (not "staff")
UNAPPROVED_NOTE = "not clinically approved"
REVIEW_FIELDS = ("reviewed_by", "reviewed_on")
LANGUAGES = ("en", "es")


def four_eyes(settings: Dict[str, Any], name: str) -> bool:
    """Whether a change of answer `name` must wait for a clinician's approval."""
    return name in ALWAYS_APPROVED or settings.get("four_eyes", True) is not False


def review_months(settings: Dict[str, Any]) -> int:
    """`review_interval_months` of clinic.yml (default 12)."""
    try:
        return max(1, int(settings.get("review_interval_months") or 12))
    except (TypeError, ValueError):
        return 12


def today(settings: Dict[str, Any]) -> date:
    """Today in the clinic's time zone; HSG_TODAY=YYYY-MM-DD freezes it (tests only)."""
    frozen = os.environ.get("HSG_TODAY")
    if frozen:
        return date.fromisoformat(frozen)
    return datetime.now(ZoneInfo(settings.get("time_zone") or "UTC")).date()


def is_live(entry: Dict[str, Any]) -> bool:
    """The entry was (or is) the live answer: not a draft nor a rejected one."""
    return entry.get("state") not in NOT_LIVE


def last_live(entries: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    return next((entry for entry in reversed(entries) if is_live(entry)), None)


def waiting(entries: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The draft waiting for a clinician: the newest entry, when it is a draft."""
    return entries[-1] if entries and entries[-1].get("state") == DRAFT else None


def returned(entries: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The rejection that sent the newest draft back to its author, if that is the newest entry."""
    return entries[-1] if entries and entries[-1].get("state") == REJECTED else None


def _part(answer: Dict[str, Any], language: str) -> Dict[str, Any]:
    """One language's words (no review fields): the English fields, or the `es` block."""
    if language == "es":
        source = answer.get("es") or {}
        return {key: value for key, value in source.items() if key not in REVIEW_FIELDS}
    return {key: value for key, value in answer.items() if key not in REVIEW_FIELDS + ("es",)}


def changed_languages(answer: Dict[str, Any], live: Dict[str, Any]) -> List[str]:
    """The languages whose words `answer` changes against the live answer ("en", "es")."""
    return [language for language in LANGUAGES if _part(answer, language) != _part(live, language)]


def without_reviews(answer: Dict[str, Any], languages: List[str]) -> Dict[str, Any]:
    """`answer` with the review of `languages` cleared (their words changed since)."""
    out = copy.deepcopy(answer)
    for language in languages:
        part = out if language == "en" else out.get("es")
        if isinstance(part, dict):
            part.update(reviewed_by=None, reviewed_on=None)
    return out


def with_live_reviews(answer: Dict[str, Any], live: Dict[str, Any]) -> Dict[str, Any]:
    """`answer` with the live answer's reviews for the languages it leaves unchanged and
    none for those it changes: only an approval records a review."""
    out = copy.deepcopy(answer)
    for key in REVIEW_FIELDS:
        out[key] = live.get(key)
        if isinstance(out.get("es"), dict):
            out["es"][key] = (live.get("es") or {}).get(key)
    return without_reviews(out, changed_languages(answer, live))


def refusal(role: Optional[str], clinician: str, author: Optional[str], languages: List[str]) -> Optional[str]:
    """Why `clinician` (of `role`) may not approve or reject a draft by `author` that
    changes `languages`, or None when they may."""
    may = APPROVES.get(role or "")
    if not may:
        return "only a clinician or a bilingual clinician may approve or reject an answer"
    if author and author == clinician:
        return "you wrote this version: another clinician must approve it (the four-eyes rule)"
    if "es" in languages and "es" not in may:
        return "this draft changes the Spanish version: a bilingual clinician must approve it"
    return None


def approved(answer: Dict[str, Any], clinician: str, role: str, on: date) -> Dict[str, Any]:
    """`answer` with `clinician` and `on` as the review of every language `role` approves."""
    out = copy.deepcopy(answer)
    for language in APPROVES[role]:
        part = out if language == "en" else out.get("es")
        if isinstance(part, dict):
            part.update(reviewed_by=clinician, reviewed_on=on.isoformat())
    return out


def review_state(part: Dict[str, Any], on: date, months: int) -> str:
    """ "never" (no clinical review), "due" (reviewed `months` or more before `on`) or "ok"."""
    reviewed = part.get("reviewed_on")
    if not part.get("reviewed_by") or not reviewed:
        return "never"
    try:
        when = date.fromisoformat(str(reviewed)[:10])
    except ValueError:
        return "never"
    return "due" if when + relativedelta(months=months) <= on else "ok"


def review_row(answer: Dict[str, Any], newest: Optional[Dict[str, Any]], on: date, months: int) -> Dict[str, Any]:
    """What the answers list shows of one answer's sign-off: per language its review
    state and whether a waiting draft changes it; whether a draft waits or came back."""
    draft = newest if newest and newest.get("state") == DRAFT else None
    changes = changed_languages(draft["answer"], answer) if draft else []
    review = {}
    for language in LANGUAGES:
        part = answer if language == "en" else answer.get("es")
        review[language] = {
            "state": review_state(part, on, months) if part else "missing",
            "reviewed_on": (part or {}).get("reviewed_on"),
            "draft": language in changes,
        }
    return {
        "review": review,
        "draft_waiting": bool(draft),
        "draft_by": draft["by"] if draft else None,
        "returned": bool(newest and newest.get("state") == REJECTED),
    }
