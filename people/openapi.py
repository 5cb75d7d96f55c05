"""People's sign-in and accounts in OpenAPI: the paths of people/http.py and
the shapes of people/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from common.vocabulary import TOKEN_ROLES
from people.core.accounts import MAX_PASSWORD, MIN_PASSWORD
from web.openapi_blocks import (
    INTEGER,
    STRING,
    TIME,
    Schema,
    enum_of,
    json_content,
    nullable,
    obj,
    operation,
    path_param,
    ref,
    response,
)

_ROLE = enum_of([r.value for r in TOKEN_ROLES])
_PASSWORD = {
    **STRING,
    "minLength": MIN_PASSWORD,
    "maxLength": MAX_PASSWORD,
    "description": "not digits only, not containing the login",
}

PEOPLE_SCHEMAS: dict[str, Schema] = {
    "Session": obj(
        {
            "kind": enum_of(["sign-in", "token"], "a person signed in, or a program's token"),
            "user_id": nullable(INTEGER),
            "login": nullable(STRING),
            "name": STRING,
            "role": _ROLE,
            "phone": nullable(STRING),
            "unit": nullable(STRING),
            "csrf_token": nullable(
                {**STRING, "description": "send it as X-CSRF-Token with every change"}
            ),
            "expires_at": nullable(TIME),
        }
    ),
    "User": obj(
        {
            "id": INTEGER,
            "login": STRING,
            "name": STRING,
            "role": _ROLE,
            "phone": nullable(STRING),
            "unit": nullable(STRING),
            "created_at": TIME,
            "created_by": {**STRING, "description": '"cli", "user <id>" or "token <id>"'},
            "disabled_at": nullable(TIME),
            "locked_until": nullable(TIME),
            "last_sign_in_at": nullable(TIME),
        }
    ),
    "Users": obj({"users": {"type": "array", "items": ref("User")}}),
}

_SIGN_IN_BODY = {
    "required": True,
    "content": json_content(obj({"login": STRING, "password": STRING})),
}
_NEW_USER_BODY = {
    "required": True,
    "content": json_content(
        obj(
            {
                "login": {**STRING, "pattern": "^[a-z0-9][a-z0-9._-]{1,63}$"},
                "name": STRING,
                "role": _ROLE,
                "phone": nullable({**STRING, "description": "operators (required for them)"}),
                "unit": nullable({**STRING, "description": "role unit (required): roster code"}),
                "password": _PASSWORD,
            },
            optional=("phone", "unit"),
        )
    ),
}
_PASSWORD_BODY = {"required": True, "content": json_content(obj({"password": _PASSWORD}))}
ADMIN = "Role: admin."


def paths() -> dict[str, dict[str, Any]]:
    user_id = path_param("id", "the user's id")
    changes = {
        "disable": "can no longer sign in; their pages and live feeds close at once",
        "enable": "can sign in again",
        "unlock": "lifts a lock-out after wrong passwords",
    }
    out: dict[str, dict[str, Any]] = {
        "/api/v1/session": {
            "get": operation(
                "getSession",
                "Who is asking: the person signed in (with the page's CSRF token) or the token",
                tag="people",
                ok={"200": response("Every role.", ref("Session"))},
            ),
            "post": operation(
                "signIn",
                "Sign a person in: sets the HttpOnly, SameSite=Strict cookie the pages use",
                tag="people",
                ok={"201": response("Signed in; the cookie is set.", ref("Session"))},
                errors=(400, 401, 403, 429, 503),
                body=_SIGN_IN_BODY,
                public=True,
                description="401 sign_in_failed: wrong login or password (never which). "
                "429 locked: five wrong passwords within 15 minutes lock the account for 15 "
                "minutes (`details.locked_until`). 403 account_disabled, or csrf_failed when "
                "the browser's Origin is not this server's. 503 busy: more sign-ins at once "
                "than the server checks passwords for (two running, 16 waiting); Retry-After.",
            ),
            "delete": operation(
                "signOut",
                "Sign out: the sign-in ends and its live feeds close",
                tag="people",
                ok={"204": response("Signed out; the cookie is cleared.")},
                errors=(403, 409),
                description="With the cookie (and X-CSRF-Token). 409: a token cannot sign out.",
            ),
        },
        "/api/v1/users": {
            "get": operation(
                "listUsers",
                "People's accounts (never a password)",
                tag="people",
                ok={"200": response("Oldest first.", ref("Users"))},
                errors=(403,),
                description=ADMIN,
            ),
            "post": operation(
                "createUser",
                "Make a person's account",
                tag="people",
                ok={"201": response("Made.", ref("User"))},
                errors=(400, 403),
                body=_NEW_USER_BODY,
                description=ADMIN + " 400 names the field (a login taken, a unit not in the "
                "roster, an operator without a desk phone, a weak password).",
            ),
        },
        "/api/v1/users/{id}/password": {
            "post": operation(
                "setUserPassword",
                "Set a person's password: their sign-ins end",
                tag="people",
                ok={"200": response("Changed.", ref("User"))},
                errors=(400, 403, 404),
                parameters=[user_id],
                body=_PASSWORD_BODY,
                description=ADMIN,
            )
        },
    }
    for verb, what in changes.items():
        out[f"/api/v1/users/{{id}}/{verb}"] = {
            "post": operation(
                f"{verb}User",
                f"The person {what}",
                tag="people",
                ok={"200": response("Done (doing it twice is no error).", ref("User"))},
                errors=(403, 404, 409) if verb == "disable" else (403, 404),
                parameters=[user_id],
                description=ADMIN
                + (
                    " 409: an admin's own account, or the last enabled admin "
                    "(`liandong user disable` on the server can)."
                    if verb == "disable"
                    else ""
                ),
            )
        }
    return out
