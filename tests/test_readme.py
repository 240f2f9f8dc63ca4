"""The README tells the truth: every path and make command it names exists."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()
GENERATED = {
    ".venv/",
    ".venv-load/",
    "build/",
    "models/",
    "models/hsg.tar.gz",  # made by `make train`: a fresh clone has none yet (review L13)
    "run/",
    "var/",
    ".env",
    "build/domain.yml",
    "var/sms.sqlite3",
    "var/editors-sessions.sqlite3",
    "var/tracker.sqlite3",
    "var/services/",
    "var/tracker-backup.sqlite3",
    "run/purge.log",
    "var/editors.json",
    "var/report.sqlite3",
    "var/content-lkg.json",
}


def named_paths():
    paths = set()
    for token in re.findall(r"`([^`\s]+)`", README):
        token = token.split("?")[0]
        if "/" in token or re.search(r"\.(yml|py|sh|md|txt)$", token) or token == "Makefile":
            if token.startswith(("/", "http", "faq/", "utter_", "~", "$")) or "<" in token or "{" in token:
                continue  # (~ and $: the production profile's state folder, outside the checkout)
            paths.add(token)
    paths.update(re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", README))  # pictures
    return paths


def test_readme_names_files_that_exist():
    missing = [
        path
        for path in named_paths()
        if path not in GENERATED and not (ROOT / path).exists() and not list(ROOT.glob(path))
    ]
    assert not missing, missing


def test_generated_paths_are_git_ignored():
    """Every generated path the README names is ignored by git, itself or through its folder."""
    ignored = set((ROOT / ".gitignore").read_text().split())
    for path in GENERATED:
        parts = path.rstrip("/").split("/")
        candidates = {"/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)} | {path}
        assert candidates & ignored, path


def test_readme_make_commands_exist():
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"make ([a-z-]+)", README))
    assert {"run", "test"} <= named
    assert named <= targets, named - targets
