"""The desks' supervision figures through the real app: a day of recorded
waits and operator states, read per hour and per operator as a supervisor
would (JSON and the CSV Excel opens), who may read what, and bad queries."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest

from database.engine import create_engine, session_factory
from ivr_flows.core.operators import WRAP_UP_REASON, OperatorState
from ivr_flows.core.waits import WaitOutcome
from ivr_flows.http import DESKS
from ivr_flows.storage.tables import OperatorPeriod, QueueWait
from startup.openapi import document
from tests.component.cases_kit import CaseApi, start_desk

TZ = ZoneInfo("Asia/Shanghai")
DAY = "from=2026-03-02&to=2026-03-03"
A, AB, L = WaitOutcome.ANSWERED, WaitOutcome.ABANDONED, WaitOutcome.LEFT


def county(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=TZ)


def queue_wait(
    uid: str,
    joined: datetime,
    outcome: WaitOutcome,
    after_s: float,
    *,
    n: int = 1,
    desk: str = "110",
    via: str = "citizen",
    operator: str | None = None,
    talk_s: int | None = None,
) -> QueueWait:
    end = joined + timedelta(seconds=after_s)
    return QueueWait(
        id=f"{uid}#{n}",
        call_id=f"call-{uid}",
        uniqueid=uid,
        desk=desk,
        via=via,
        priority=0,
        position=1,
        outcome=outcome,
        joined_at=joined,
        left_at=end,
        answered_at=end if outcome is A else None,
        operator=operator,
        talk_s=talk_s,
        ended_by="caller" if outcome is A else None,
    )


def state(
    phone: str, desk: str, st: OperatorState, start: datetime, end: datetime, reason: str = ""
) -> OperatorPeriod:
    return OperatorPeriod(
        phone=phone, desk=desk, state=st, reason=reason, started_at=start, ended_at=end
    )


def day_of_waits() -> list[QueueWait]:
    return [
        queue_wait("w1", county(9, 0, 5), A, 8, operator="op110-1", talk_s=120),
        queue_wait("w2", county(9, 10), A, 15, operator="op110-2", talk_s=60),  # 15 s: in time
        queue_wait("w3", county(9, 20), AB, 40),
        queue_wait("w4", county(9, 30), A, 20, via="transfer", operator="op110-1", talk_s=30),
        # Overflowed after 30 s (nobody logged in), back in line 20 s later, answered.
        queue_wait("x", county(10, 0), L, 30),
        queue_wait("x", county(10, 0, 50), A, 5, n=2, operator="op110-2", talk_s=10),
        queue_wait("w5", county(23, 59, 50), A, 12, operator="op110-2", talk_s=10),  # past midnight
        queue_wait("w6", county(9, 5), A, 3, desk="12345", operator="op12345-1", talk_s=200),
        queue_wait("w7", county(0, 0, 0, day=3), A, 3),  # the next day: not in DAY
        # Two days later: answered at 110, then handed to 12345 through its queue.
        queue_wait("t", county(11, day=4), A, 4, operator="op110-1", talk_s=5),
        queue_wait(
            "t",
            county(11, 5, day=4),
            A,
            6,
            n=2,
            desk="12345",
            via="transfer",
            operator="op12345-1",
            talk_s=50,
        ),
    ]


def day_of_states() -> list[OperatorPeriod]:
    return [
        state("op110-1", "110", OperatorState.IDLE, county(8), county(9)),
        state("op110-1", "110", OperatorState.PAUSED, county(9), county(9, 15), "小休"),
        state(
            "op110-1", "110", OperatorState.WRAP_UP, county(9, 15), county(9, 16), WRAP_UP_REASON
        ),
        state("op110-1", "110", OperatorState.LOGGED_OUT, county(9, 16), county(10)),
        state("op12345-1", "12345", OperatorState.PAUSED, county(9), county(10), "培训"),
    ]


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    db_url = f"sqlite+aiosqlite:///{tmp_path}/desks.db"
    api = await start_desk(aiohttp_client, db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            # Fresh rows for each test's database.
            session.add_all([*day_of_waits(), *day_of_states()])
    finally:
        await engine.dispose()
    api.client.app[DESKS].clock = lambda: county(12, day=20)
    return api


async def get(desk: CaseApi, path: str, user: str = "supervisor", status: int = 200) -> Any:
    got, body = await desk.request("GET", path, user)
    assert got == status, body
    return body


async def get_csv(desk: CaseApi, path: str, user: str = "supervisor") -> tuple[str, str]:
    headers = {"Authorization": f"Bearer {desk.tokens[user]}"}
    async with desk.client.get(path, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "text/csv"
        disposition = resp.headers["Content-Disposition"]
        raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel and WPS read the Chinese
    return disposition, raw.decode("utf-8-sig")


def of(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in body["desks"] if d["desk"] == name)


def hour(table: dict[str, Any], county_hour: int) -> dict[str, Any]:
    start = county(county_hour).astimezone(ZoneInfo("UTC")).isoformat()[:19]
    return next(h for h in table["hours"] if h["start"].startswith(start))


async def test_a_day_per_desk_and_hour_against_the_countys_targets(desk: CaseApi) -> None:
    body = await get(desk, f"/api/v1/supervision/desks?{DAY}")
    assert body["targets"] == {
        "answer_within_s": 15,
        "connection_rate": 0.95,
        "service_level": 0.95,
    }
    d110 = of(body, "110")
    assert len(d110["hours"]) == 24  # every county hour, the quiet ones too
    nine = hour(d110, 9)
    assert nine["end"].startswith(county(10).astimezone(ZoneInfo("UTC")).isoformat()[:19])
    assert (nine["offered"], nine["answered"], nine["answered_within_target"]) == (4, 3, 2)
    assert (nine["abandoned"], nine["left"], nine["longest_wait_s"]) == (1, 0, 40)
    assert nine["average_wait_s"] == round((8 + 15 + 40 + 20) / 4, 1)
    assert nine["connection_rate"] == 0.75 and nine["service_level"] == 0.5
    assert nine["connection_rate_met"] is False
    # The caller who overflowed and came back: one offer, answered 55 s after joining.
    ten = hour(d110, 10)
    assert (ten["offered"], ten["answered"], ten["answered_within_target"]) == (1, 1, 0)
    assert ten["longest_wait_s"] == 55 and ten["left"] == 0
    # Joined at 23:59:50, answered after midnight: the 23:00 hour's.
    assert hour(d110, 23)["answered_within_target"] == 1
    quiet = hour(d110, 3)
    assert quiet["offered"] == 0 and quiet["connection_rate"] is None
    assert quiet["connection_rate_met"] is None
    total = d110["total"]
    assert (total["offered"], total["answered"], total["answered_within_target"]) == (6, 5, 3)
    assert total["connection_rate"] == round(5 / 6, 4) and total["service_level"] == 0.5
    assert (total["connection_rate_met"], total["service_level_met"]) == (False, False)
    assert total["offered_by_via"] == {"citizen": 5, "transfer": 1}
    d12345 = of(body, "12345")["total"]
    assert d12345["offered"] == 1 and d12345["service_level_met"] is True
    # The default period is this month (the desks' clock says 20 March).
    default = await get(desk, "/api/v1/supervision/desks")
    assert (
        default["from"] == "2026-02-28T16:00:00.000Z"
        and default["to"] == "2026-03-31T16:00:00.000Z"
    )
    assert of(default, "110")["total"]["offered"] == 8  # and the later days' callers
    transferred = await get(desk, "/api/v1/supervision/desks?from=2026-03-04&to=2026-03-05")
    assert of(transferred, "12345")["total"]["offered_by_via"] == {"transfer": 1}
    assert of(transferred, "110")["total"]["offered"] == 1


async def test_each_operator_answered_talked_and_paused(desk: CaseApi) -> None:
    body = await get(desk, f"/api/v1/supervision/operators?{DAY}")
    assert body["pause_reasons"] == ["小休", "培训", "话后整理", WRAP_UP_REASON]
    rows = {row["phone"]: row for row in body["operators"]}
    assert list(rows) == ["op110-1", "op110-2", "op12345-1", "op12345-2"]
    one = rows["op110-1"]
    assert (one["answered"], one["talk_s"], one["average_talk_s"]) == (2, 150, 75)
    assert one["logged_in_s"] == 3600 + 900 + 60 and one["idle_s"] == 3600
    assert one["paused_s"] == 960
    pauses = {p["reason"]: p["seconds"] for p in one["pauses"]}
    assert pauses == {"小休": 900, "培训": 0, "话后整理": 0, WRAP_UP_REASON: 60}
    assert rows["op110-2"]["answered"] == 3 and rows["op110-2"]["logged_in_s"] == 0
    assert rows["op12345-1"]["pauses"][1] == {"reason": "培训", "seconds": 3600}
    total = body["total"]
    assert total["phone"] is None and total["answered"] == 6  # the desks' answered, added up
    only_12345 = await get(desk, f"/api/v1/supervision/operators?{DAY}&desk=12345")
    assert [r["phone"] for r in only_12345["operators"]] == ["op12345-1", "op12345-2"]
    assert only_12345["total"]["answered"] == 1
    # A caller handed on to the other desk: each desk's operator answered once.
    for name, phone in (("110", "op110-1"), ("12345", "op12345-1")):
        later = await get(
            desk, f"/api/v1/supervision/operators?from=2026-03-04&to=2026-03-05&desk={name}"
        )
        answered = {r["phone"]: r["answered"] for r in later["operators"] if r["answered"]}
        assert answered == {phone: 1}, (name, later)


async def test_the_csv_files_read_as_a_supervisor_expects(desk: CaseApi) -> None:
    disposition, text = await get_csv(desk, f"/api/v1/supervision/desks?{DAY}&format=csv")
    assert disposition == 'attachment; filename="desk-figures-20260302-20260303.csv"'
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 * 25  # each desk: 24 hours and its total
    nine = next(r for r in rows if r["受理台"] == "110" and r["时段"] == "09:00-10:00")
    assert nine["日期"] == "2026-03-02" and nine["呼入量"] == "4" and nine["15秒内接通量"] == "2"
    assert nine["接通率(%)"] == "75.0" and nine["15秒接通率(%)"] == "50.0"
    assert nine["接通率达标"] == "否" and nine["放弃量"] == "1" and nine["最长等待(秒)"] == "40.0"
    assert next(r for r in rows if r["时段"] == "23:00-24:00")["接通量"] == "1"
    total = next(r for r in rows if r["受理台"] == "110" and r["日期"] == "合计")
    assert total["时段"] == "2026-03-02 00:00 至 2026-03-03 00:00"
    assert (
        total["呼入量"] == "6" and total["接通率(%)"] == "83.3" and total["15秒接通率达标"] == "否"
    )
    # Figures only: no call, channel or wait of anyone in the file.
    assert "call-" not in text and "w1" not in text and "#" not in text
    disposition, text = await get_csv(
        desk, f"/api/v1/supervision/operators?{DAY}&desk=110&format=csv"
    )
    assert 'filename="operator-figures-110-20260302-20260303.csv"' in disposition
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["坐席话机"] for r in rows] == ["op110-1", "op110-2", "合计"]
    assert rows[0]["暂停-小休(秒)"] == "900.0" and rows[0][f"暂停-{WRAP_UP_REASON}(秒)"] == "60.0"
    assert rows[0]["接通量"] == "2" and rows[0]["通话时长(秒)"] == "150"
    assert rows[-1]["接通量"] == "5"


async def test_every_role_against_the_figures(desk: CaseApi) -> None:
    for user in ("supervisor", "admin"):
        both = await get(desk, f"/api/v1/supervision/desks?{DAY}", user)
        assert [d["desk"] for d in both["desks"]] == ["110", "12345"]
        await get(desk, f"/api/v1/supervision/operators?{DAY}", user)
    # An operator reads their own desk's figures, whatever they ask for.
    for user, own in (("op110", "110"), ("op12345", "12345")):
        for query in (DAY, f"{DAY}&desk=110", f"{DAY}&desk=12345"):
            body = await get(desk, f"/api/v1/supervision/desks?{query}", user)
            assert body["desk"] == own and [d["desk"] for d in body["desks"]] == [own]
        # Their colleagues' pauses and talk times are the supervisors' business.
        await get(desk, f"/api/v1/supervision/operators?{DAY}", user, 403)
    for unit in ("water", "housing"):
        await get(desk, f"/api/v1/supervision/desks?{DAY}", unit, 403)
        await get(desk, f"/api/v1/supervision/operators?{DAY}", unit, 403)
    got, _ = await desk.request("GET", "/api/v1/supervision/desks", "admin")
    assert got == 200
    async with desk.client.get("/api/v1/supervision/desks") as resp:
        assert resp.status == 401


async def test_bad_queries_are_refused_naming_the_field(desk: CaseApi) -> None:
    for query, name in (
        ("desks?from=yesterday", "from"),
        ("desks?from=2026-02-30", "from"),
        ("operators?to=2026-03-01T00:00:00", "to"),  # no offset
        ("desks?from=2026-03-03&to=2026-03-02", "to"),
        ("desks?from=2025-01-01&to=2026-03-01", "to"),  # over 366 days: every hour is a row
        ("operators?from=2025-01-01", "from"),  # to defaults to next month: too long
        ("desks?desk=119", "desk"),
        ("operators?format=xlsx", "format"),
        ("desks?operator=op110-1", "operator"),
    ):
        error = (await get(desk, f"/api/v1/supervision/{query}", status=400))["error"]
        assert error["details"] == {"field": name}, (query, error)
    year = await get(desk, "/api/v1/supervision/desks?from=2025-03-02&to=2026-03-03&desk=110")
    assert len(of(year, "110")["hours"]) == 366 * 24


async def test_the_json_bodies_match_the_openapi_document(desk: CaseApi) -> None:
    doc = document()
    for path, schema in (("desks", "DeskFigures"), ("operators", "OperatorFiguresList")):
        route = f"/api/v1/supervision/{path}"
        ok = doc["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": f"#/components/schemas/{schema}"}
        validator = jsonschema_rs.Draft202012Validator(
            {"$ref": f"#/components/schemas/{schema}", "components": doc["components"]}
        )
        for query in (DAY, "from=2026-03-05&to=2026-03-06"):  # a day with figures, one without
            body = await get(desk, f"{route}?{query}")
            errors = [str(e) for e in validator.iter_errors(body)]
            assert not errors, (path, query, errors[:3])
