"""`python -m console users add NAME [--role staff|admin]` and `python -m console run`."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from clinic import settings
from clinic.db import engine_for
from console import accounts


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console")
    commands = parser.add_subparsers(dest="command", required=True)
    users = commands.add_parser("users", help="staff accounts").add_subparsers(
        dest="action", required=True)
    add = users.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", choices=accounts.ROLES, default=accounts.STAFF)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    run = commands.add_parser("run", help="serve the console (local use; see README)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        if args.command == "users":
            engine = engine_for(settings.database_url())
            staff = accounts.create_user(engine, args.username, _password(args.password_stdin),
                                         args.role)
            print(f"created {staff.role} {staff.username}")
            return 0
        from console import create_app
        from werkzeug.serving import run_simple
        run_simple(args.host, args.port, create_app(), threaded=True)
        return 0
    except (accounts.AccountError, settings.SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
