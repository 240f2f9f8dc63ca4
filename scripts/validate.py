"""`rasa data validate` with every warning treated as an error.

One class of Rasa warning is a known false positive: "The utterance X is not used
in any story or rule" for responses that forms ask with (utter_ask_<slot>), that
Rasa's default fallback sends (utter_default), or that custom actions (or the
content service: the staff's first text) send by name. Those are accepted only when
the code really names them. The other is "duplicated intents ... across multiple
domain files: faq": Rasa's importer adds each retrieval intent from the NLU data to the
domain again, yet the story reader needs it listed in domain.yml. Accepted only for the
retrieval intents in config.yml. Anything else fails.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNUSED = re.compile(r"The utterance '(utter_[\w/]+)' is not used in any story or rule")
DUPLICATE_INTENTS = re.compile(r"duplicated intents have been found across multiple domain files: ([\w, ]+)")


def responses_named_in_actions() -> set:
    """Every string constant starting with utter_ in actions/, components/ and editor/*.py."""
    names = set()
    for path in [path for room in ("actions", "components", "editor") for path in (ROOT / room).glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("utter_"):
                names.add(node.value)
    return names


def form_questions() -> set:
    """utter_ask_<slot> for every slot a form asks for."""
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {f"utter_ask_{slot}" for form in domain.get("forms", {}).values() for slot in form["required_slots"]}


def retrieval_intents() -> set:
    """The retrieval intents of config.yml: named by ResponseSelectors, or `faq` for the
    TopicClassifier, which answers faq/<key> itself."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    intents = {c["retrieval_intent"] for c in config["pipeline"] if c.get("name") == "ResponseSelector"}
    if any(c.get("name", "").endswith("TopicClassifier") for c in config["pipeline"]):
        intents.add("faq")
    return intents


def main() -> int:
    cmd = [
        str(ROOT / ".venv/bin/rasa"),
        "data",
        "validate",
        "--domain",
        "build/domain.yml",
        "--data",
        "data",
        "--config",
        "config.yml",
    ]
    # Rasa reports problems as Python warnings: make sure none are filtered out.
    env = dict(os.environ, PYTHONWARNINGS="default")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    output = proc.stdout + proc.stderr
    accepted = responses_named_in_actions() | form_questions() | {"utter_default"}
    problems = []
    for line in output.splitlines():
        if "UserWarning" not in line and "ERROR" not in line:
            continue
        match = UNUSED.search(line)
        if match and match.group(1) in accepted:
            continue
        dupes = DUPLICATE_INTENTS.search(line)
        if dupes and {d.strip() for d in dupes.group(1).split(",")} <= retrieval_intents():
            continue
        problems.append(line.strip())
    if proc.returncode != 0 or problems:
        print(output[-4000:] if proc.returncode != 0 else "")
        print("rasa data validate found problems:")
        for line in problems:
            print("  " + line)
        return 1
    print("rasa data validate: no warnings (responses sent by actions and forms checked against the code)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
