"""`make report`: what patients asked that the bot could not answer, grouped, with counts.

Reads the report file on this server (HSG_REPORT_DB, default var/report.sqlite3), or,
with --prod (`make report PROFILE=prod`), the production profile's PostgreSQL; the same
list is on the editor page behind the login. Messages older than the
retention setting (clinic.yml report.retention_days) are deleted first.

Then the messages editors marked "add as training example" on the report page, as a
Rasa NLU block for a developer to check and paste into data/nlu/ (or into a file for
`scripts/real_sets.py add`): each under the topic the patient picked after the guided
choice, else the closest topic the model saw, else under "choose a topic".
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collections import defaultdict

from common.report_rules import SOMETHING_ELSE
from common.settings import load_settings
from editor.report import Report, report_db

TOPIC_INTENTS = ("timing", "device_confirmation", "human_handoff")
UNKNOWN = "choose a topic"


def main() -> int:
    settings = load_settings().get("report") or {}
    if "--prod" in sys.argv[1:]:
        from common.pg import load_prod_settings

        load_prod_settings()
    elif not report_db().exists():
        print(f"No report yet ({report_db()} does not exist): nothing has been missed since `make run` started.")
        return 0
    report = Report(
        retention_days=settings.get("retention_days", 30), low_confidence=settings.get("low_confidence", 0.6)
    )
    groups = report.groups()
    print(
        f"Messages the bot could not answer well, last {report.retention_days:g} days "
        f"({sum(g['count'] for g in groups)} messages in {len(groups)} groups):\n"
    )
    print(f"{'times':>5}  {'last asked':<16}  {'what happened':<22}  {'closest topic':<28}  message")
    for group in groups:
        kinds = ", ".join(sorted(group["kinds"]))
        last = datetime.fromtimestamp(group["last"]).strftime("%Y-%m-%d %H:%M")
        print(f"{group['count']:>5}  {last:<16}  {kinds:<22}  {group['closest_topic'] or '-':<28}  {group['text']}")
        if group["offered"]:  # the guided choice: what it offered, and what patients picked
            picked = ", ".join(f"{key} ({times})" for key, times in group["picked"].items()) or "nothing yet"
            print(f"{'':>5}  offered: {', '.join(group['offered'])}; picked: {picked}")
    print_training(report)
    return 0


def training_intent(row: dict) -> str:
    """The intent a marked message is an example of: the topic picked, else the closest."""
    picked = row.get("picked")
    if picked and picked != SOMETHING_ELSE:
        return picked if picked in TOPIC_INTENTS else f"faq/{picked}"
    topic = row.get("topic") or ""
    return topic if topic.startswith("faq/") or topic in TOPIC_INTENTS else UNKNOWN


def print_training(report: Report) -> None:
    """The marked messages as a Rasa NLU block, grouped by intent."""
    marked = report.messages(marked_only=True)
    print(f'\nMarked "add as training example" on the report page: {len(marked)}')
    if not marked:
        return
    by_intent = defaultdict(list)
    for row in marked:
        by_intent[training_intent(row)].append(row["text"])
    print("(check each, then add it to data/nlu/ and retrain; the topic is the one picked, else the closest)")
    print("nlu:")
    for intent, texts in sorted(by_intent.items()):
        print(f"- intent: {intent}" if intent != UNKNOWN else f"- intent: ???  # {UNKNOWN}")
        print("  examples: |")
        for text in texts:
            print(f"    - {' '.join(text.split())}")


if __name__ == "__main__":
    sys.exit(main())
