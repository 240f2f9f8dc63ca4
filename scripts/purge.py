"""`make purge`: deletes conversations older than the retention setting.

A conversation goes when its newest event is older than `retention.conversation_days`
in clinic.yml (default 30), so a conversation still going on is never cut in half.
The store is the embedded SQLite file (HSG_TRACKER_DB, default var/tracker.sqlite3),
or with `--prod` the PostgreSQL database of the production profile (HSG_PG_*).
The SMS channel's store (HSG_SMS_DB, default var/sms.sqlite3; with `--prod` its tables
in PostgreSQL) loses its answered MessageSids and saved numbered choices older than the
same number of days; opt-outs are kept. With `--prod`, the editors' report (its table
in PostgreSQL) loses its rows older than `report.retention_days`.
With `--prod` the settings are found as scripts/run.sh --prod finds them
(common/pg.py `load_prod_settings`), and nothing is written into the checkout.
Prints how many conversations, events and rows it deleted, never their contents.
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
sys.dont_write_bytecode = True  # nothing written into the checkout (the production profile's rule)

from common.settings import load_settings  # noqa: E402
from components.sms_store import SmsStore, open_sms_store, store_path as sms_store_path  # noqa: E402
from common import pg  # noqa: E402


def store_url(prod: bool) -> sa.engine.URL:
    if prod:
        pg.load_prod_settings()
        return pg.url_from_env()
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


def sms_path() -> Path:
    """The SMS channel's store, as the channel finds it (HSG_SMS_DB, credentials.yml, default)."""
    import yaml

    try:
        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
        configured = (credentials.get("components.twilio_sms.TwilioSmsInput") or {}).get("store")
    except (OSError, yaml.YAMLError, AttributeError):
        configured = None
    return sms_store_path(configured)


def purge_sms(path: Path, days: float, now: float = None) -> dict:
    """{"answered": n, "choices": n, ...} deleted from the SMS store: answered MessageSids
    and saved numbered choices older than `days` (nothing when the file does not exist)."""
    if not Path(path).exists():
        return {"answered": 0, "choices": 0, "pending": 0}
    store = SmsStore(Path(path))
    try:
        return store.purge((now or time.time()) - days * 86400)
    finally:
        store.close()


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
    else:
        conversations, events = purge(url, days)
        print(f"Deleted {conversations} conversation(s) ({events} events) older than {days:g} days "
              f"from {url.render_as_string(hide_password=True)}.")
    before = time.time() - days * 86400
    if args.prod:  # the SMS tables and the report in PostgreSQL (HSG_STORE=postgresql from here on)
        sms_store = open_sms_store(sms_path())
        sms, where = sms_store.purge(before), sms_store.where()
    else:
        path = sms_path()
        sms, where = (purge_sms(path, days), path) if path.exists() else (None, path)
    if sms is not None:
        print(f"Deleted {sms['answered']} answered SMS id(s) and {sms['choices']} saved SMS choice list(s) "
              f"older than {days:g} days from {where}.")
    if args.prod:  # (the report file of the embedded default deletes its old rows itself, at each use)
        from editor.report import Report

        report_days = float((load_settings().get("report") or {}).get("retention_days", 30))
        report = Report(retention_days=report_days)
        print(f"Deleted {report.purge()} report row(s) older than {report_days:g} days from {report.where()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
