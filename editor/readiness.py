"""Go-live readiness: what stands between this install and patients (no Rasa imports).

One list, shown on the staff app (/editor/readiness), printed by `make readiness`
(scripts/readiness.py) and counted by `make run-prod` at start-up (scripts/run.sh):

- answers never clinically approved, per language: `reviewed_by` empty in the answer
  record (English, top level) or in its `es:` part (Spanish; no Spanish part at all
  counts too), read through the content store's normal load (editor/store.py);
- answers whose last approval (`reviewed_on`) is older than `review_interval_months`
  (clinic.yml, default 12), per language, as of today in the clinic's time zone
  (HSG_TODAY freezes it for tests);
- demo values in the clinic settings (common/demo_settings.py: fictional 555-01xx phone
  numbers by name and value, the example booking link);
- answers failing a content check (editor/checks.py);
- the retention job (`make purge`) not scheduled: `make run-prod` runs it every
  HSG_PURGE_HOURS hours (default 24; 0 turns it off), `make run` only when
  HSG_PURGE_HOURS is set (scripts/retention.sh).

Nothing here changes anything; it only reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Dict, List, Mapping, Optional
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from common.demo_settings import demo_settings, settings_path

DEFAULT_REVIEW_MONTHS = 12
LANGUAGES = {"en": "English", "es": "Spanish"}


@dataclass
class Blocker:
    """One kind of thing standing in the way: a title, what to do, and its items (answer
    keys, settings...). `count` is how many things it is."""

    kind: str
    label: str  # a few words for the one-line summary
    title: str
    fix: str
    items: List[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)


def today(settings: Mapping[str, Any]) -> date:
    """Today in the clinic's time zone; HSG_TODAY=YYYY-MM-DD freezes it (tests)."""
    frozen = os.environ.get("HSG_TODAY")
    if frozen:
        return date.fromisoformat(frozen)
    return datetime.now(ZoneInfo(str(settings.get("time_zone") or "UTC"))).date()


def review_months(settings: Mapping[str, Any]) -> int:
    value = settings.get("review_interval_months", DEFAULT_REVIEW_MONTHS)
    return int(value) if value is not None else DEFAULT_REVIEW_MONTHS


def _review(answer: Mapping[str, Any], language: str) -> Mapping[str, Any]:
    """The part of an answer record that holds the approval of `language`."""
    return answer if language == "en" else (answer.get("es") or {})


def _reviewed_on(value: Any) -> Optional[date]:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def never_approved(answers: Mapping[str, Mapping[str, Any]], language: str) -> List[str]:
    """The answers (keys) whose `language` part no clinician has approved."""
    return sorted(name for name, answer in answers.items() if not _review(answer, language).get("reviewed_by"))


def review_due(answers: Mapping[str, Mapping[str, Any]], language: str, on: date, months: int) -> List[str]:
    """The approved answers whose approval is older than `months` on the day `on`
    ("key (approved YYYY-MM-DD)"); an approval with no readable date is due too."""
    due = []
    cutoff = on - relativedelta(months=months)
    for name, answer in sorted(answers.items()):
        review = _review(answer, language)
        if not review.get("reviewed_by"):
            continue
        when = _reviewed_on(review.get("reviewed_on"))
        if when is None or when < cutoff:
            due.append(f"{name} (approved {review.get('reviewed_on') or 'with no date'})")
    return due


def retention_scheduled(prod: bool, env: Mapping[str, str]) -> bool:
    """Whether the start-up schedules `make purge` (the rule of scripts/retention.sh)."""
    hours = env.get("HSG_PURGE_HOURS") or ("24" if prod else "0")
    try:
        return float(hours) > 0
    except ValueError:
        return False


def failing_checks(answers: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]) -> List[str]:
    """Each problem of `make check-content`, as it prints it."""
    from common.settings import placeholders
    from editor.checks import check_store

    problems, _ = check_store(dict(answers), placeholders(dict(settings)), None, placeholders(dict(settings), "es"))
    return [str(problem) for problem in problems]


def _approval_blockers(
    answers: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any], on: date
) -> List[Blocker]:
    months = review_months(settings)
    found = []
    for language, name in LANGUAGES.items():
        who = "a bilingual clinician" if language == "es" else "a clinician"
        found.append(
            Blocker(
                f"never_approved_{language}",
                f"never approved in {name}",
                f"Answers never clinically approved in {name}",
                f"{who} reviews each and approves it (its reviewed_by and reviewed_on)",
                never_approved(answers, language),
            )
        )
        found.append(
            Blocker(
                f"review_due_{language}",
                f"{name} review due",
                f"{name} approvals older than {months} months (review_interval_months), as of {on.isoformat()}",
                f"{who} reviews each again",
                review_due(answers, language, on, months),
            )
        )
    return found


def blockers(
    answers: Mapping[str, Mapping[str, Any]],
    settings: Mapping[str, Any],
    prod: bool,
    env: Optional[Mapping[str, str]] = None,
    on: Optional[date] = None,
) -> List[Blocker]:
    """Everything on the list, each kind with its items (an empty kind is ready)."""
    env = os.environ if env is None else env
    found = _approval_blockers(answers, settings, on or today(settings))
    found.append(
        Blocker(
            "demo_settings",
            "demo values",
            f"Demo values in {settings_path()}, which `make run-prod` refuses",
            "put the clinic's own values in the clinic settings",
            [f"{item.name}: {item.value} ({item.reason})" for item in demo_settings(dict(settings))],
        )
    )
    found.append(
        Blocker(
            "failing_checks",
            "failing checks",
            "Content checks failing (make check-content)",
            "fix each answer in the editor",
            failing_checks(answers, settings),
        )
    )
    scheduled = retention_scheduled(prod, env)
    found.append(
        Blocker(
            "retention",
            "retention job not scheduled",
            "The retention job (make purge) is not scheduled",
            "`make run-prod` runs it every HSG_PURGE_HOURS hours (default 24; not 0); with `make run` set "
            "HSG_PURGE_HOURS or run `make purge` daily from cron (README, Operations)",
            [] if scheduled else [f"HSG_PURGE_HOURS={env.get('HSG_PURGE_HOURS') or ('24' if prod else '0')}"],
        )
    )
    return found


def total(found: List[Blocker]) -> int:
    return sum(blocker.count for blocker in found)


def summary(found: List[Blocker]) -> str:
    """One line: how many things, and of which kinds."""
    count = total(found)
    if not count:
        return "Ready for patients: nothing on the go-live list."
    parts = [f"{blocker.label} {blocker.count}" for blocker in found if blocker.count]
    return f"{count} thing(s) stand between this install and patients: " + "; ".join(parts)


def text_report(found: List[Blocker]) -> str:
    """The whole list as `make readiness` prints it."""
    lines = [summary(found)]
    for blocker in found:
        if not blocker.count:
            continue
        lines.append(f"\n{blocker.title} ({blocker.count}): {blocker.fix}.")
        lines.extend(f"  - {item}" for item in blocker.items)
    return "\n".join(lines)


def as_json(found: List[Blocker]) -> Dict[str, Any]:
    return {
        "total": total(found),
        "summary": summary(found),
        "blockers": [
            {"kind": b.kind, "label": b.label, "title": b.title, "fix": b.fix, "count": b.count, "items": b.items}
            for b in found
        ],
    }
