"""Fills ${NAME} settings from the environment into a file read on standard input
(endpoints.prod.yml), and stops with the names of any that are not set."""
from __future__ import annotations

import os
import re
import sys

SETTING = re.compile(r"\$\{([A-Z0-9_]+)\}")


def main() -> int:
    text = sys.stdin.read()
    missing = sorted({name for name in SETTING.findall(text) if name not in os.environ})
    if missing:
        print("The production profile needs these settings: " + ", ".join(missing), file=sys.stderr)
        return 1
    sys.stdout.write(SETTING.sub(lambda m: os.environ[m.group(1)], text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
