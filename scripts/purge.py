"""`make purge`: deletes conversations older than the retention setting.

A conversation goes when its newest event is older than `retention.conversation_days`
in clinic.yml (default 30), so a conversation still going on is never cut in half.
The store is the embedded SQLite file (HSG_TRACKER_DB, default var/tracker.sqlite3),
or with `--prod` the PostgreSQL database of the production profile (HSG_PG_*).
Prints how many conversations and events it deleted, never their contents.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.settings import load_settings  # noqa: E402


def local_services_env() -> None:
    """The settings of the local PostgreSQL that `make run-prod` starts, when none are set."""
    import subprocess

    output = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "env"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    for line in output.splitlines():
        name, _, value = line.partition("=")
        os.environ.setdefault(name, value)


def store_url(prod: bool) -> sa.engine.URL:
    if prod:
        if not os.environ.get("HSG_PG_HOST"):
            local_services_env()
        missing = [name for name in ("HSG_PG_HOST", "HSG_PG_PORT", "HSG_PG_DB", "HSG_PG_USER", "HSG_PG_PASSWORD")
                   if not os.environ.get(name)]
        if missing:
            raise SystemExit("Set the production settings first: " + ", ".join(missing)
                             + " (for local servers: set -a; eval \"$(bash scripts/services.sh env)\"; set +a)")
        return sa.engine.URL.create("postgresql", os.environ["HSG_PG_USER"], os.environ["HSG_PG_PASSWORD"],
                                    os.environ["HSG_PG_HOST"], int(os.environ["HSG_PG_PORT"]), os.environ["HSG_PG_DB"])
    path = Path(os.environ.get("HSG_TRACKER_DB") or ROOT / "var" / "tracker.sqlite3").resolve()
    return sa.engine.URL.create("sqlite", database=str(path))


def purge(url: sa.engine.URL, days: float, now: float = None) -> tuple:
    """(conversations, events) deleted: every conversation whose newest event is older than `days`."""
    cutoff = (now or time.time()) - days * 86400
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                return 0, 0
            old = [row[0] for row in connection.execute(sa.text(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"), {"cutoff": cutoff})]
            events = 0
            for start in range(0, len(old), 500):
                chunk = old[start:start + 500]
                events += connection.execute(sa.text("DELETE FROM events WHERE sender_id IN :ids")
                                             .bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk}).rowcount
            return len(old), events
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description="Delete conversations older than the retention setting.")
    parser.add_argument("--prod", action="store_true", help="purge the production profile's PostgreSQL store")
    parser.add_argument("--days", type=float, help="override clinic.yml retention.conversation_days")
    args = parser.parse_args()
    days = args.days if args.days is not None else float(
        (load_settings().get("retention") or {}).get("conversation_days", 30))
    url = store_url(args.prod)
    if url.get_backend_name() == "sqlite" and not Path(url.database).exists():
        print(f"No conversations stored yet ({url.database} does not exist).")
        return 0
    conversations, events = purge(url, days)
    print(f"Deleted {conversations} conversation(s) ({events} events) older than {days:g} days "
          f"from {url.render_as_string(hide_password=True)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
