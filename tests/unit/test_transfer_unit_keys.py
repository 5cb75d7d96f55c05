"""A unit key (*4x) for a PBX line the roster does not have: the operator is
told why on the live feed (`transfer_refused`), no transfer starts and
Asterisk is asked to ring nothing."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from county.roster import load_roster
from database.engine import create_engine, session_factory
from telephony.core.model import CallModel
from tests.unit.transfer_shell_kit import (
    CALL,
    OPERATOR,
    OPERATOR_CHAN,
    OPERATOR_PHONE,
    ami,
    caller_leg,
    legs_of,
    operator_leg,
)
from transfer.core.key_codes import KeyDetector, KeyPress
from transfer.service import TransferService
from web.live import LiveBus

ROSTER = Path(__file__).resolve().parents[2] / "case-config" / "units.csv"


async def test_a_unit_key_for_a_line_the_roster_lacks_is_refused_with_a_notice(
    tmp_path: Path,
) -> None:
    model = CallModel()
    model.legs.update(legs_of(caller_leg(), operator_leg()))
    live = LiveBus()
    feed = live.subscribe("operator")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/unused.db")  # nothing is saved
    keys = KeyDetector({"*40": KeyPress("unit", "10")})  # a features.conf beyond the roster
    service = TransferService(model, session_factory(engine), live, ring_timeout_s=20, keys=keys)
    roster = load_roster(ROSTER)
    service.unit_line_known = lambda line: roster.on_line(line) is not None
    worker = asyncio.create_task(service.run())
    try:
        press = {"UserEvent": "LdKey", "Key": "unit", "Unit": "10"}
        service.observe(ami("UserEvent", Uniqueid=OPERATOR, Channel=OPERATOR_CHAN, **press))
        notice = await asyncio.wait_for(feed.queue.get(), 5)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await engine.dispose()
    assert notice["type"] == "transfer_refused", notice
    assert notice["data"]["call_id"] == CALL and notice["data"]["operator_phone"] == OPERATOR_PHONE
    assert "no unit of the roster is on PBX line 10" in notice["data"]["why"]
    assert service.running == {} and service.sender.last_sent == 0.0  # nothing was sent
