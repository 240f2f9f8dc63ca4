"""Checks the trained model before the servers start, so a missing or damaged model
gives one clear sentence instead of a stack trace from Rasa.

Usage: check_model.py MODEL.tar.gz   (exit 0 when it looks like a Rasa 3 model)
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path


def problem(path: Path) -> str:
    """What is wrong with the model file, or "" when nothing is."""
    if not path.exists():
        return f"There is no trained model at {path}. Run `make train` (or `make run`, which trains first)."
    if path.stat().st_size == 0:
        return f"The model file {path} is empty. Delete it and run `make train`."
    try:
        with tarfile.open(path, "r:gz") as archive:
            names = {name.lstrip("/") for name in archive.getnames()}
    except (tarfile.TarError, OSError, EOFError) as error:
        return f"The model file {path} is damaged ({type(error).__name__}). Delete it and run `make train`."
    if "metadata.json" not in names:
        return f"The file {path} is not a Rasa 3 model (it has no metadata.json). Run `make train`."
    return ""


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check_model.py MODEL.tar.gz", file=sys.stderr)
        return 2
    message = problem(Path(sys.argv[1]))
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
