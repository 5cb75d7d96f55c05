"""The roster keeps its history: a changed roster file, loaded at the next
start, closes the old entry and the API still answers who was on duty when."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from startup.settings import DEFAULT_CASE_CONFIG
from tests.component.cases_kit import start_desk


async def test_a_new_staff_contact_is_history_not_an_overwrite(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    config = tmp_path / "case-config"
    shutil.copytree(DEFAULT_CASE_CONFIG, config)
    db_url = f"sqlite+aiosqlite:///{tmp_path}/roster.db"
    first = await start_desk(aiohttp_client, db_url, case_config=config)
    await first.client.close()
    between = datetime.now(UTC)

    roster = config / "units.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    [index] = [i for i, line in enumerate(lines) if line.startswith("water,")]
    fields = lines[index].split(",")
    old_staff = fields[8]
    fields[8] = "新联络员"
    lines[index] = ",".join(fields)
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")

    second = await start_desk(aiohttp_client, db_url, case_config=config)
    status, now = await second.request("GET", "/api/v1/units", "water")
    assert status == 200
    assert _staff_of(now, "water") == "新联络员"
    at = between.isoformat()
    status, then = await second.request(
        "GET", f"/api/v1/units?at={at.replace('+', '%2B')}", "water"
    )
    assert status == 200, then
    assert _staff_of(then, "water") == old_staff
    assert _staff_of(then, "housing") == _staff_of(now, "housing")


def _staff_of(body: dict[str, Any], code: str) -> str:
    [unit] = [u for u in body["units"] if u["code"] == code]
    return str(unit["staff"]["name"])
