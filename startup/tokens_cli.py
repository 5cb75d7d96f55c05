"""`liandong token create --role ROLE --name NAME | list | revoke ID`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from common.vocabulary import TOKEN_ROLES, Role
from county.roster import load_roster
from database.engine import create_engine, session_factory
from startup.contexts import prepare_database
from startup.settings import Settings
from web.tokens import TokenRepository


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handler: Callable[[argparse.Namespace], int],
) -> None:
    parser = subparsers.add_parser("token", help="API tokens")
    verbs = parser.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="print a new token (shown once; stored hashed)")
    create.add_argument("--role", required=True, choices=[r.value for r in TOKEN_ROLES])
    create.add_argument("--name", required=True, help="who holds it, e.g. '110坐席 张警官'")
    create.add_argument(
        "--phone", help="operators: the desk phone they act from (PJSIP endpoint, e.g. op110-1)"
    )
    create.add_argument(
        "--unit", help="unit staff (role unit, required): the member unit's roster code"
    )
    verbs.add_parser("list", help="list tokens (never their values)")
    revoke = verbs.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    parser.set_defaults(handler=handler)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    await prepare_database(settings.db_url)
    engine = create_engine(settings.db_url)
    try:
        async with session_factory(engine)() as session:
            repo = TokenRepository(session)
            if args.verb == "create":
                args.unit = getattr(args, "unit", None)
                problem = name_problem(args) or unit_problem(args, settings)
                if problem:
                    print(f"liandong token: {problem}", file=sys.stderr)
                    return 2
                issued = await repo.create(
                    args.name.strip(), Role(args.role), phone=args.phone, unit=args.unit
                )
                await session.commit()
                print(issued.plain)
            elif args.verb == "list":
                for row in await repo.list_tokens():
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                    bound = row.phone or row.unit or "-"
                    print(f"{row.id}\t{row.role}\t{row.name}\t{bound}\t{state}")
            else:
                if not await repo.revoke(args.id):
                    print(f"no active token {args.id}")
                    return 1
                await session.commit()
                print(f"token {args.id} revoked")
    finally:
        await engine.dispose()
    return 0


def name_problem(args: argparse.Namespace) -> str | None:
    """Every token names who holds it: the audit trail and the timeline show it."""
    if not args.name.strip():
        return "--name must say who holds the token, e.g. --name '110坐席 张警官'"
    return None


def unit_problem(args: argparse.Namespace, settings: Settings) -> str | None:
    """Unit tokens must name a unit of the roster; other roles must not."""
    if Role(args.role) is not Role.UNIT:
        return "--unit is only for role unit" if args.unit else None
    if not args.unit:
        return "role unit needs --unit <roster code>"
    roster = load_roster(settings.case_config / "units.csv")
    if roster.get(args.unit) is None:
        return f"unit {args.unit!r} is not in the roster ({settings.case_config / 'units.csv'})"
    return None
