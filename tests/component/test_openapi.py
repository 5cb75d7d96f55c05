"""The OpenAPI document (GET /api/v1/openapi.json) against the code.

1. Every route the app registers is documented, and every documented
   operation is a route of the app.
2. The document is valid OpenAPI 3.1, its schemas valid JSON Schema 2020-12,
   every `$ref` resolves, every authenticated operation documents 401.
3. schemathesis fuzzes the real app (no Asterisk; SQLite; an admin token)
   from the document: no 5xx, every status, header and body as documented.
   Bounded: a fixed seed, deterministic generation, the coverage phase plus
   MAX_EXAMPLES generated requests per operation, no stateful phase.
   A bug found and not yet fixed in the server is a strict xfail test named KNOWN BUG
   (it fails once the bug is fixed, so its work-around is dropped then).
4. Known-good requests through a case's life answer as documented, and every
   operation but health answers 401 without a token.

The app runs in a thread of its own on a loopback port, because schemathesis
calls it synchronously (requests) from the test.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestServer
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case

from common.vocabulary import Desk
from database.engine import create_engine, session_factory
from records.core.lifecycle import GIVEN
from server import create_app
from startup.openapi import document
from telephony.core.events import Direction, LegRole
from telephony.storage.tables import BridgeMembership, Call, Leg
from tests.component.cases_kit import case_settings, make_users
from transfer.core.states import By, Reason, TransferMode, TransferState
from transfer.storage.tables import TransferRecord, TransferStep

# Per operation, on top of the coverage phase's deterministic boundary cases.
# LIANDONG_FUZZ_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("LIANDONG_FUZZ_EXAMPLES", "6"))
SEED = 110_12345
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
NOT_FUZZED = "/api/v1/live"  # a WebSocket: schemathesis speaks plain HTTP
CALL_ID = "1764400000.1"
TRANSFER_ID = "t-seeded"


# ------------------------------------------------------------------ the running app


@dataclass
class LiveApp:
    base_url: str
    tokens: dict[str, str]
    session: requests.Session
    case_number: str = ""

    def headers(self, user: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    db_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('openapi')}/api.db"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="openapi-app", daemon=True)
    thread.start()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    tokens = run(make_users(db_url))
    run(seed_calls(db_url))
    server = TestServer(create_app(case_settings(db_url, ladder_interval=0)), host="127.0.0.1")
    run(server.start_server())
    base_url = str(server.make_url("")).rstrip("/")
    session = requests.Session()  # keep-alive: a connection per request costs more
    try:
        app = LiveApp(base_url, tokens, session)
        opened = session.post(
            f"{base_url}/api/v1/cases",
            json={"description": "路灯不亮"},
            headers=app.headers("op12345"),
        )
        app.case_number = opened.json()["number"]
        yield app
    finally:
        session.close()
        run(server.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def seed_calls(db_url: str) -> None:
    """A finished call with two legs and a bridge, and a cancelled transfer of it:
    what the AMI pipeline would have written (there is no Asterisk here)."""
    at = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            session.add(
                Call(
                    id=CALL_ID,
                    trunk=Desk.D12345,
                    caller_number="13912345678",
                    started_at=at,
                    answered_at=at,
                    ended_at=at + timedelta(minutes=3),
                )
            )
            for uid, role, direction, endpoint in (
                (CALL_ID, LegRole.CITIZEN, Direction.INBOUND, None),
                ("1764400000.2", LegRole.OPERATOR_12345, Direction.OUTBOUND, "op12345-1"),
            ):
                session.add(
                    Leg(
                        uniqueid=uid,
                        call_id=CALL_ID,
                        channel=f"PJSIP/{uid}",
                        endpoint=endpoint,
                        role=role,
                        direction=direction,
                        trunk=Desk.D12345,
                        created_at=at,
                        answered_at=at,
                        ended_at=at + timedelta(minutes=3),
                        hangup_cause=16,
                        hangup_cause_text="Normal Clearing",
                        reconciled=False,
                    )
                )
                await session.flush()  # the legs first: bridges refer to them
                session.add(BridgeMembership(bridge_id="b-1", uniqueid=uid, joined_at=at))
            session.add(
                TransferRecord(
                    id=TRANSFER_ID,
                    call_id=CALL_ID,
                    caller_uniqueid=CALL_ID,
                    operator_uniqueid="1764400000.2",
                    target_uniqueid=None,
                    requested_mode=TransferMode.BLIND,
                    mode=TransferMode.BLIND,
                    target="110",
                    state=TransferState.CANCELLED,
                    requested_by=By.API,
                    ring_timeout_s=20,
                    requested_at=at,
                    updated_at=at,
                    ended_at=at,
                )
            )
            for seq, (before, after, event, reason) in enumerate(
                (
                    (None, TransferState.REQUESTED, "Requested", Reason.REQUESTED),
                    (TransferState.REQUESTED, TransferState.CANCELLED, "Cancel", Reason.CANCELLED),
                )
            ):
                session.add(
                    TransferStep(
                        transfer_id=TRANSFER_ID,
                        seq=seq,
                        at=at,
                        from_state=before,
                        to_state=after,
                        event=event,
                        reason=reason.value,
                        mode=TransferMode.BLIND,
                        by=By.API,
                    )
                )
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ 1. routes ↔ document


def app_routes() -> set[tuple[str, str]]:
    """The API's routes: every one under /api/ (the pages, / and /console/…, are not the API)."""
    app = create_app(case_settings("sqlite+aiosqlite:///:memory:"))
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical.startswith("/api/")
    }


def route_pattern(canonical: str) -> re.Pattern[str]:
    """The aiohttp route as a regex: `{name}` takes one path segment."""
    parts = re.split(r"(\{[^}/]+\})", canonical)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def concrete(path: str) -> str:
    """A documented path with each `{param}` replaced by a value that names it."""
    return re.sub(r"\{([^}/]+)\}", r"~\1~", path)


def test_every_route_is_documented_and_every_documented_operation_is_a_route() -> None:
    routes = app_routes()
    patterns = {route: route_pattern(route[1]) for route in routes}
    documented = {
        (method, path)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    }
    served_by: dict[tuple[str, str], tuple[str, str]] = {}
    for method, path in documented:
        matches = [
            route
            for route, pattern in patterns.items()
            if route[0] == method and pattern.fullmatch(concrete(path))
        ]
        assert matches, f"{method.upper()} {path} is documented but no route serves it"
        # The first registered route wins in aiohttp; the document must name the
        # route's own parameters, so a {param} in the document lands on {param}.
        groups = patterns[matches[0]].fullmatch(concrete(path))
        assert groups is not None
        for name, value in groups.groupdict().items():
            literal = not value.startswith("~")  # e.g. "classify" in {command}
            assert literal or value == f"~{name}~", f"{path}: {value} where the route has {name}"
        served_by[(method, path)] = matches[0]
    undocumented = routes - set(served_by.values())
    assert not undocumented, f"routes missing from the document: {sorted(undocumented)}"
    # The one route the document splits into one path per command covers them all.
    moves = {p for (m, p), r in served_by.items() if r[1] == "/api/v1/cases/{number}/{command}"}
    assert moves == {f"/api/v1/cases/{{number}}/{c.value}" for c in GIVEN}


# ------------------------------------------------------------------ 2. a valid document


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document()).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in doc["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    for target in set(refs(doc)):
        node: Any = doc
        for part in target.removeprefix("#/").split("/"):
            node = node[part]  # KeyError: a dangling $ref


def test_every_operation_but_health_needs_a_token_and_documents_its_errors() -> None:
    doc = document()
    # A program's token, or a person's sign-in cookie (people/).
    assert doc["security"] == [{"bearer": []}, {"signIn": []}]
    assert doc["components"]["securitySchemes"]["signIn"]["in"] == "cookie"
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    error = {"$ref": "#/components/schemas/Error"}
    for name, response in doc["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == error, name
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            public = op.get("security") == []
            signing_in = (method, path) == ("post", "/api/v1/session")
            assert public == (path == "/api/v1/health" or signing_in), (method, path)
            assert public or "401" in op["responses"], (method, path)


async def test_the_document_is_served_to_every_role_and_to_nobody_else(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path}/doc.db"
    tokens = await make_users(db_url)
    client = await aiohttp_client(create_app(case_settings(db_url, ladder_interval=0)))
    for user, token in tokens.items():
        async with client.get(
            "/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 200, user
            assert await resp.json() == document()
    async with client.get("/api/v1/openapi.json") as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthorized"


# ------------------------------------------------------------------ 3. fuzzing

# Generated from the document in-process; test_the_document_is_served_to_every_role_...
# proves the app serves this very document.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The admin token goes on every request (below), not fuzzed away.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # Schema-valid is not enough to be accepted: unit, township and category
            # codes must be in the roster and catalogue (400), an admin must name
            # the desk of a new case (400). The schema cannot know the roster.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
DOCUMENT = document()
FUZZED = schemathesis.openapi.from_dict(document(), config=CONFIG).exclude(path=NOT_FUZZED)


def server_errors_are_documented(ctx: Any, response: Response, case: Case[Any]) -> None:
    """`not_a_server_error` where the document names a 5xx (health's 503, a
    transfer's 503): that one is fine; a 500 never is."""
    documented = DOCUMENT["paths"][case.operation.path][case.operation.method.lower()]["responses"]
    if response.status_code >= 500:
        assert response.status_code != 500 and str(response.status_code) in documented


def checks_for(case: Case[Any]) -> tuple[list[CheckFunction], list[CheckFunction]]:
    """(excluded, additional) checks for this operation."""
    responses = DOCUMENT["paths"][case.operation.path][case.operation.method.lower()]["responses"]
    excluded: list[CheckFunction] = []
    additional: list[CheckFunction] = []
    if any(status.startswith("5") for status in responses):
        excluded.append(not_a_server_error)
        additional.append(server_errors_are_documented)
    return excluded, additional


TURNS = itertools.count()


@FUZZED.parametrize()
def test_the_app_answers_as_documented(case: Case[Any], live_app: LiveApp) -> None:
    # Every other request about a case is about one that exists: past the 404,
    # its body meets the validator, the roster and the lifecycle table.
    if "number" in (case.path_parameters or {}) and next(TURNS) % 2:
        case.path_parameters["number"] = live_app.case_number
    excluded, additional = checks_for(case)
    case.call_and_validate(
        base_url=live_app.base_url,
        session=live_app.session,
        headers=live_app.headers(),
        excluded_checks=excluded,
        additional_checks=additional,
    )


def test_405_names_the_allowed_methods(live_app: LiveApp) -> None:
    response = requests.delete(f"{live_app.base_url}/api/v1/units", headers=live_app.headers())
    assert response.status_code == 405
    assert response.headers.get("Allow") == "GET,HEAD"


@pytest.fixture(scope="module")
def api_schema(live_app: LiveApp) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{live_app.base_url}/api/v1/openapi.json", config=CONFIG, headers=live_app.headers()
    )


# ------------------------------------------------------------------ 4. known-good requests


@dataclass
class Caller:
    """Explicit requests through the document's operations, each response validated."""

    schema: schemathesis.BaseSchema
    app: LiveApp

    def __call__(
        self,
        route: str,
        method: str,
        user: str,
        status: int,
        *,
        path: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = NOT_SET,
    ) -> Any:
        case = self.schema[route][method].Case(path_parameters=path, query=query, body=body)
        headers = self.app.headers(user) if user else None
        response = case.call_and_validate(
            base_url=self.app.base_url, session=self.app.session, headers=headers
        )
        assert response.status_code == status, (route, method, user, response.text)
        return response.json()


def test_a_cases_life_answers_as_documented(
    api_schema: schemathesis.BaseSchema, live_app: LiveApp
) -> None:
    call = Caller(api_schema, live_app)
    assert call("/api/v1/calls", "GET", "admin", 200)["calls"]
    call("/api/v1/calls/{call_id}", "GET", "op12345", 200, path={"call_id": CALL_ID})
    call("/api/v1/calls/{call_id}", "GET", "water", 200, path={"call_id": CALL_ID})
    call("/api/v1/transfers", "GET", "supervisor", 200)
    transfer = {"transfer_id": TRANSFER_ID}
    call("/api/v1/transfers/{transfer_id}", "GET", "admin", 200, path=transfer)
    call("/api/v1/transfers/{transfer_id}/complete", "POST", "admin", 409, path=transfer)
    call("/api/v1/units", "GET", "water", 200)
    call("/api/v1/units", "GET", "water", 200, query={"at": "2026-11-29T08:00:00+08:00"})
    body = {"description": "小区停水三天了", "caller_number": "13912345678"}
    number = call("/api/v1/cases", "POST", "op12345", 201, body=body)["number"]
    attach = {"case": number}
    call(
        "/api/v1/calls/{call_id}/case",
        "POST",
        "op12345",
        200,
        path={"call_id": CALL_ID},
        body=attach,
    )
    case = {"number": number}
    call("/api/v1/cases/{number}/suggestion", "GET", "op12345", 200, path=case)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        (
            "classify",
            "op12345",
            {
                "demand_type": "help",
                "route": "hotline",
                "township": "chengguan",
                "address": "城关镇某小区",
            },
        ),
        ("dispatch", "op12345", {"lead_unit": "water", "co_units": ["housing"]}),
        ("sign", "water", {}),
        ("request_extension", "water", {"days": 3, "reason": "等配件"}),
        ("approve_extension", "supervisor", {"note": "同意"}),
        (
            "reply",
            "water",
            {
                "measures": "更换阀门",
                "result": "已恢复供水",
                "handler": "张某某",
                "finished_at": datetime.now(UTC).isoformat(),
                "attachments": [{"name": "现场.jpg", "url": "https://x/1.jpg"}],
            },
        ),
        ("approve_reply", "op12345", {}),
        ("close", "op12345", {}),
        ("follow_up", "op12345", {"satisfaction": 1}),
    ]
    for command, user, data in steps:
        call(f"/api/v1/cases/{{number}}/{command}", "POST", user, 200, path=case, body=data)
    call("/api/v1/cases/{number}/archive", "POST", "water", 403, path=case, body={})
    call("/api/v1/cases/{number}/sign", "POST", "water", 409, path=case, body={})
    seen = call("/api/v1/cases/{number}", "GET", "water", 200, path=case)
    assert seen["caller"]["number"] == "139******78"
    assert [c["id"] for c in seen["calls"]] == [CALL_ID] and seen["calls"][0]["legs"]
    closed = call("/api/v1/cases", "GET", "supervisor", 200, query={"state": "closed"})
    assert number in [c["number"] for c in closed["cases"]]
    call("/api/v1/cases", "GET", "water", 403, query={"caller_number": "139"})


def test_without_a_token_every_operation_but_health_is_a_401(
    api_schema: schemathesis.BaseSchema, live_app: LiveApp
) -> None:
    call = Caller(api_schema, live_app)
    for path, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            public = path == "/api/v1/health" or (method, path) == ("post", "/api/v1/session")
            if method in METHODS and not public:
                names = [p["name"] for p in op.get("parameters", ()) if p["in"] == "path"]
                call(path, method.upper(), "", 401, path=dict.fromkeys(names, "x"))
