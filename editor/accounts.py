"""Editor accounts and login sessions (no Rasa imports).

Accounts live in a JSON file outside git (HSG_EDITORS_FILE, default
var/editors.json), created with `make editor-user NAME=...`. Passwords are kept
only as scrypt hashes. There is no default account: with no file, nobody can log in.

A session is a signed cookie (HMAC-SHA256 with HSG_EDITOR_SECRET) holding the
editor's name and an expiry; it is HttpOnly and SameSite=Strict.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
SESSION_HOURS = 12
MIN_PASSWORD = 10
FAILURES_ALLOWED = 5          # failed logins per name in FAILURE_WINDOW before a pause
FAILURE_WINDOW = 300          # seconds


def accounts_file() -> Path:
    return Path(os.environ.get("HSG_EDITORS_FILE") or ROOT / "var" / "editors.json")


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2 ** 14, r=8, p=1, dklen=32).hex()


def load_accounts(path: Optional[Path] = None) -> Dict[str, Dict[str, str]]:
    path = path or accounts_file()
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("editors", {})


def set_password(name: str, password: str, path: Optional[Path] = None) -> None:
    """Creates the account or changes its password."""
    name = name.strip()
    if not name or len(name) > 60 or any(ch in name for ch in "|\n\r\t"):
        raise ValueError("an editor name is 1 to 60 characters, without | or line breaks")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    path = path or accounts_file()
    accounts = load_accounts(path)
    salt = secrets.token_bytes(16)
    accounts[name] = {"salt": salt.hex(), "scrypt": _hash(password, salt)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps({"editors": accounts}, indent=2), encoding="utf-8")
    os.chmod(temp, 0o600)
    os.replace(temp, path)


class Sessions:
    def __init__(self, secret: Optional[str] = None) -> None:
        self.secret = (secret or os.environ.get("HSG_EDITOR_SECRET") or secrets.token_urlsafe(32)).encode()
        self.failures: Dict[str, list] = {}
        self.lock = threading.Lock()

    def blocked(self, name: str) -> bool:
        now = time.time()
        with self.lock:
            recent = [t for t in self.failures.get(name, []) if now - t < FAILURE_WINDOW]
            self.failures[name] = recent
            return len(recent) >= FAILURES_ALLOWED

    def check_password(self, name: str, password: str) -> bool:
        account = load_accounts().get(name)
        if account is None:
            _hash(password, b"no-such-editor-0")  # same work either way
            ok = False
        else:
            ok = hmac.compare_digest(_hash(password, bytes.fromhex(account["salt"])), account["scrypt"])
        if not ok:
            with self.lock:
                self.failures.setdefault(name, []).append(time.time())
        return ok

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode("utf-8"), hashlib.sha256).hexdigest()

    def issue(self, name: str) -> str:
        payload = f"{name}|{int(time.time()) + SESSION_HOURS * 3600}"
        return f"{payload}|{self._sign(payload)}"

    def editor(self, cookie_value: Optional[str]) -> Optional[str]:
        """The editor's name for a valid, unexpired session cookie, else None. An
        account removed from the file ends its sessions."""
        if not cookie_value or cookie_value.count("|") != 2:
            return None
        name, expiry, signature = cookie_value.split("|")
        if not hmac.compare_digest(self._sign(f"{name}|{expiry}"), signature):
            return None
        if not expiry.isdigit() or int(expiry) < time.time() or name not in load_accounts():
            return None
        return name
