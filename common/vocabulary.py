"""The words for the two desks and for who acts, defined once for every part
of the server: calls (the trunk a citizen called), transfers (the desk a
caller is handed to), cases (the desk that holds one, who moved it) and the
API (the role a token carries). Pure: no I/O.

Values are what is stored and sent over the API; they never change. The
order of the members is kept too: it shows in the API document's enums, the
command line's choices and the tables' CHECK constraints.
"""

from __future__ import annotations

from enum import StrEnum


class Desk(StrEnum):
    """The 110 police desk and the 12345 government hotline: the trunk a
    citizen called, the desk holding a case, a transfer's target desk."""

    D110 = "110"
    D12345 = "12345"

    @property
    def other(self) -> Desk:
        """The desk a caller or a case is handed over to from this one."""
        return Desk.D12345 if self is Desk.D110 else Desk.D110


class Role(StrEnum):
    """Who acts: a token's role, or the server itself (SYSTEM)."""

    OPERATOR_110 = "operator_110"
    OPERATOR_12345 = "operator_12345"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # The server itself: the supervisor ladder, a case cancelled because the
    # caller hung up before anyone answered. No token ever carries it.
    SYSTEM = "system"


# The roles an API token may carry: all but SYSTEM, in the order the command
# line offers them (`liandong token create --role`).
TOKEN_ROLES = (Role.ADMIN, Role.OPERATOR_110, Role.OPERATOR_12345, Role.SUPERVISOR, Role.UNIT)

# The desks' operators, and the desk each one answers for.
DESK_ROLES = (Role.OPERATOR_110, Role.OPERATOR_12345)
ROLE_DESK = {Role.OPERATOR_110: Desk.D110, Role.OPERATOR_12345: Desk.D12345}
DESK_ROLE = {desk: role for role, desk in ROLE_DESK.items()}
