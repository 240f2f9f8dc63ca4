"""The project's rooms import only downward (issue 15):

    common/      what every side uses (clinic settings, spaCy date rules, SMS segments,
                 the PostgreSQL connection); imports no other room
    actions/     the action server          -> common
    components/  the bot's Rasa extensions  -> common
    editor/      the content service        -> common
    web/         the web chat demo server   -> common
    scripts/     the tools behind `make`    -> any room above, never tests/

Checked on the source (every import statement, top level or inside a function), so a
sideways import (components -> editor, editor -> actions ...) fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

ROOMS = ("common", "actions", "components", "editor", "web", "scripts")
ALLOWED = {
    "common": set(),
    "actions": {"common"},
    "components": {"common"},
    "editor": {"common"},
    "web": {"common"},
    "scripts": {"common", "actions", "components", "editor", "web"},
}


def imported_rooms(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in ROOMS or top in ("tests", "conftest"):
                yield node.lineno, top


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_downward(room):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in sorted((ROOT / room).rglob("*.py"))
        for line, other in imported_rooms(path)
        if other != room and other not in ALLOWED[room]
    ]
    assert not wrong, wrong


def test_the_check_catches_a_sideways_import(tmp_path):
    sideways = tmp_path / "x.py"
    sideways.write_text("def f():\n    from editor.store import open_store\n")
    assert list(imported_rooms(sideways)) == [(2, "editor")]


MAX_FUNCTION_LINES = 60


def test_no_function_outside_the_tests_is_over_60_lines():
    """Issue 24: one job per function; a long one is split where its parts have names."""
    long = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.relative_to(ROOT).parts[0] in (".venv", ".venv-load", "tests", "build", "models", "run", "var"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
