"""`make readiness`: what stands between this install and patients (editor/readiness.py).

Prints the list: answers never clinically approved and approvals past
`review_interval_months` (per language), demo values in the clinic settings, failing
content checks, and the retention job not scheduled. Exits 0 always, or with --strict 1
while anything is on the list (for a deployment script). --prod (`make readiness
PROFILE=prod`) reads the answers from the production profile's PostgreSQL and judges the
retention schedule as `make run-prod` sets it; --count prints only the one-line summary
(what `make run-prod` prints at start-up).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.dont_write_bytecode = True  # nothing written into the checkout (the production profile's rule)

from common.settings import load_settings
from editor.readiness import blockers, summary, text_report, total


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 while anything is on the list")
    parser.add_argument("--prod", action="store_true", help="the production profile's PostgreSQL")
    parser.add_argument("--count", action="store_true", help="print only the one-line summary")
    args = parser.parse_args(argv)
    if args.prod:
        from common import pg

        pg.load_prod_settings()
        os.environ[pg.SWITCH] = "postgresql"
    from editor.store import open_store

    found = blockers(open_store().answers(), load_settings(), prod=args.prod)
    print(summary(found) if args.count else text_report(found))
    return 1 if args.strict and total(found) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
