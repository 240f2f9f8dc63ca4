"""Editor accounts, login sessions and login throttling (no Rasa imports).

Accounts live in a JSON file outside git (HSG_EDITORS_FILE, default
var/editors.json), created with `make editor-user NAME=...`; in the production
profile (HSG_STORE=postgresql) the accounts, sessions and throttle counts live in
PostgreSQL instead (tables hsg_editors, hsg_editor_sessions, hsg_login_throttle;
common/pg.py), so every host sees the same ones. Passwords are kept
only as scrypt hashes. There is no default account: with no file, nobody can log in.
Names are 1 to 64 of the characters A-Z a-z 0-9 . _ - (a cookie-safe set).

Each account has a role (ROLES): `editor` writes drafts, `clinician` also approves
English answers, `bilingual_clinician` approves English and Spanish, `admin` manages
accounts, `staff` sends patients their first text. An account made before roles
existed is an `editor`. The role is read at every request, so a change takes effect
at once without ending sessions.

Sessions are kept on the server, in a small SQLite file beside the accounts file
(`<accounts file stem>-sessions.sqlite3`, e.g. var/editors-sessions.sqlite3). A login
creates a random session id (secrets.token_urlsafe); the cookie carries only that id
and an HMAC over it (HSG_EDITOR_SECRET), and the file keeps only a SHA-256 of the id.
A session ends after SESSION_HOURS, at logout (its row is deleted, so a copied cookie
stops working), when the editor's password changes or the account is removed (all
their rows are deleted; a session also names the password hash it was made with, so
an account file changed by hand ends them too). Expired rows are purged at each login.

Failed logins are throttled per client address and per name (or, for a browser that
has logged in as that name before, per that browser's device cookie, so that someone
guessing a name cannot keep its real editor out), all in one critical section and in
LRU-capped tables. After the free failures, each further attempt must wait a growing
delay (HSG_EDITOR_LOGIN_DELAY seconds, default 1, doubling up to MAX_DELAY): never a
lock-out. Hashing is capped at HASH_SLOTS at once, and passwords longer than
MAX_PASSWORD characters are refused without being hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SESSION_HOURS = 12
DEVICE_DAYS = 180  # how long a browser is remembered for throttling
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # longer passwords are refused before hashing
NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
ROLES: Dict[str, str] = {  # role -> what it may do (shown on the staff pages)
    "editor": "write and submit drafts of answers",
    "clinician": "write drafts; approve or reject other people's English drafts",
    "bilingual_clinician": "write drafts; approve or reject other people's English and Spanish drafts",
    "admin": "write drafts; see every page; manage accounts (make editor-user)",
    "staff": "send a patient the assistant's first text",
}
DEFAULT_ROLE = "editor"
HASH_SLOTS = threading.BoundedSemaphore(2)  # scrypt needs 16 MiB each: at most 2 at once
HASH_WAIT = 10.0  # seconds a login waits for a free slot before "busy"
FREE_FAILURES_PER_NAME = 3  # failures per name (or device) before the delay starts
FREE_FAILURES_PER_ADDRESS = 10  # per client address (several nurses may share one)
MAX_DELAY = 60.0  # seconds: the growing delay stops growing here
FORGET_AFTER = 15 * 60  # seconds without a failure after which a count is forgotten
THROTTLE_ENTRIES = 10_000  # per table (addresses, names, devices): LRU-capped


class Busy(RuntimeError):
    """Every hashing slot stayed taken for HASH_WAIT seconds."""


def accounts_file() -> Path:
    return Path(os.environ.get("HSG_EDITORS_FILE") or ROOT / "var" / "editors.json")


def sessions_file(accounts: Optional[Path] = None) -> Path:
    """The session table beside the accounts file, in the same state folder."""
    accounts = accounts or accounts_file()
    return accounts.with_name(accounts.stem + "-sessions.sqlite3")


def valid_name(name: str) -> bool:
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def _scrypt(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def _hash(password: str, salt: bytes) -> str:
    """scrypt, at most HASH_SLOTS at a time in this process; Busy if no slot frees up."""
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    if not HASH_SLOTS.acquire(timeout=HASH_WAIT):
        raise Busy("every hashing slot is taken")
    try:
        return _scrypt(password, salt)
    finally:
        HASH_SLOTS.release()


def _fingerprint(account: Dict[str, str]) -> str:
    """Names the password hash a session was made with, without revealing it."""
    return hashlib.sha256(f"{account.get('salt')}|{account.get('scrypt')}".encode()).hexdigest()[:32]


class FileAccounts:
    """Accounts in a JSON file, sessions in a SQLite file beside it (the embedded default)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def where(self) -> str:
        return str(self.path)

    def load(self) -> Dict[str, Dict[str, str]]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8")).get("editors", {})

    def get(self, name: str) -> Optional[Dict[str, str]]:
        return self.load().get(name)

    def put(self, name: str, account: Dict[str, str]) -> None:
        """Creates or replaces the account and ends its sessions."""
        accounts = self.load()
        accounts[name] = account
        _write_accounts(accounts, self.path)
        self.end_sessions(name)

    def remove(self, name: str) -> bool:
        accounts = self.load()
        if accounts.pop(name, None) is None:
            return False
        _write_accounts(accounts, self.path)
        self.end_sessions(name)
        return True

    def end_sessions(self, name: str) -> int:
        connection = _connect(sessions_file(self.path), create=False)
        if connection is None:
            return 0
        with closing(connection):
            return connection.execute("DELETE FROM sessions WHERE editor = ?", (name,)).rowcount

    def add_session(self, id_hash: str, name: str, fingerprint: str, now: float, expires: float) -> None:
        """Stores a new session and deletes the expired ones."""
        with closing(_connect(sessions_file(self.path), create=True)) as connection:
            connection.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            connection.execute(
                "INSERT INTO sessions (id, editor, account, created, expires) VALUES (?, ?, ?, ?, ?)",
                (id_hash, name, fingerprint, now, expires),
            )

    def session(self, id_hash: str) -> Optional[Tuple[str, str, float]]:
        """(editor, account fingerprint, expires) of a stored session, else None."""
        connection = _connect(sessions_file(self.path), create=False)
        if connection is None:
            return None
        with closing(connection):
            return connection.execute(
                "SELECT editor, account, expires FROM sessions WHERE id = ?", (id_hash,)
            ).fetchone()

    def delete_session(self, id_hash: str) -> bool:
        connection = _connect(sessions_file(self.path), create=False)
        if connection is None:
            return False
        with closing(connection):
            return connection.execute("DELETE FROM sessions WHERE id = ?", (id_hash,)).rowcount > 0


class PgAccounts:
    """Accounts and sessions in PostgreSQL (the production profile): one set for every host."""

    def __init__(self, engine=None) -> None:
        import sqlalchemy as sa

        from common import pg

        self.engine = engine or pg.engine()
        self.pg, self.sa = pg, sa

    def where(self) -> str:
        return "PostgreSQL " + self.engine.url.render_as_string(hide_password=True)

    def load(self) -> Dict[str, Dict[str, str]]:
        table = self.pg.editors
        with self.engine.connect() as connection:
            rows = connection.execute(table.select().order_by(table.c.name)).fetchall()
        return {row.name: {"salt": row.salt, "scrypt": row.scrypt, "role": row.role or DEFAULT_ROLE} for row in rows}

    def get(self, name: str) -> Optional[Dict[str, str]]:
        table = self.pg.editors
        with self.engine.connect() as connection:
            row = connection.execute(table.select().where(table.c.name == name)).fetchone()
        return {"salt": row.salt, "scrypt": row.scrypt, "role": row.role or DEFAULT_ROLE} if row else None

    def put(self, name: str, account: Dict[str, str]) -> None:
        from sqlalchemy.dialects.postgresql import insert

        role = account.get("role") or DEFAULT_ROLE
        statement = insert(self.pg.editors).values(name=name, salt=account["salt"], scrypt=account["scrypt"], role=role)
        with self.engine.begin() as connection:  # the account and the end of its sessions together
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"],
                    set_={
                        "salt": statement.excluded.salt,
                        "scrypt": statement.excluded.scrypt,
                        "role": statement.excluded.role,
                    },
                )
            )
            connection.execute(self.pg.editor_sessions.delete().where(self.pg.editor_sessions.c.editor == name))

    def remove(self, name: str) -> bool:
        with self.engine.begin() as connection:
            gone = connection.execute(self.pg.editors.delete().where(self.pg.editors.c.name == name)).rowcount
            connection.execute(self.pg.editor_sessions.delete().where(self.pg.editor_sessions.c.editor == name))
        return gone > 0

    def end_sessions(self, name: str) -> int:
        with self.engine.begin() as connection:
            return connection.execute(
                self.pg.editor_sessions.delete().where(self.pg.editor_sessions.c.editor == name)
            ).rowcount

    def add_session(self, id_hash: str, name: str, fingerprint: str, now: float, expires: float) -> None:
        table = self.pg.editor_sessions
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.expires < now))
            connection.execute(
                table.insert().values(id=id_hash, editor=name, account=fingerprint, created=now, expires=expires)
            )

    def session(self, id_hash: str) -> Optional[Tuple[str, str, float]]:
        table = self.pg.editor_sessions
        with self.engine.connect() as connection:
            row = connection.execute(
                self.sa.select(table.c.editor, table.c.account, table.c.expires).where(table.c.id == id_hash)
            ).fetchone()
        return tuple(row) if row else None

    def delete_session(self, id_hash: str) -> bool:
        table = self.pg.editor_sessions
        with self.engine.begin() as connection:
            return connection.execute(table.delete().where(table.c.id == id_hash)).rowcount > 0


def account_store(path: Optional[Path] = None):
    """Where the accounts are: the given file; else PostgreSQL in the production profile
    (HSG_STORE=postgresql); else HSG_EDITORS_FILE (default var/editors.json)."""
    if path is None:
        from common import pg

        if pg.enabled():
            return PgAccounts()
    return FileAccounts(path or accounts_file())


def load_accounts(path: Optional[Path] = None) -> Dict[str, Dict[str, str]]:
    return account_store(path).load()


def _write_accounts(accounts: Dict[str, Dict[str, str]], path: Path) -> None:
    """Atomically: a temporary file in the same folder (mode 600), then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps({"editors": accounts}, indent=2))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError("a role is one of " + ", ".join(ROLES))
    return role


def account_role(account: Optional[Dict[str, str]]) -> Optional[str]:
    """The account's role (an account from before roles is an editor); None for no account."""
    if account is None:
        return None
    role = account.get("role") or DEFAULT_ROLE
    return role if role in ROLES else DEFAULT_ROLE


def set_role(name: str, role: str, path: Optional[Path] = None) -> bool:
    """Changes an existing account's role without touching its password or sessions."""
    check_role(role)
    store = account_store(path)
    account = store.get(name.strip())
    if account is None:
        return False
    if isinstance(store, FileAccounts):
        accounts = store.load()
        accounts[name.strip()] = {**account, "role": role}
        _write_accounts(accounts, store.path)
    else:
        with store.engine.begin() as connection:
            table = store.pg.editors
            connection.execute(table.update().where(table.c.name == name.strip()).values(role=role))
    return True


def set_password(name: str, password: str, path: Optional[Path] = None, role: Optional[str] = None) -> None:
    """Creates the account or changes its password (a change ends all its sessions).
    The role is kept when not given; a new account without one is an editor."""
    name = name.strip()
    if not valid_name(name):
        raise ValueError("an editor name is 1 to 64 letters, digits, dots, dashes or underscores")
    if role is not None:
        check_role(role)
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    salt = secrets.token_bytes(16)
    hashed = _hash(password, salt)
    store = account_store(path)
    role = role or account_role(store.get(name)) or DEFAULT_ROLE
    store.put(name, {"salt": salt.hex(), "scrypt": hashed, "role": role})


def remove_account(name: str, path: Optional[Path] = None) -> bool:
    """Deletes the account and ends its sessions; False if there was none."""
    return account_store(path).remove(name)


# --- the session table -------------------------------------------------------------
def _connect(path: Path, create: bool) -> Optional[sqlite3.Connection]:
    """The session database, or None when it does not exist and create is False."""
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    connection = sqlite3.connect(str(path), timeout=10, isolation_level=None)  # autocommit
    connection.execute(
        "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, editor TEXT NOT NULL, "
        "account TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL)"
    )
    connection.execute("CREATE INDEX IF NOT EXISTS sessions_by_editor ON sessions (editor)")
    return connection


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def end_sessions(name: str, accounts: Optional[Path] = None) -> int:
    """Deletes every session of this editor; returns how many there were."""
    return account_store(accounts).end_sessions(name)


# --- throttling ------------------------------------------------------------------------
class Throttle:
    """Failed-login counts per key ("address:...", "name:...", "device:..."), checked and
    reserved in one critical section, so that parallel guesses cannot all slip past the
    check. Each table is an LRU capped at `size` entries."""

    def __init__(
        self, base_delay: Optional[float] = None, max_delay: float = MAX_DELAY, size: int = THROTTLE_ENTRIES
    ) -> None:
        if base_delay is None:
            base_delay = float(os.environ.get("HSG_EDITOR_LOGIN_DELAY") or 1.0)
        self.base_delay = max(0.0, base_delay)
        self.max_delay = max_delay
        self.size = size
        self.lock = threading.Lock()
        # kind -> key -> {"failures", "inflight", "last", "next", "reserved"}
        self.tables: Dict[str, OrderedDict[str, Dict[str, float]]] = {}

    def delay(self, failures: int, free: int) -> float:
        """The wait before the next attempt after `failures` failures: 0 while free,
        then base, 2 x base, 4 x base, ... up to max_delay."""
        if failures < free:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** min(failures - free, 30))

    def _entry(self, key: str, now: float, create: bool) -> Optional[Dict[str, float]]:
        kind = key.split(":", 1)[0]
        table = self.tables.setdefault(kind, OrderedDict())
        entry = table.get(key)
        if entry is not None and not entry["inflight"] and now - entry["last"] > FORGET_AFTER and now >= entry["next"]:
            del table[key]
            entry = None
        if entry is None:
            if not create:
                return None
            entry = table[key] = {"failures": 0, "inflight": 0, "last": now, "next": 0.0, "reserved": 0.0}
            while len(table) > self.size:
                table.popitem(last=False)
        table.move_to_end(key)
        return entry

    def reserve(self, keys: List[Tuple[str, int]], now: Optional[float] = None) -> float:
        """0 and the attempt is counted as under way for every key; or the seconds to
        wait before trying again (nothing counted)."""
        now = time.time() if now is None else now
        with self.lock:
            return self._reserve(keys, now)

    def _reserve(self, keys: List[Tuple[str, int]], now: float) -> float:
        """(With the lock held.)"""
        wait = 0.0
        for key, free in keys:
            entry = self._entry(key, now, create=False)
            if entry is None:
                continue
            wait = max(wait, entry["next"] - now)
            pending = entry["failures"] + entry["inflight"]
            if entry["inflight"] and pending >= free:  # the budget is taken by attempts under way
                wait = max(wait, self.delay(pending, free), 0.001)
        if wait > 0:
            return wait
        for key, _ in keys:
            entry = self._entry(key, now, create=True)
            entry["inflight"] += 1
            entry["reserved"] = now
        return 0.0

    def finish(self, keys: List[Tuple[str, int]], outcome: str, now: Optional[float] = None) -> None:
        """outcome "ok" forgets the keys' failures, "bad" counts one and sets the delay,
        "undo" only ends the reservation (the attempt was not judged)."""
        now = time.time() if now is None else now
        with self.lock:
            self._finish(keys, outcome, now)

    def _finish(self, keys: List[Tuple[str, int]], outcome: str, now: float) -> None:
        """(With the lock held.)"""
        for key, free in keys:
            entry = self._entry(key, now, create=outcome == "bad")
            if entry is None:
                continue
            entry["inflight"] = max(0, entry["inflight"] - 1)
            if outcome == "ok":
                if not entry["inflight"]:
                    self.tables[key.split(":", 1)[0]].pop(key, None)
                else:
                    entry.update(failures=0, next=0.0)
            elif outcome == "bad":
                entry["failures"] += 1
                entry["last"] = now
                entry["next"] = max(entry["next"], now + self.delay(int(entry["failures"]), free))

    def __len__(self) -> int:
        return sum(len(table) for table in self.tables.values())


class PgThrottle(Throttle):
    """The same throttle with its counts in PostgreSQL (hsg_login_throttle), so that every
    host of the production profile counts the same failures: each check or count runs
    the same logic as Throttle under one advisory lock, on the rows of its keys. A
    reservation left by a process that died while hashing is ignored after STALE_RESERVATION
    seconds, so it cannot hold a name up."""

    STALE_RESERVATION = HASH_WAIT + 60.0

    def __init__(self, engine=None, **kwargs) -> None:
        super().__init__(**kwargs)
        from common import pg

        self.engine = engine or pg.engine()
        self.pg = pg

    def _shared(self, keys: List[Tuple[str, int]], now: float, work):
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import insert

        table = self.pg.login_throttle
        names = sorted({key for key, _ in keys})
        with self.engine.begin() as connection:
            self.pg.lock(connection, self.pg.THROTTLE_LOCK)
            connection.execute(
                table.delete().where(  # what Throttle would forget
                    (table.c.inflight == 0) & (table.c.last < now - FORGET_AFTER) & (table.c.next <= now)
                )
            )
            self.tables = {}
            for row in connection.execute(sa.select(table).where(table.c.key.in_(names))).mappings():
                entry = {field: float(row[field]) for field in ("failures", "inflight", "last", "next", "reserved")}
                entry["failures"], entry["inflight"] = int(row["failures"]), int(row["inflight"])
                if entry["inflight"] and now - entry["reserved"] > self.STALE_RESERVATION:
                    entry["inflight"] = 0
                self.tables.setdefault(row["key"].split(":", 1)[0], OrderedDict())[row["key"]] = entry
            result = work()
            for key in names:
                entry = self.tables.get(key.split(":", 1)[0], {}).get(key)
                if entry is None:
                    connection.execute(table.delete().where(table.c.key == key))
                    continue
                statement = insert(table).values(key=key, **entry)
                connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["key"],
                        set_={
                            field: statement.excluded[field]
                            for field in ("failures", "inflight", "last", "next", "reserved")
                        },
                    )
                )
            self.tables = {}
            return result

    def reserve(self, keys: List[Tuple[str, int]], now: Optional[float] = None) -> float:
        now = time.time() if now is None else now
        with self.lock:
            return self._shared(keys, now, lambda: self._reserve(keys, now))

    def finish(self, keys: List[Tuple[str, int]], outcome: str, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        with self.lock:
            self._shared(keys, now, lambda: self._finish(keys, outcome, now))

    def __len__(self) -> int:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(self.pg.login_throttle)).scalar())


def pg_throttle() -> Throttle:
    return PgThrottle()


@dataclass
class Login:
    outcome: str  # "ok", "bad", "wait" (throttled) or "busy" (no hashing slot)
    cookie: str = ""  # the session cookie's value, when ok
    device: str = ""  # the device cookie's value, when ok
    retry_after: float = 0.0  # seconds, for "wait" and "busy"


class Sessions:
    def __init__(
        self, secret: Optional[str] = None, accounts: Optional[Path] = None, throttle: Optional[Throttle] = None
    ) -> None:
        self.secret = (secret or os.environ.get("HSG_EDITOR_SECRET") or secrets.token_urlsafe(32)).encode()
        self.accounts = accounts  # None: PostgreSQL or HSG_EDITORS_FILE (account_store) at each use
        if throttle is None:
            from common import pg

            throttle = pg_throttle() if accounts is None and pg.enabled() else Throttle()
        self.throttle = throttle

    def _store(self):
        return account_store(self.accounts)

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode("utf-8"), hashlib.sha256).hexdigest()

    # --- passwords ---------------------------------------------------------------
    def check_password(self, name: str, password: str) -> bool:
        """True for the right password. Bad names and over-long passwords are refused
        without hashing; an unknown name costs one hash, like a known one."""
        if not valid_name(name) or not password or len(password) > MAX_PASSWORD:
            return False
        account = self._store().get(name)
        if account is None:
            _hash(password, b"no-such-editor-0")  # same work either way
            return False
        return hmac.compare_digest(_hash(password, bytes.fromhex(account["salt"])), account["scrypt"])

    def login(self, name: str, password: str, address: str, device_cookie: Optional[str] = None) -> Login:
        """One login attempt from a client address, throttled per address and per name
        (per device instead of per name for a browser this editor logged in from)."""
        name = name.strip()
        keys = [("address:" + (address or "unknown")[:64], FREE_FAILURES_PER_ADDRESS)]
        if valid_name(name):
            device = self._device(device_cookie)
            if device and device[0] == name:
                keys.append(("device:" + device[1], FREE_FAILURES_PER_NAME))
            else:
                keys.append(("name:" + name, FREE_FAILURES_PER_NAME))
        wait = self.throttle.reserve(keys)
        if wait > 0:
            return Login("wait", retry_after=wait)
        try:
            ok = self.check_password(name, password)
        except Busy:
            self.throttle.finish(keys, "undo")
            return Login("busy", retry_after=2.0)
        except BaseException:
            self.throttle.finish(keys, "undo")
            raise
        self.throttle.finish(keys, "ok" if ok else "bad")
        if not ok:
            return Login("bad")
        return Login("ok", cookie=self.issue(name), device=self.device_cookie(name))

    # --- device cookies (throttling only, never a login) ------------------------------
    def device_cookie(self, name: str) -> str:
        nonce = secrets.token_urlsafe(16)
        expiry = int(time.time()) + DEVICE_DAYS * 86400
        payload = f"{name}.{expiry}.{nonce}"
        return f"{payload}.{self._sign('device|' + payload)}"

    def _device(self, value: Optional[str]) -> Optional[Tuple[str, str]]:
        """(name, nonce) of a valid device cookie, else None."""
        if not value or value.count(".") < 3:
            return None
        payload, signature = value.rsplit(".", 1)
        if not hmac.compare_digest(self._sign("device|" + payload), signature):
            return None
        name, expiry, nonce = payload.rsplit(".", 2)
        if not expiry.isdigit() or int(expiry) < time.time():
            return None
        return name, nonce

    # --- sessions ----------------------------------------------------------------------
    def issue(self, name: str) -> str:
        """A new server-side session for this editor; returns the cookie's value."""
        store = self._store()
        account = store.get(name)
        if account is None:
            raise ValueError("no such editor")
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        store.add_session(_id_hash(session_id), name, _fingerprint(account), now, now + SESSION_HOURS * 3600)
        return f"{session_id}.{self._sign('session|' + session_id)}"

    def _session_id(self, cookie_value: Optional[str]) -> Optional[str]:
        if not cookie_value or cookie_value.count(".") != 1:
            return None
        session_id, signature = cookie_value.split(".")
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", session_id):
            return None
        if not hmac.compare_digest(self._sign("session|" + session_id), signature):
            return None
        return session_id

    def editor(self, cookie_value: Optional[str]) -> Optional[str]:
        """The editor's name for a live session, else None. A session ends when it
        expires, at logout, and when its editor's password changes or the account goes."""
        session_id = self._session_id(cookie_value)
        if session_id is None:
            return None
        store = self._store()
        row = store.session(_id_hash(session_id))
        if row is None:
            return None
        name, fingerprint, expires = row
        account = store.get(name)
        if expires < time.time() or account is None or not hmac.compare_digest(_fingerprint(account), fingerprint):
            store.delete_session(_id_hash(session_id))
            return None
        return name

    def role(self, name: Optional[str]) -> Optional[str]:
        """The role of this account now (None when there is no such account)."""
        return account_role(self._store().get(name)) if name else None

    def end(self, cookie_value: Optional[str]) -> bool:
        """Logout: deletes this session on the server. True if there was one."""
        session_id = self._session_id(cookie_value)
        if session_id is None:
            return False
        return self._store().delete_session(_id_hash(session_id))


def retry_seconds(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))
