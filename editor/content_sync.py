"""Git as the export and import of the production profile's answers (no Rasa imports).

In the production profile the answers live in PostgreSQL (editor/store.py
`PgContentStore`); the files under content/answers/ are what git reviews and keeps.

    python -m editor.content_sync export [--to DIR]   (`make content-export`)
        writes every live answer from PostgreSQL back to DIR/answers/ (default:
        HSG_CONTENT_DIR, else content/ of this checkout), to the file it came from,
        and lists the files it changed; review and commit them with git.
    python -m editor.content_sync import [--from DIR]
        saves every answer of the files that differs from the live one as a new
        version by "the files" (an answer new in the files is added at the next
        start anyway). Editors see it in the history and can roll it back. The same
        checks as the editor's (editor/checks.py) run first: when any answer to be
        saved or added fails one, nothing is saved, the failures are listed and the
        exit code is 1.

Both use the production profile's settings (common/pg.py `load_prod_settings`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

import yaml

from editor.store import (
    DEFAULT_DIR,
    ChecksFailed,
    FileContentStore,
    PgContentStore,
    StoreError,
    _atomic_write,
    dump_answer,
    normalise,
)

IMPORT_NOTE = "imported from the files"


def export(store: PgContentStore, target: Path) -> List[Path]:
    """Writes each live answer to its file under target/answers/; returns the files changed."""
    answers_dir = Path(target) / "answers"
    changed = []
    paths = store.paths()
    for name, answer in sorted(store.answers().items()):
        path = answers_dir / paths[name]
        try:
            current = normalise(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError, StoreError):
            current = None
        if current == answer:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, dump_answer(answer))
        changed.append(path)
    return changed


def import_files(store: PgContentStore, source: Path) -> List[str]:
    """Saves each answer of the files that differs from the live one; returns their names.
    Raises ChecksFailed, saving nothing, when any of them (or an answer new in the files)
    fails its checks."""
    live = store.answers()
    changed = {
        name: answer
        for name, answer in sorted(FileContentStore(Path(source)).answers().items())
        if live.get(name) != answer
    }
    failures = {name: found for name, answer in changed.items() for found in [store.check(name, answer)] if found}
    if failures:
        raise ChecksFailed(failures)
    store.import_missing()
    saved = []
    for name, answer in changed.items():
        if name in live:
            store.save(name, answer, "the files", IMPORT_NOTE)
            saved.append(name)
    return saved


def main(argv: List[str] = None) -> int:
    import os

    parser = argparse.ArgumentParser(description="Export the live answers to the files, or import them from there.")
    parser.add_argument("action", choices=("export", "import"))
    parser.add_argument(
        "--to", "--from", dest="folder", help="the content folder (default: HSG_CONTENT_DIR or content/)"
    )
    args = parser.parse_args(argv)
    from common import pg

    pg.load_prod_settings()
    folder = Path(args.folder or os.environ.get("HSG_CONTENT_DIR") or DEFAULT_DIR).resolve()
    store = PgContentStore(seed_dir=folder)
    if args.action == "export":
        changed = export(store, folder)
        for path in changed:
            print(f"  wrote {path.relative_to(folder.parent) if folder.parent in path.parents else path}")
        print(
            f"{len(changed)} answer file(s) changed in {folder / 'answers'} (live store version {store.version()})."
            + (" Review them with `git diff` and commit them." if changed else "")
        )
    else:
        try:
            saved = import_files(store, folder)
        except ChecksFailed as refused:
            for name, found in sorted(refused.failures.items()):
                print(f"  {name} fails: {', '.join(found)}", file=sys.stderr)
            print(
                f"Nothing imported: {len(refused.failures)} answer(s) in {folder / 'answers'} fail their checks "
                "(see `make check-content`). Fix them and import again.",
                file=sys.stderr,
            )
            return 1
        for name in saved:
            print(f"  saved {name}")
        print(f'{len(saved)} answer(s) saved from {folder / "answers"} as new versions by "the files".')
    return 0


if __name__ == "__main__":
    sys.exit(main())
