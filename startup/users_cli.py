"""`liandong user create | list | disable | enable | unlock | password`: people's
accounts for the pages, made by an administrator on the server's machine.

A password is read twice without echo from the terminal, or once from
standard input with --password-stdin (for scripts); never from the command
line, where `ps` and the shell's history would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from common.vocabulary import TOKEN_ROLES, Role
from county.roster import load_roster
from database.engine import create_engine, session_factory
from people.core.accounts import AccountDraft
from people.service.accounts import AccountProblem, AccountService, NoSuchUser
from people.storage.tables import User
from startup.contexts import prepare_database
from startup.settings import Settings

_CHANGES = {
    "disable": "can no longer sign in; their pages and live feeds are closed",
    "enable": "can sign in again",
    "unlock": "is unlocked",
}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handler: Callable[[argparse.Namespace], int],
) -> None:
    parser = subparsers.add_parser("user", help="people's accounts for the pages")
    verbs = parser.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="make an account (the password is asked for)")
    create.add_argument("--login", required=True, help="what they type to sign in, e.g. zhang110")
    create.add_argument("--name", required=True, help="who they are, e.g. '110坐席 张警官'")
    create.add_argument("--role", required=True, choices=[r.value for r in TOKEN_ROLES])
    create.add_argument("--phone", help="operators: the desk phone they act from, e.g. op110-1")
    create.add_argument("--unit", help="role unit: the member unit's roster code")
    create.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    verbs.add_parser("list", help="list accounts (never their passwords)")
    for verb, what in _CHANGES.items():
        change = verbs.add_parser(verb, help=f"the person {what}")
        change.add_argument("login")
    password = verbs.add_parser("password", help="set a new password (their sign-ins end)")
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    parser.set_defaults(handler=handler)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    await prepare_database(settings.db_url)
    engine = create_engine(settings.db_url)
    roster = load_roster(settings.case_config / "units.csv")
    accounts = AccountService(session_factory(engine), lambda: frozenset(roster.units))
    try:
        return await _verb(args, accounts)
    except (AccountProblem, NoSuchUser, PasswordNotGiven) as problem:
        print(f"liandong user: {problem}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


async def _verb(args: argparse.Namespace, accounts: AccountService) -> int:
    if args.verb == "list":
        for user in await accounts.users():
            print(_line(user))
        return 0
    if args.verb == "create":
        draft = AccountDraft(args.login, args.name, Role(args.role), args.phone, args.unit)
        user = await accounts.create(draft, _password(args), created_by="cli")
        print(f"user {user.id} created: {user.login} ({user.role.value})")
        return 0
    user = await accounts.find(args.login)
    if args.verb == "password":
        await accounts.set_password(user.id, _password(args))
        print(f"{user.login}: password changed; their sign-ins have ended")
        return 0
    await getattr(accounts, args.verb)(user.id)
    print(f"{user.login} {_CHANGES[args.verb]}")
    return 0


class PasswordNotGiven(ValueError):
    pass


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise PasswordNotGiven("no terminal to ask the password on: use --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise PasswordNotGiven("the two passwords differ")
    return first


def _line(user: User) -> str:
    now = datetime.now(UTC)
    if user.disabled_at is not None:
        state = f"disabled {user.disabled_at:%Y-%m-%d}"
    elif user.locked_until is not None and user.locked_until > now:
        state = f"locked until {user.locked_until:%H:%M} UTC"
    else:
        state = "active"
    bound = user.phone or user.unit or "-"
    return f"{user.id}\t{user.login}\t{user.role.value}\t{user.name}\t{bound}\t{state}"
