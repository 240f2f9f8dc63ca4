"""`make check-content`: every answer with its reading grade, SMS segments and status.

Exits 1 when any check fails, after printing each problem with its fix.
The rules are in content/checks.yml; the checks in editor/checks.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.settings import load_settings, placeholders  # noqa: E402
from editor.checks import check_store, load_rules, median_grade  # noqa: E402
from editor.store import open_store  # noqa: E402


def main() -> int:
    store = open_store()
    answers = store.answers()
    rules = load_rules()
    problems, rows = check_store(answers, placeholders(load_settings()), rules)
    width = max(len(row["answer"]) for row in rows)
    print(f"{'answer':<{width}}  {'web grade':>9}  {'SMS grade':>9}  {'SMS segs':>8}  {'reviewed':<10}  status")
    for row in rows:
        web = "-" if row["web_grade"] is None else f"{row['web_grade']:.1f}"
        sms = "-" if row["sms_grade"] is None else f"{row['sms_grade']:.1f}"
        segs = "-" if row["sms_segments"] is None else str(row["sms_segments"])
        print(f"{row['answer']:<{width}}  {web:>9}  {sms:>9}  {segs:>8}  {row['reviewed'] or 'not yet':<10}  "
              f"{'OK' if row['status'] == 'ok' else 'FAIL: ' + row['status']}")
    print(f"\n{len(rows)} answers; median web reading grade {median_grade(answers, rules)} "
          f"(at most {rules['max_median_grade']}); limits: grade {rules['max_grade']}, "
          f"{rules['max_sms_segments']} SMS segments, {rules['max_words']} words")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("All answers pass every check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
