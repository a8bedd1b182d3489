"""Admin commands: `python -m crm_booking <command>`.

  migrate                      bring the database schema to the newest migration
  seed                         load the demo data (idempotent) and print the demo logins
  create-user                  create an account with any role
  promote                      give an existing account the facilitator (or admin) role
  build-frontend               compile the Reflex UI when its sources changed
  serve                        run the Booking app (:5000) and the CRM service (:5001)
  worker                       run only the Booking app in the foreground (systemd, see deploy/)
  backup                       write a backup of the Booking database to a file
  restore                      load a backup into an empty database
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from pathlib import Path

from crm_booking.backup import BackupError
from crm_booking.errors import DomainError
from crm_booking.models import Role
from crm_booking.settings import get_settings


def _migrate(_: argparse.Namespace) -> int:
    from crm_booking.launcher import migrate

    migrate()
    print("Database is at the newest migration.")
    return 0


def _seed(_: argparse.Namespace) -> int:
    from crm_booking.demo import DEMO_LOGINS, load_demo_data
    from crm_booking.settings import get_settings

    if get_settings().is_production:
        print("Refusing to load demo data with APP_ENV=production.", file=sys.stderr)
        return 1
    created = load_demo_data()
    print(f"Demo data ready ({created} new records).")
    for role, email, password in DEMO_LOGINS:
        print(f"  {role:<12} {email}  /  {password}")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from crm_booking.services import auth

    password = args.password
    generated = False
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("Password (empty to generate one): ") or None
    if password is None:
        password, generated = secrets.token_urlsafe(12), True
    user = auth.create_user(
        email=args.email, password=password, name=args.name, role=Role(args.role), phone=args.phone
    )
    print(f"Created {user.role} #{user.id} {user.email}")
    if generated:
        print(f"Generated password: {password}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from crm_booking.services import auth

    user = auth.set_role(email=args.email, role=Role(args.role))
    print(f"{user.email} is now {user.role}")
    return 0


def _build_frontend(args: argparse.Namespace) -> int:
    from crm_booking.launcher import build_frontend

    build_frontend(force=args.force)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from crm_booking.launcher import serve

    return serve(workers=args.workers, with_crm=not args.no_crm, seed=not args.no_seed)


def _backup(args: argparse.Namespace) -> int:
    from crm_booking.backup import backup

    written = backup(args.database_url or get_settings().DATABASE_URL, args.output)
    print(f"Backup written to {written}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from crm_booking.backup import restore

    restore(args.database_url or get_settings().DATABASE_URL, args.file)
    print(f"Restored {args.file}. Next: python -m crm_booking migrate (if the backup is older "
          "than this version), then start the app.")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from crm_booking.launcher import run_worker

    return run_worker(workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crm_booking", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("seed", help="load demo data").set_defaults(run=_seed)

    create = commands.add_parser("create-user", help="create an account with a role")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    create.add_argument("--password", help="omit to be asked (or to generate one)")
    create.add_argument("--phone")
    create.set_defaults(run=_create_user)

    promote = commands.add_parser("promote", help="make an account a facilitator (or admin)")
    promote.add_argument("--email", required=True)
    promote.add_argument("--role", choices=[Role.FACILITATOR.value, Role.ADMIN.value],
                         default=Role.FACILITATOR.value)
    promote.set_defaults(run=_promote)

    build = commands.add_parser("build-frontend", help="compile the UI if its sources changed")
    build.add_argument("--force", action="store_true")
    build.set_defaults(run=_build_frontend)

    backup = commands.add_parser("backup", help="write the database to one file (pg_dump / SQLite backup)")
    backup.add_argument("--output", type=Path,
                        help="file to write (default: data/backups/crm-booking-<UTC time>.*)")
    backup.add_argument("--database-url", help="default: DATABASE_URL (use CRM_DATABASE_URL for the CRM's)")
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="load a backup file into an EMPTY database")
    restore.add_argument("file", type=Path)
    restore.add_argument("--database-url", help="default: DATABASE_URL")
    restore.set_defaults(run=_restore)

    serve = commands.add_parser("serve", help="run the Booking app and the CRM service")
    serve.add_argument("--workers", type=int, default=None,
                       help="Booking app worker processes (default: 1, or WEB_CONCURRENCY)")
    serve.add_argument("--no-crm", action="store_true", help="do not start the CRM service")
    serve.add_argument("--no-seed", action="store_true", help="do not load demo data")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run only the Booking app, for a supervisor (systemd)")
    worker.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: WEB_CONCURRENCY, else 1; >1 needs REDIS_URL)")
    worker.set_defaults(run=_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        details = getattr(error, "details", None)
        print(f"error: {error.message}" + (f" {details}" if details else ""), file=sys.stderr)
        return 2
