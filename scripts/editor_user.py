"""`make editor-user NAME=jane.doe`: create an editor account or change its password.

Asks for the password twice (10 to 256 characters). For scripts, the password
can come from the environment variable HSG_EDITOR_PASSWORD instead. Accounts are
kept in HSG_EDITORS_FILE (default var/editors.json, outside git) as scrypt hashes;
names are letters, digits, dots, dashes and underscores. A password change ends
that editor's open sessions. `--remove NAME` deletes an account and ends its sessions.
Both write the accounts file atomically.

`--role ROLE` (`make editor-user NAME=jane.doe ROLE=clinician`) gives the account a
role: editor (the default for a new account), clinician, bilingual_clinician, admin
or staff (what each may do: editor/accounts.py ROLES, and the staff pages).
`--keep-password` with `--role` changes only the role of an existing account.

`--prod` (`make editor-user NAME=jane.doe PROFILE=prod`): the production profile's
accounts, in PostgreSQL, shared by every host (settings as scripts/run.sh --prod finds
them: the environment, then HSG_STATE_DIR/.env, else its local PostgreSQL).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.dont_write_bytecode = True  # nothing written into the checkout (the production profile's rule)

from editor.accounts import ROLES, account_store, load_accounts, remove_account, set_password, set_role


def main() -> int:
    parser = argparse.ArgumentParser(description="Create or change an editor account.")
    parser.add_argument("name", nargs="?", default="")
    parser.add_argument("--remove", action="store_true", help="delete the account")
    parser.add_argument("--role", choices=sorted(ROLES), help="the account's role (new accounts: editor)")
    parser.add_argument("--keep-password", action="store_true", help="with --role: change only the role")
    parser.add_argument("--prod", action="store_true", help="the production profile's accounts (PostgreSQL)")
    args = parser.parse_args()
    if not args.name:
        print("Say whose account: make editor-user NAME=jane.doe", file=sys.stderr)
        return 2
    if args.prod:
        from common import pg

        pg.load_prod_settings()
    if args.remove:
        if not remove_account(args.name):
            print(f"There is no editor called {args.name}.", file=sys.stderr)
            return 1
        print(f"Removed {args.name}; their open sessions are ended.")
        return 0
    if args.keep_password:
        return _change_role(args.name, args.role)
    password = os.environ.get("HSG_EDITOR_PASSWORD")
    if password is None:
        password = getpass.getpass(f"New password for {args.name} (10 to 256 characters): ")
        if password != getpass.getpass("The same password again: "):
            print("The two passwords differ; nothing changed.", file=sys.stderr)
            return 1
    existed = args.name.strip() in load_accounts()
    try:
        set_password(args.name, password, role=args.role)
    except ValueError as error:
        print(f"Not saved: {error}.", file=sys.stderr)
        return 1
    print(
        f"{args.name} ({role_of(args.name)}) can log in at http://localhost:5056/editor"
        f" (accounts in {account_store().where()})."
        + (" Their open sessions are ended: they log in again with the new password." if existed else "")
    )
    return 0


def role_of(name: str) -> str:
    return load_accounts()[name.strip()].get("role", "editor")


def _change_role(name: str, role: str | None) -> int:
    if not role:
        print("Say which role: make editor-user NAME=jane.doe ROLE=clinician KEEP_PASSWORD=1", file=sys.stderr)
        return 2
    if not set_role(name, role):
        print(f"There is no editor called {name}.", file=sys.stderr)
        return 1
    print(f"{name} is now {role}: {ROLES[role]}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
