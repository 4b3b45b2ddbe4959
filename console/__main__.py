"""The console's command line.

    python -m console users add NAME [--role staff|admin]
    python -m console run [--port 8000]          # also keeps the conversation index up to date
    python -m console index rebuild|catch-up|follow   # the projector's: python -m projector
    python -m console retention [--days N] [--dry-run]   # delete old conversations

The commands in full: docs/console.md.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from clinic import settings
from clinic.db import engine_for
from console.auth import accounts
from projector import commands as projector


def _retention(days: Optional[str], dry_run: bool) -> int:
    from console.admin import retention  # its table is created with the engine's

    clinic_db, broker_db = projector.databases()
    try:
        period = (
            retention.parse_days(days) if days is not None else retention.retention_days(clinic_db)
        )
        if period is None:
            raise retention.RetentionError(
                "no retention period: give --days N, or set one in the console (Admin → Retention)"
            )
        report = retention.purge(clinic_db, broker_db, period, dry_run=dry_run)
    except retention.RetentionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


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
        dest="action", required=True
    )
    add = users.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", choices=accounts.ROLES, default=accounts.STAFF)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    run = commands.add_parser("run", help="serve the console (waitress; see docs/console.md)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--no-index",
        action="store_true",
        help="do not follow the event broker (another process does)",
    )
    index_command = commands.add_parser("index", help="the conversation index")
    index_command.add_argument("action", choices=projector.ACTIONS)
    retention_command = commands.add_parser(
        "retention", help="delete conversations older than the retention period"
    )
    retention_command.add_argument("--days", help="instead of the period set in the console")
    retention_command.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "users":
            engine = engine_for(settings.current().database_url)
            staff = accounts.create_user(
                engine, args.username, _password(args.password_stdin), args.role
            )
            print(f"created {staff.role} {staff.username}")
            return 0
        if args.command == "index":
            return projector.run(args.action)
        if args.command == "retention":
            return _retention(args.days, args.dry_run)
        import waitress

        from console import create_app

        app = create_app()
        if not args.no_index:
            projector.start_feed()
        # A production WSGI server; it writes no access log (a URL can hold a search term,
        # which is health information) and refuses bodies over 1 MiB.
        waitress.serve(
            app,
            host=args.host,
            port=args.port,
            threads=8,
            max_request_body_size=1024 * 1024,
            ident="clinic-console",
        )
        return 0
    except (accounts.AccountError, settings.SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
