"""`make new-topic KEY=... GROUP=...` (scripts/new_topic.py) on a copy of the project's
files: the new key is refused by tests/test_coverage.py's checks (and its answer by the
content checks) while its texts are TODO, and accepted once they are written."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from test_coverage import key_problems, topic_keys

KEY = "iodine_diet"
COPIED = [
    "docs/topics.md",
    "data/nlu",
    "tests/nlu/heldout.yml",
    "tests/nlu/es/heldout.yml",
    "content/answers/faq/duration.yml",
    "content/topic_labels.yml",
    "content/topic_groups.yml",
    "tests/stories/test_topics.yml",
]


@pytest.fixture()
def project(tmp_path):
    for name in COPIED:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


def new_topic(project, key=KEY, group="before"):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "new_topic.py"), key, "--group", group, "--root", str(project)],
        capture_output=True,
        text=True,
    )


def _replace(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def fill(project):
    """What a contributor writes in place of the TODOs (here: made up, in bulk)."""
    _replace(project / "docs/topics.md", "TODO what the patient wants to know", "iodine in food before the exam")
    _replace(project / "docs/topics.md", "TODO what belongs to other keys", "an allergy is contrast_allergy")
    for folder, count in (("data/nlu", 25), ("data/nlu/es", 15)):
        lines = "".join(f"    - can i eat seafood meal number {n} before the exam\n" for n in range(count))
        _replace(
            project / folder / f"{KEY}.yml",
            f"    - TODO write 25 or more ways patients ask about {KEY}, one a line\n",
            lines,
        )
    for heldout in ("tests/nlu/heldout.yml", "tests/nlu/es/heldout.yml"):
        lines = "".join(f"    - is fish dinner {n} ok the night before\n" for n in range(5))
        _replace(project / heldout, f"    - TODO 5 or more questions about {KEY} not in training\n", lines)
    answer = yaml.safe_load((project / "content/answers/faq/duration.yml").read_text(encoding="utf-8"))
    answer["response"] = f"utter_faq/{KEY}"
    (project / f"content/answers/faq/{KEY}.yml").write_text(
        yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8"
    )
    labels = project / "content/topic_labels.yml"
    _replace(labels, f'"TODO {KEY}"', '"iodine in food"')
    _replace(labels, '"TODO"', '"Iodine in food"')
    _replace(project / "tests/stories/test_topics.yml", "TODO a phrasing in no set", "is sushi fine the day before")


def answer_problems(project):
    from common.settings import load_settings, placeholders
    from editor.checks import check_answer

    answer = yaml.safe_load((project / f"content/answers/faq/{KEY}.yml").read_text(encoding="utf-8"))
    settings = load_settings()
    problems = check_answer(KEY, answer, placeholders(settings), values_es=placeholders(settings, "es"))
    return {(p.check, p.language) for p in problems}


def test_a_new_topic_is_refused_until_its_texts_are_written_then_accepted(project):
    done = new_topic(project)
    assert done.returncode == 0, done.stderr
    assert topic_keys(project / "docs/topics.md")[KEY] == f"faq/{KEY}"
    stubbed = key_problems(project, KEY, f"faq/{KEY}")
    for place in (
        "docs/topics.md",
        "data/nlu:",
        "data/nlu/es",
        "tests/nlu/heldout.yml",
        "tests/nlu/es/heldout.yml",
        "content/answers/faq",
        "content/topic_labels.yml",
        "tests/stories/test_topics.yml",
    ):
        assert any(problem.startswith(place) for problem in stubbed), (place, stubbed)
    assert {("unfinished", "en"), ("unfinished", "es"), ("source", "en")} <= answer_problems(project)
    groups = yaml.safe_load((project / "content/topic_groups.yml").read_text(encoding="utf-8"))["groups"]
    assert KEY in next(group for group in groups if group["key"] == "before")["topics"]

    fill(project)
    assert key_problems(project, KEY, f"faq/{KEY}") == []
    assert not {check for check, _ in answer_problems(project)} & {"unfinished", "source"}


def test_a_key_that_exists_or_an_unknown_group_changes_nothing(project):
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    for key, group in (("duration", "before"), (KEY, "no_such_group"), ("Bad-Key", "before")):
        done = new_topic(project, key, group)
        assert done.returncode != 0 and done.stderr.strip()
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before
