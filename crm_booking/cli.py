"""Admin commands: `python -m crm_booking <command>`.

  migrate                      bring the database schema to the newest migration
  seed                         load the demo data (idempotent) and print the demo logins
  create-user                  create an account with any role
  promote                      give an existing account the facilitator (or admin) role
  build-frontend               compile the Reflex UI when its sources changed
  serve                        run the Booking app (:5000) and the CRM service (:5001)
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from crm_booking.errors import DomainError
from crm_booking.models import Role


def _migrate(_: argparse.Namespace) -> int:
    from crm_booking.launcher import migrate

    migrate()
    print("Database is at the newest migration.")
    return 0


def _seed(_: argparse.Namespace) -> int:
    from crm_booking.demo import DEMO_LOGINS, load_demo_data

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

    serve = commands.add_parser("serve", help="run the Booking app and the CRM service")
    serve.add_argument("--workers", type=int, default=None,
                       help="Booking app worker processes (default: 1, or WEB_CONCURRENCY)")
    serve.add_argument("--no-crm", action="store_true", help="do not start the CRM service")
    serve.add_argument("--no-seed", action="store_true", help="do not load demo data")
    serve.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except DomainError as error:
        details = getattr(error, "details", None)
        print(f"error: {error.message}" + (f" {details}" if details else ""), file=sys.stderr)
        return 2
