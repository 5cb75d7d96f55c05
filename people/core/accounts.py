"""What makes an account: its login, its role's binding, its password.

Every check answers with the problem in words a person can act on (None: no
problem); the command line and the admin API show the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.vocabulary import TOKEN_ROLES, Role

# A login is typed on a phone's keyboard at night: short, lower case, no spaces.
LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # a longer one is no stronger; don't hash megabytes for it
OPERATORS = frozenset({Role.OPERATOR_110, Role.OPERATOR_12345})


@dataclass(frozen=True)
class AccountDraft:
    """An account as an admin asks for it, before it is checked."""

    login: str
    name: str
    role: Role
    phone: str | None = None  # operators: the desk phone they act from
    unit: str | None = None  # unit staff: the member unit's roster code


def login_problem(login: str) -> str | None:
    if not LOGIN.fullmatch(login):
        return (
            f"login {login!r} must be 2 to 64 characters: lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (e.g. zhang110)"
        )
    return None


def draft_problem(draft: AccountDraft, units: frozenset[str]) -> tuple[str, str] | None:
    """What is wrong with an account as asked for, as (the field, why); `units`
    are the roster's codes."""
    if problem := login_problem(draft.login):
        return "login", problem
    if not draft.name.strip():
        return "name", "name must say who the person is, e.g. '110坐席 张警官' (timelines show it)"
    if draft.role not in TOKEN_ROLES:
        return "role", f"role {draft.role.value!r} is not a person's role"
    if draft.role is Role.UNIT:
        if not draft.unit:
            return "unit", "role unit needs a unit (its roster code, e.g. water)"
        if draft.unit not in units:
            return "unit", f"unit {draft.unit!r} is not in the roster (units.csv)"
    elif draft.unit:
        return "unit", "a unit is only for role unit"
    if draft.phone is not None and draft.role not in OPERATORS:
        return "phone", "a desk phone is only for the operator roles"
    if draft.role in OPERATORS and not draft.phone:
        return "phone", "an operator needs a desk phone (its PJSIP endpoint, e.g. op110-1)"
    return None


def password_problem(password: str, login: str) -> str | None:
    """A password a person chooses: long enough, and not one a guesser tries first."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password must have at most {MAX_PASSWORD} characters"
    if password.isdigit():
        return "the password must not be digits only"
    if login and login.lower() in password.lower():
        return "the password must not contain the login"
    if len(set(password)) < 4:
        return "the password must not repeat so few characters"
    return None


def disabling_problem(role: Role, yourself: bool, enabled_admins: int) -> str | None:
    """Why an admin may not disable this account from the API: themselves
    (another admin can), or the last admin who could undo it. The command
    line, run by whoever holds the server, is not held back by either."""
    if yourself:
        return "an admin cannot disable their own account (another admin can)"
    if role is Role.ADMIN and enabled_admins <= 1:
        return "the last enabled admin cannot be disabled: make another admin first"
    return None
