"""The JSON shapes of accounts and sign-ins (never a password hash or a cookie)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.instants import iso
from common.principal import Principal
from people.storage.tables import User


def user_json(user: User, now: datetime) -> dict[str, Any]:
    locked = (
        user.locked_until if user.locked_until is not None and now < user.locked_until else None
    )
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "role": user.role.value,
        "phone": user.phone,
        "unit": user.unit,
        "created_at": iso(user.created_at),
        "created_by": user.created_by,
        "disabled_at": iso(user.disabled_at),
        "locked_until": iso(locked),
        "last_sign_in_at": iso(user.last_sign_in_at),
    }


def session_json(
    principal: Principal,
    *,
    login: str | None = None,
    csrf_token: str | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """Who is asking: a person's sign-in (with the page's CSRF token) or a program's token."""
    person = principal.sign_in_id is not None
    return {
        "kind": "sign-in" if person else "token",
        "user_id": principal.user_id,
        "login": login,
        "name": principal.name,
        "role": principal.role.value,
        "phone": principal.phone,
        "unit": principal.unit,
        "csrf_token": csrf_token,
        "expires_at": iso(expires_at),
    }
