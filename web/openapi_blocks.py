"""OpenAPI building blocks every feature's document part is made of, and the
error shape. Each feature writes its own response shapes down beside its
handlers (telephony/openapi.py, transfer/openapi.py, records/openapi.py).

Response objects are closed (`additionalProperties: false`): a field added in
the code and not here fails tests/component/test_openapi.py, so the document
cannot drift from the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
STRINGS: Schema = {"type": "array", "items": STRING}


def ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (OpenAPI 3.1: JSON Schema type lists)."""
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def enum_of(values: type[StrEnum] | Iterable[str], description: str = "") -> Schema:
    schema: Schema = {"type": "string", "enum": [str(v) for v in values]}
    if description:
        schema["description"] = description
    return schema


def obj(properties: dict[str, Schema], *, optional: Iterable[str] = (), **extra: Any) -> Schema:
    """A closed object: every property required unless named in `optional`."""
    skip = set(optional)
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in skip],
        "additionalProperties": False,
        **extra,
    }


def json_content(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def response(description: str, schema: Schema | None = None) -> Schema:
    out: Schema = {"description": description}
    if schema is not None:
        out["content"] = json_content(schema)
    return out


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    ok: dict[str, Schema],
    errors: Iterable[int] = (),
    parameters: Iterable[Schema] = (),
    body: Schema | None = None,
    description: str = "",
    public: bool = False,
) -> Schema:
    """One operation; every one but the public ones also answers 401."""
    statuses = sorted({*errors, *(() if public else (401,))})
    out: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {**ok, **{str(s): ref(ERRORS[s][0], "responses") for s in statuses}},
    }
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = list(parameters)
    if body is not None:
        out["requestBody"] = body
    if public:
        out["security"] = []
    return out


def path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": STRING,
        "description": description,
    }


def query_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def empty_means_absent(paths: dict[str, dict[str, Any]]) -> None:
    """Mark flag, number and time query parameters `allowEmptyValue`: the
    parsers every handler uses for them (telephony/http.py) take `?name=` as
    not given."""
    for item in paths.values():
        for op in item.values():
            for param in op.get("parameters", ()) if isinstance(op, dict) else ():
                schema = param.get("schema", {})
                parsed = schema.get("type") in ("boolean", "integer")
                if param.get("in") == "query" and (parsed or schema.get("format") == "date-time"):
                    param["allowEmptyValue"] = True


# ------------------------------------------------------------------ errors

ERROR = obj(
    {
        "error": obj(
            {
                "code": {**STRING, "description": "stable, machine-readable (snake_case)"},
                "message": {**STRING, "description": "for people; may change"},
                "details": {
                    "type": "object",
                    "description": 'e.g. {"field": "limit"} or {"allowed": [...]}',
                },
            }
        )
    },
    description="Every error: web/errors.py",
)

# status → (component name, description)
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "A parameter or the body is malformed; `details.field` names it."),
    401: (
        "Unauthorized",
        "No `Authorization: Bearer <token>` header nor sign-in cookie, or an unknown token, or "
        "a sign-in that has ended (`details.reason`).",
    ),
    403: ("Forbidden", "This role (or this user's desk phone / unit) may not do this."),
    404: ("NotFound", "No such resource."),
    409: ("Conflict", "The resource is not in a state that allows this now."),
    429: ("TooManyRequests", "Too many tries; `details` says until when."),
    503: ("Unavailable", "Asterisk is not reachable, or the resource is being reconciled."),
}


def error_responses() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for status, (name, description) in ERRORS.items():
        response: Schema = {"description": description, "content": json_content(ref("Error"))}
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"required": True, "schema": {"const": "Bearer"}}
            }
        out[name] = response
    return out


# ------------------------------------------------------------------ common parameters

LIMIT = query_param("limit", {**INTEGER, "minimum": 1, "maximum": 1000}, "at most; default 100")
SINCE = query_param("since", TIME, "at or after (ISO 8601 with a UTC offset)")
CALL_ID = path_param("call_id", "the call (Asterisk Linkedid)")
