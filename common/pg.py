"""PostgreSQL for the production profile: the shared state of every host (no Rasa imports).

`scripts/run.sh --prod` sets HSG_STORE=postgresql. Then the answers and their history
(editor/store.py `PgContentStore`), the editor accounts, their sessions and the login
throttle (editor/accounts.py), the editors' report (editor/report.py) and the SMS
channel's opt-outs, claims, answered ids and choices (components/sms_store.py) live in
the same PostgreSQL database as the conversations (HSG_PG_HOST, HSG_PG_PORT, HSG_PG_DB,
HSG_PG_USER, HSG_PG_PASSWORD), in their own tables named hsg_*. The tables are created
when missing, under an advisory lock, so several hosts may start at once. Without the
switch (HSG_STORE unset or `files`, the embedded default) nothing here is used.

One engine per process and database, with connections checked before use (a restart of
PostgreSQL needs no restart here) and a short connect timeout.

Tools run by hand in the production profile (`make editor-user PROFILE=prod`,
`make purge PROFILE=prod`, `make content-export`) call `load_prod_settings()`, which
finds the settings the way scripts/run.sh --prod does: the environment first, then
HSG_STATE_DIR/.env, and, when HSG_PG_HOST is unset, the local PostgreSQL that run.sh
--prod starts (scripts/services.sh, data in HSG_STATE_DIR/services).
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import Dict, Iterable, Optional

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SWITCH = "HSG_STORE"
PG_SETTINGS = ("HSG_PG_HOST", "HSG_PG_PORT", "HSG_PG_DB", "HSG_PG_USER", "HSG_PG_PASSWORD")

# Advisory lock keys (the two-number form: this project's class, then the purpose).
LOCK_CLASS = 0x485347  # "HSG"
SCHEMA_LOCK = 1  # creating the tables
CONTENT_LOCK = 2  # importing answers from the files
THROTTLE_LOCK = 3  # the login throttle's critical section
IMPORT_LOCK = 4  # one-time imports of the files of the embedded default
SMS_LOCK_CLASS = 0x48534753  # "HSGS": per MessageSid (hashtext of the sid)

metadata = sa.MetaData()
meta = sa.Table(
    "hsg_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("number", sa.BigInteger),
    sa.Column("text", sa.Text),
)
answers = sa.Table(
    "hsg_answers",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("path", sa.Text, nullable=False),  # its file under content/answers/, for the export
    sa.Column("answer", sa.Text, nullable=False),  # JSON
    sa.Column("version", sa.Integer, nullable=False),
)
answer_history = sa.Table(
    "hsg_answer_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", sa.Text),
    sa.Column("by", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("answer", sa.Text, nullable=False),
    sa.UniqueConstraint("name", "version", name="hsg_answer_history_name_version"),
)
editors = sa.Table(
    "hsg_editors",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("salt", sa.Text, nullable=False),
    sa.Column("scrypt", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False, server_default="editor"),
)
editor_sessions = sa.Table(
    "hsg_editor_sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # SHA-256 of the session id
    sa.Column("editor", sa.Text, nullable=False, index=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)
login_throttle = sa.Table(
    "hsg_login_throttle",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("inflight", sa.Integer, nullable=False),
    sa.Column("last", sa.Float, nullable=False),
    sa.Column("next", sa.Float, nullable=False),
    sa.Column("reserved", sa.Float, nullable=False),
)
report_misses = sa.Table(
    "hsg_report_misses",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("topic", sa.Text),
    sa.Column("confidence", sa.Float),
    sa.Column("channel", sa.Text),
)
# What a guided choice offered for a message of hsg_report_misses, and what was picked.
report_choices = sa.Table(
    "hsg_report_choices",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("offered", sa.Text, nullable=False),
    sa.Column("picked", sa.Text),
    sa.Column("via", sa.Text),
)
# Unanswered messages of hsg_report_misses an editor marked "add as training example",
# for a developer (`make report` lists them).
report_training = sa.Table(
    "hsg_report_training",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("marked_by", sa.Text),
)
sms_opt_out = sa.Table(
    "hsg_sms_opt_out", metadata, sa.Column("key", sa.Text, primary_key=True), sa.Column("at", sa.Float)
)
sms_answered = sa.Table(
    "hsg_sms_answered", metadata, sa.Column("sid", sa.Text, primary_key=True), sa.Column("at", sa.Float, index=True)
)
sms_pending = sa.Table(
    "hsg_sms_pending", metadata, sa.Column("sid", sa.Text, primary_key=True), sa.Column("at", sa.Float)
)
sms_choices = sa.Table(
    "hsg_sms_choices",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("payloads", sa.Text),
    sa.Column("at", sa.Float, index=True),
)

_engines: Dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def enabled() -> bool:
    """True when HSG_STORE=postgresql (the production profile); `files` or unset: False."""
    value = (os.environ.get(SWITCH) or "files").strip().lower()
    if value not in ("files", "postgresql"):
        raise ValueError(f"{SWITCH} is `files` or `postgresql`, not {value!r}")
    return value == "postgresql"


def url_from_env() -> sa.engine.URL:
    missing = [name for name in PG_SETTINGS if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"{SWITCH}=postgresql needs these settings: " + ", ".join(missing))
    return sa.engine.URL.create(
        "postgresql",
        os.environ["HSG_PG_USER"],
        os.environ["HSG_PG_PASSWORD"],
        os.environ["HSG_PG_HOST"],
        int(os.environ["HSG_PG_PORT"]),
        os.environ["HSG_PG_DB"],
    )


def engine(url: Optional[sa.engine.URL] = None) -> sa.engine.Engine:
    """This process's engine for the database (HSG_PG_* unless `url`), its tables made."""
    url = url or url_from_env()
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        found = _engines.get(key)
        if found is None:
            found = sa.create_engine(
                url,
                future=True,
                pool_pre_ping=True,
                pool_size=4,
                max_overflow=8,
                connect_args={"connect_timeout": 5, "application_name": "hsg"},
            )
            ensure_schema(found)
            _engines[key] = found
        return found


def ensure_schema(bind: sa.engine.Engine) -> None:
    """Creates the hsg_* tables that are missing (one host at a time)."""
    with bind.begin() as connection:
        lock(connection, SCHEMA_LOCK)
        metadata.create_all(connection, checkfirst=True)
        # columns added after a table first shipped (create_all does not alter existing tables)
        connection.execute(
            sa.text("ALTER TABLE hsg_editors ADD COLUMN IF NOT EXISTS role TEXT NOT NULL DEFAULT 'editor'")
        )
        connection.execute(
            sa.text("INSERT INTO hsg_meta (key, number) VALUES ('content_version', 0) ON CONFLICT (key) DO NOTHING")
        )


def lock(connection: sa.engine.Connection, purpose: int) -> None:
    """Holds this project's advisory lock for `purpose` until the transaction ends."""
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:c, :p)"), {"c": LOCK_CLASS, "p": purpose})


def imported_once(connection: sa.engine.Connection, marker: str) -> bool:
    """True when `marker` was recorded before; else records it (in this transaction)."""
    inserted = connection.execute(
        sa.text("INSERT INTO hsg_meta (key, text) VALUES (:k, 'done') ON CONFLICT (key) DO NOTHING"),
        {"k": "imported:" + marker},
    ).rowcount
    return inserted == 0


# --- the state folder and the settings of tools run by hand ---------------------------------
def state_dir() -> Path:
    """The production profile's state folder, as scripts/run.sh --prod picks it."""
    configured = os.environ.get("HSG_STATE_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    if os.getuid() == 0:
        return Path("/var/lib/hsg")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return (Path(base) / "hsg").resolve()


def env_file_settings(paths: Iterable[Path]) -> Dict[str, str]:
    """NAME=value lines of these files; the first file naming a setting wins."""
    found: Dict[str, str] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        seen: Dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition("=")
            if sep and name.strip() and not name.lstrip().startswith("#"):
                seen[name.strip()] = value  # the last line of a file wins, as in run.sh
        for name, value in seen.items():
            found.setdefault(name, value)
    return found


def load_prod_settings() -> None:
    """Switches this process to PostgreSQL with the production profile's settings (see the
    module's docstring); exits with a sentence naming what is missing."""
    os.environ[SWITCH] = "postgresql"
    state = state_dir()
    os.environ.setdefault("HSG_STATE_DIR", str(state))
    for name, value in env_file_settings([state / ".env", ROOT / ".env"]).items():
        os.environ.setdefault(name, value)
    if not os.environ.get("HSG_PG_HOST"):
        if not os.environ.get("HSG_PG_PASSWORD"):
            raise SystemExit(
                "No PostgreSQL settings: set HSG_PG_HOST, HSG_PG_PORT, HSG_PG_DB, HSG_PG_USER and "
                f"HSG_PG_PASSWORD, or start the production profile once (make run-prod), which "
                f"starts a local PostgreSQL and keeps its password in {state / '.env'}."
            )
        env = dict(os.environ)
        env.setdefault("HSG_SERVICES_DIR", str(state / "services"))
        output = subprocess.run(
            ["bash", str(ROOT / "scripts" / "services.sh"), "env"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for line in output.splitlines():
            name, _, value = line.partition("=")
            os.environ.setdefault(name, value)
    missing = [name for name in PG_SETTINGS if not os.environ.get(name)]
    if missing:
        raise SystemExit("Set the production settings first: " + ", ".join(missing))
