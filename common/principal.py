"""Who is asking: the holder of a token, or a person signed in to the pages, with
the role, desk phone or unit they carry, and what that holder may read of a
caller (masking, common/masking.py). Pure: the web builds one per request
(web/auth.py); the shapes of every feature mask their output with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from common.masking import masked
from common.vocabulary import Role

# Member units and the supervision bureau work on cases, not on who called:
# they see caller numbers masked. Desks and admins see them whole.
MASKED_ROLES = frozenset({Role.UNIT, Role.SUPERVISOR})


class Credential(NamedTuple):
    """A bearer token or a person's sign-in, by its id: what a revocation ends."""

    kind: str  # "token" | "sign-in"
    id: int

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True)
class Principal:
    token_id: int | None  # a program's bearer token; None for a person signed in
    name: str
    role: Role
    phone: str | None = None  # operators: the desk phone they act from
    unit: str | None = None  # unit staff: the member unit (roster code) they act for
    user_id: int | None = None  # a person's account (people/), signed in as `sign_in_id`
    sign_in_id: int | None = None

    @property
    def credential(self) -> Credential:
        """What the request came with: a token or a sign-in (logs name this, never the person)."""
        if self.sign_in_id is not None:
            return Credential("sign-in", self.sign_in_id)
        return Credential("token", self.token_id or 0)

    @property
    def sees_full_numbers(self) -> bool:
        return self.role not in MASKED_ROLES

    def shown(self, value: dict[str, Any], *, anonymous: bool = False) -> dict[str, Any]:
        """`value` (a whole output: a call, a case, a live event) as this
        principal may read it: masked for the masked roles (common/masking.py)."""
        return value if self.sees_full_numbers else masked(value, anonymous=anonymous)
