"""A new exam-question topic in one command: `make new-topic KEY=iodine_diet GROUP=before`.

Writes the stubs of every place a topic key (answered by `faq/<key>`) needs, each
marked TODO where a person must write, so nothing is found missing later through a
failing test: tests/test_coverage.py refuses the key while any TODO is left, and
`make check-content` refuses its answer. The places (tests/test_coverage.py `PLACES`
checks the same list):

- docs/topics.md: a row in the `faq/<key>` table (what the patient wants to know, boundaries);
- data/nlu/<key>.yml and data/nlu/es/<key>.yml: the training examples (25 or more each
  language; Spanish ones marked `metadata: {language: es}`);
- tests/nlu/heldout.yml and tests/nlu/es/heldout.yml: held-out examples (5 or more, not in training);
- content/answers/faq/<key>.yml: the answer, web and SMS, English and Spanish, with its source;
- content/topic_labels.yml: how the guided choice names it, both languages;
- content/topic_groups.yml: the group of the topic list it is shown in (GROUP);
- tests/stories/test_topics.yml: one story with a phrasing in none of the sets above.

A plain intent (like `timing`) needs more than stubs (domain.yml, a rule, an answer of its
own): see docs/topics.md. Nothing is overwritten: a key that exists anywhere is refused.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
TODO = "TODO"
KEY = re.compile(r"^[a-z][a-z_]*[a-z]$")


def _paths(root: Path, key: str) -> Dict[str, Path]:
    return {
        "topics": root / "docs" / "topics.md",
        "nlu": root / "data" / "nlu" / f"{key}.yml",
        "nlu_es": root / "data" / "nlu" / "es" / f"{key}.yml",
        "heldout": root / "tests" / "nlu" / "heldout.yml",
        "heldout_es": root / "tests" / "nlu" / "es" / "heldout.yml",
        "answer": root / "content" / "answers" / "faq" / f"{key}.yml",
        "labels": root / "content" / "topic_labels.yml",
        "groups": root / "content" / "topic_groups.yml",
        "stories": root / "tests" / "stories" / "test_topics.yml",
    }


def nlu_stub(key: str, language: str) -> str:
    header = (
        "# Spanish examples. Written for this project; never copied from tests/nlu/es/.\n" if language == "es" else ""
    )
    metadata = "  metadata:\n    language: es\n" if language == "es" else ""
    return (
        f'version: "3.1"\n{header}nlu:\n- intent: faq/{key}\n{metadata}  examples: |\n'
        f"    - {TODO} write 25 or more ways patients ask about {key}, one a line\n"
    )


def answer_stub(key: str) -> str:
    def form(indent: str) -> str:
        return (
            f'{indent}web:\n{indent}  text: "{TODO} the web chat answer"\n'
            f'{indent}sms:\n{indent}  text: "{TODO} the SMS answer (2 segments at most)"\n'
        )

    return (
        f"response: utter_faq/{key}\nsource: 'docs/facts.md: {TODO}'\nreviewed_by: null\nreviewed_on: null\n"
        + form("")
        + "es:\n  reviewed_by: null\n  reviewed_on: null\n"
        + form("  ")
    )


def _append(path: Path, text: str) -> None:
    old = path.read_text(encoding="utf-8")
    path.write_text(old.rstrip("\n") + "\n" + text, encoding="utf-8")


def _add_topics_row(path: Path, key: str) -> None:
    """The row goes at the end of the `faq/<key>` table (the first "Topic keys" table)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("## Topic keys") and "faq/<key>" in line)
    end = start + 1
    while end < len(lines) and (lines[end].startswith("|") or end == start + 1):
        end += 1
    row = f"| {key} | {TODO} what the patient wants to know | {TODO} what belongs to other keys |"
    path.write_text("\n".join(lines[:end] + [row] + lines[end:]), encoding="utf-8")


def _add_to_group(path: Path, key: str, group: str) -> None:
    """Adds `key` at the end of the group's flow list `topics: [...]`, keeping the comments."""
    text = path.read_text(encoding="utf-8")
    block = re.search(rf"^- key: {re.escape(group)}\n(?:  .*\n)*?  topics: \[(?P<list>[^\]]*)\]", text, re.M)
    if block is None:
        known = [g["key"] for g in (yaml.safe_load(text) or {}).get("groups", [])]
        raise SystemExit(f"no group {group!r} in {path.name}: one of {', '.join(known)}")
    at = block.end("list")
    path.write_text(text[:at] + f", {key}" + text[at:], encoding="utf-8")


def existing(root: Path, key: str) -> List[str]:
    """The places that already know `key` (a new key must be in none of them)."""
    paths = _paths(root, key)
    found = [str(paths[name].relative_to(root)) for name in ("nlu", "nlu_es", "answer") if paths[name].exists()]
    labels = yaml.safe_load(paths["labels"].read_text(encoding="utf-8")) or {}
    if key in labels:
        found.append("content/topic_labels.yml")
    if re.search(rf"^\|\s*{key}\s*\|", paths["topics"].read_text(encoding="utf-8"), re.M):
        found.append("docs/topics.md")
    return found


def new_topic(root: Path, key: str, group: str) -> List[Path]:
    """Writes every stub of `key` under `root`; returns the files written."""
    if not KEY.match(key):
        raise SystemExit(f"{key!r} is not a topic key: lower-case letters and _, like iodine_diet")
    clash = existing(root, key)
    if clash:
        raise SystemExit(f"the key {key!r} exists already in: {', '.join(clash)}")
    paths = _paths(root, key)
    _add_to_group(paths["groups"], key, group)  # first: an unknown group changes nothing
    _add_topics_row(paths["topics"], key)
    paths["nlu"].write_text(nlu_stub(key, "en"), encoding="utf-8")
    paths["nlu_es"].write_text(nlu_stub(key, "es"), encoding="utf-8")
    heldout = f"- intent: faq/{key}\n  examples: |\n    - {TODO} 5 or more questions about {key} not in training\n"
    _append(paths["heldout"], heldout)
    _append(paths["heldout_es"], heldout)
    paths["answer"].write_text(answer_stub(key), encoding="utf-8")
    label = f'{{label: "{TODO} {key}", button: "{TODO}", es: {{label: "{TODO} {key}", button: "{TODO}"}}}}\n'
    _append(paths["labels"], f"{key}: {label}")
    story = f"- story: topic {key}\n  steps:\n  - user: |\n      {TODO} a phrasing in no set\n    intent: faq/{key}\n"
    _append(paths["stories"], "\n" + story + "  - action: utter_faq\n")
    return list(paths.values())


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("key", help="the new topic key, like iodine_diet")
    parser.add_argument("--group", required=True, help="the topic list's group (content/topic_groups.yml)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (tests use a copy)")
    args = parser.parse_args(argv)
    written = new_topic(args.root.resolve(), args.key, args.group)
    print(f"Topic {args.key}: wrote the stubs in")
    for path in written:
        print(f"  {path.relative_to(args.root.resolve())}")
    print(f"Replace every {TODO} (tests/test_coverage.py and make check-content list what is left), then make train.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
