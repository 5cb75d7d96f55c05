"""Who is asking: the holder of a token, with the role, desk phone or unit it
carries, and what that holder may read of a caller (masking, common/masking.py).
Pure: the web builds one per request (web/auth.py); the shapes of every feature
mask their output with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.masking import masked
from common.vocabulary import Role

# Member units and the supervision bureau work on cases, not on who called:
# they see caller numbers masked. Desks and admins see them whole.
MASKED_ROLES = frozenset({Role.UNIT, Role.SUPERVISOR})


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: Role
    phone: str | None = None  # operators: the desk phone they act from
    unit: str | None = None  # unit staff: the member unit (roster code) they act for

    @property
    def sees_full_numbers(self) -> bool:
        return self.role not in MASKED_ROLES

    def shown(self, value: dict[str, Any], *, anonymous: bool = False) -> dict[str, Any]:
        """`value` (a whole output: a call, a case, a live event) as this
        principal may read it: masked for the masked roles (common/masking.py)."""
        return value if self.sees_full_numbers else masked(value, anonymous=anonymous)
