"""Integration tier: the real testbed Asterisk, real SIPp actors, the real server.

Nothing here skips: if Asterisk or SIPp can't run, the tests fail and say why.
The session starts the testbed if it isn't running and stops it again only if
it started it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ami_client.settings import AmiSettings, Secret
from common.vocabulary import TOKEN_ROLES, Role
from database.migrate import upgrade
from pbx import sipp, testbed
from server import create_app
from startup.settings import DEFAULT_IVR_DIR, Settings
from telephony.storage.repository import CallRepository
from telephony.storage.tables import Leg
from web.app_state import SESSIONS
from web.tokens import TokenRepository

# Transfer targets ring this long before the caller is given back (tests of
# no-answer wait for it).
TRANSFER_RING_S = 6
ROOT = Path(__file__).resolve().parents[2]
MENU_OFF = "off"
CALLBACK_OFF = "0"


@pytest.fixture(scope="session")
def pbx() -> Iterator[testbed.TestbedConfig]:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: run `make test` (it installs sip-tester)")
    cfg = testbed.TestbedConfig.from_env()
    was_running = testbed.running_pid(cfg) is not None
    try:
        testbed.up(cfg)
    except testbed.TestbedError as exc:
        pytest.fail(f"the Asterisk testbed did not start: {exc}")
    # 12345 callers go straight to the desk's queue, as they did before the
    # menu: only the menu's own tests walk it (and switch it on for that).
    testbed.cli(cfg, f"dialplan set global MENU_12345 {MENU_OFF}")
    # Nor is a waiting 12345 caller offered a callback, but in its own tests.
    testbed.cli(cfg, f"dialplan set global DESK_12345_CALLBACK_AFTER_S {CALLBACK_OFF}")
    yield cfg
    if not was_running:
        testbed.down(cfg)
        return
    # A testbed someone else started is left as its dialplan says, not as
    # the tests set it.
    for name in ("MENU_12345", "DESK_12345_CALLBACK_AFTER_S"):
        testbed.cli(cfg, f"dialplan set global {name} {shipped_global(name)}")


def shipped_global(name: str) -> str:
    """A global's value in the shipped extensions.conf."""
    text = (ROOT / "asterisk-config" / "extensions.conf").read_text(encoding="utf-8")
    [value] = re.findall(rf"^{name} = (.*)$", text, flags=re.MULTILINE)
    return value.strip()


@pytest.fixture
def pbx_clean(pbx: testbed.TestbedConfig) -> Iterator[testbed.TestbedConfig]:
    """No channel left over from an earlier test, and default dialplan globals."""
    testbed.cli(pbx, "channel request hangup all")
    _wait_no_channels(pbx)
    yield pbx
    testbed.cli(pbx, "dialplan set global DESK_RING_TIMEOUT 20")
    testbed.cli(pbx, "dialplan set global DESK_110_OVERFLOW_S 30")
    testbed.cli(pbx, f"dialplan set global MENU_12345 {MENU_OFF}")
    testbed.cli(pbx, f"dialplan set global DESK_12345_CALLBACK_AFTER_S {CALLBACK_OFF}")
    testbed.cli(pbx, "channel request hangup all")
    testbed.staff_desks(pbx)  # a test may have logged phones out or paused them


def _wait_no_channels(cfg: testbed.TestbedConfig, within: float = 10.0) -> None:
    """Until Asterisk has no channel; the hang-up is asked again halfway (a
    channel being made when it was first asked is not hung up by it). A
    channel that stays is named in the failure."""
    deadline = time.monotonic() + within
    asked_again = False
    while time.monotonic() < deadline:
        if "0 active channels" in testbed.cli(cfg, "core show channels count"):
            return
        if not asked_again and time.monotonic() > deadline - within / 2:
            testbed.cli(cfg, "channel request hangup all")
            asked_again = True
        time.sleep(0.1)
    left = testbed.cli(cfg, "core show channels concise").strip()
    pytest.fail(f"Asterisk still has channels from an earlier test:\n{left}")


async def eventually(probe: Any, what: str, within: float = 30.0) -> Any:
    """What `probe()` returns once it is truthy, polled every 0.1 s;
    AssertionError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Liandong:
    """The running server as a user sees it: its API, with a token per role."""

    def __init__(self, client: TestClient[Any, Any], tokens: dict[Role, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def db_legs(self, call_id: str) -> dict[str, Leg]:
        """The call's legs as stored in the database, by uniqueid."""
        async with self.client.app[SESSIONS]() as session:
            call = await CallRepository(session).get_call(call_id)
        assert call is not None, f"call {call_id} is not in the database"
        return {leg.uniqueid: leg for leg in call.legs}

    def auth(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, path: str, role: Role = Role.ADMIN) -> Any:
        response = await self.client.get(path, headers=self.auth(role))
        assert response.status == 200, await response.text()
        return await response.json()

    async def post(
        self, path: str, body: Any = None, *, token: str | None = None
    ) -> tuple[int, Any]:
        """POST as admin, or with `token`; the status and the JSON body."""
        headers = {"Authorization": f"Bearer {token}"} if token else self.auth()
        response = await self.client.post(path, json=body, headers=headers)
        return response.status, await response.json()

    async def operator_token(self, role: Role, phone: str) -> str:
        """A token for an operator at a desk phone (transfers check the phone)."""
        async with self.client.app[SESSIONS]() as session:
            issued = await TokenRepository(session).create(f"{phone} operator", role, phone=phone)
            await session.commit()
        return issued.plain

    async def unit_token(self, unit: str) -> str:
        """A token for a member unit's duty officer."""
        async with self.client.app[SESSIONS]() as session:
            issued = await TokenRepository(session).create(f"{unit} 值班员", Role.UNIT, unit=unit)
            await session.commit()
        return issued.plain

    async def calls_from(self, number_prefix: str) -> list[dict[str, Any]]:
        body = await self.get("/api/v1/calls?limit=1000")
        return [c for c in body["calls"] if (c["caller_number"] or "").startswith(number_prefix)]

    async def wait_ended_calls(
        self, number_prefix: str, count: int, within: float = 15.0
    ) -> list[dict[str, Any]]:
        """The calls from these numbers, once `count` of them have ended with every leg."""
        deadline = time.monotonic() + within
        calls: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            calls = await self.calls_from(number_prefix)
            done = [c for c in calls if c["ended_at"] and all(leg["ended_at"] for leg in c["legs"])]
            if len(done) >= count:
                return sorted(done, key=lambda c: c["caller_number"])
            await asyncio.sleep(0.1)
        raise AssertionError(f"expected {count} ended calls from {number_prefix}*, got {calls}")


def server_settings(pbx: testbed.TestbedConfig, work: Path, *, wrap_up_s: int = 0) -> Settings:
    """A server of the testbed with its database and county data in `work`.
    `wrap_up_s`: every desk's wrap-up after a queue call; none by default,
    so that a test's calls follow each other as fast as it places them."""
    cel = pbx.paths.cel_db
    return Settings(
        db_url=f"sqlite+aiosqlite:///{work}/liandong.db",
        ivr_dir=ivr_dir_with_wrap_up(work / "ivr_flows", wrap_up_s),
        ami=AmiSettings(
            host=pbx.ami_host, port=pbx.ami_port, secret=Secret(testbed.ami_secret(pbx))
        ),
        cel_url=f"sqlite+aiosqlite:///file:{cel}?mode=ro&uri=true",
        transfer_ring_timeout=TRANSFER_RING_S,
        notice_audio_dir=pbx.paths.notice_audio,
        notice_audio_pbx_dir=testbed.NOTICE_AUDIO,
        notice_recordings=testbed.NOTICE_RECORDINGS,
        notice_recordings_dir=pbx.paths.notice_recordings,
    )


def ivr_dir_with_wrap_up(target: Path, wrap_up_s: int) -> Path:
    """The shipped ivr_flows data (menus, prompts) with every desk's wrap-up set."""
    target.mkdir(parents=True, exist_ok=True)
    for part in ("flows", "prompts"):
        if not (target / part).exists():
            (target / part).symlink_to(DEFAULT_IVR_DIR / part)
    text = (DEFAULT_IVR_DIR / "desks.yaml").read_text()
    (target / "desks.yaml").write_text(re.sub(r"wrap_up_s: \d+", f"wrap_up_s: {wrap_up_s}", text))
    return target


async def start_server(aiohttp_client: Any, settings: Settings) -> Liandong:
    """A running server on the testbed with a token per role, once its AMI link
    and its desks are in line with Asterisk."""
    await upgrade(settings.db_url)
    app = create_app(settings)
    client = await aiohttp_client(app)
    tokens = {}
    async with app[SESSIONS]() as session:
        repo = TokenRepository(session)
        for role in TOKEN_ROLES:
            unit = "water" if role is Role.UNIT else None  # a unit token names its unit
            tokens[role] = (await repo.create(f"test {role.value}", role, unit=unit)).plain
        await session.commit()
    lid = Liandong(client, tokens)
    await _wait_link_up(lid)
    await _wait_desks_reconciled(lid)
    return lid


@pytest.fixture
async def liandong(
    pbx_clean: testbed.TestbedConfig, tmp_path: Path, aiohttp_client: Any
) -> AsyncIterator[Liandong]:
    settings = server_settings(pbx_clean, tmp_path)
    yield await start_server(aiohttp_client, settings)


async def _wait_link_up(lid: Liandong, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response = await lid.client.get("/api/v1/health")
        body = await response.json()
        if body["ami"]["state"] == "connected" and body["ami"]["reconciled_at"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server did not connect to the testbed AMI: {body}")


async def _wait_desks_reconciled(lid: Liandong, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await lid.get("/api/v1/desks"))["reconciled_at"]:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the desks were not reconciled with Asterisk's queues")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "sipp"
    path.mkdir()
    return path


@pytest.fixture
def phones(work: Path, pbx: testbed.TestbedConfig) -> Iterator[dict[str, sipp.Phone]]:
    """Start phones by name; all are stopped at the end of the test, after
    Asterisk has hung up what is left (a phone gone first would leave Asterisk
    resending BYEs into the next test's phones)."""
    started: dict[str, sipp.Phone] = {}
    yield started
    testbed.cli(pbx, "channel request hangup all")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and "0 active channels" not in testbed.cli(
        pbx, "core show channels count"
    ):
        time.sleep(0.1)
    time.sleep(0.2)  # the phones answer the last BYEs
    for phone in started.values():
        phone.stop()
