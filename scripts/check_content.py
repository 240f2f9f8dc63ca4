"""`make check-content`: every answer with its reading level, SMS segments and status,
in English and in Spanish.

Exits 1 when any check fails, after printing each problem with its fix.
The rules are in content/checks.yml; the checks in editor/checks.py.
Demo values in the clinic settings (fictional 555-01xx phone numbers, the example booking
link: common/demo_settings.py) are printed as warnings: `make run-prod` refuses them, but
the checks still pass, so the demo can be tried and tested.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.demo_settings import demo_settings, settings_path
from common.settings import load_settings, placeholders
from editor.checks import check_store, load_rules, median_grade, median_reading_ease
from editor.store import open_store

COLUMNS = [  # (title, row key, how a value is shown)
    ("web grade", "web_grade", "{:.1f}"),
    ("SMS grade", "sms_grade", "{:.1f}"),
    ("SMS segs", "sms_segments", "{}"),
    ("reviewed", "reviewed", "{}"),
    ("ES web ease", "es_web_ease", "{:.1f}"),
    ("ES SMS ease", "es_sms_ease", "{:.1f}"),
    ("ES SMS segs", "es_sms_segments", "{}"),
    ("ES reviewed", "es_reviewed", "{}"),
]


def cell(row: dict, key: str, shape: str) -> str:
    value = row[key]
    if value is None:
        if key == "reviewed" or (key == "es_reviewed" and row["has_spanish"]):
            return "not yet"
        return "-" if key != "es_reviewed" else "no Spanish"
    return shape.format(value)


def print_demo_warnings(settings: dict) -> None:
    """Each demo value of the clinic settings as a warning, with what to do."""
    found = demo_settings(settings)
    if found:
        print(
            f"\nWarning: {len(found)} demo value(s) in {settings_path()}; `make run-prod` refuses to start "
            "until each is the clinic's own:"
        )
        for item in found:
            print(f"  - warning: {item.name}: {item.value} is {item.reason}; {item.fix}.")


def main() -> int:
    store = open_store()
    answers = store.answers()
    rules = load_rules()
    settings = load_settings()
    values, values_es = placeholders(settings), placeholders(settings, "es")
    problems, rows = check_store(answers, values, rules, values_es)
    width = max(len(row["answer"]) for row in rows)
    widths = [max(len(title), 10) for title, _, _ in COLUMNS]
    print(
        f"{'answer':<{width}}  " + "  ".join(f"{title:>{w}}" for (title, _, _), w in zip(COLUMNS, widths)) + "  status"
    )
    for row in rows:
        cells = "  ".join(f"{cell(row, key, shape):>{w}}" for (_, key, shape), w in zip(COLUMNS, widths))
        print(f"{row['answer']:<{width}}  {cells}  {'OK' if row['status'] == 'ok' else 'FAIL: ' + row['status']}")
    median_es = median_reading_ease(answers, rules, values_es)
    unreviewed = sum(1 for row in rows if row["spanish_unreviewed"])
    missing = sum(1 for row in rows if not row["has_spanish"])
    print(
        f"\n{len(rows)} answers; median web reading grade {median_grade(answers, rules, values)} "
        f"(at most {rules['max_median_grade']}); limits: grade {rules['max_grade']}, "
        f"{rules['max_sms_segments']} SMS segments, {rules['max_words']} words"
    )
    print(
        f"Spanish: median web reading ease (Fernández-Huerta) {'-' if median_es is None else median_es} "
        f"(at least {rules['min_median_reading_ease_es']}); limits: ease {rules['min_reading_ease_es']}, "
        f"{rules['max_sms_segments_es']} SMS segments, {rules['max_words']} words; "
        f"{missing} answer(s) without a Spanish version, {unreviewed} Spanish version(s) not yet reviewed "
        "by a bilingual clinician"
    )
    print_demo_warnings(settings)
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("All answers pass every check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
