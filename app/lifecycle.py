"""What create_app starts and stops, as aiohttp cleanup contexts: the database,
then the pipeline (writer, call model, ingest consumer, AMI client)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from ami_client import AmiClient
from app.cel import CelReader
from app.ingest import Ingest
from app.keys import ENGINE, INGEST, LIVE, SESSIONS, SETTINGS
from app.settings import SettingsError
from records.db import create_engine, session_factory
from records.migrate import upgrade
from records.models import BridgeMembership, Leg
from records.repositories import CallRepository
from records.writer import RecordWriter
from telephony.model import CallModel, KnownLeg

log = logging.getLogger(__name__)

SHUTDOWN_DRAIN_S = 10.0
SHUTDOWN_WRITE_S = 30.0  # the database may be down at shutdown: don't hang forever


async def database(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS].db_url
    ensure_sqlite_dir(url)
    await upgrade(url)
    engine = create_engine(url)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()


async def pipeline(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    writer = RecordWriter(app[SESSIONS])
    await writer.start()
    model = CallModel()
    async with app[SESSIONS]() as session:
        open_legs = await CallRepository(session).open_legs()
        open_stays = await _open_bridge_stays(session)
    # Legs the database still has open from before a restart: reconciliation
    # on the first connect closes or resumes each of them.
    model.restore(
        [
            KnownLeg(
                leg.uniqueid,
                leg.call_id,
                leg.channel,
                leg.endpoint,
                leg.role,
                leg.trunk,
                leg.direction,
                leg.answered_at is not None,
            )
            for leg in open_legs
        ]
    )
    # And the bridges they are still in: otherwise a leg Asterisk still has in
    # its bridge would get a second stay there, "joined" at the restart.
    for uniqueid, bridge_id in open_stays:
        if uniqueid in model.legs:
            model.legs[uniqueid].bridges.add(bridge_id)
    cel = CelReader(settings.cel_url) if settings.cel_url else None
    ingest = Ingest(model, writer, app[LIVE], cel)
    app[INGEST] = ingest
    consumer = asyncio.create_task(ingest.run(), name="ingest")
    if settings.connect_ami:
        if not settings.ami.secret.reveal():
            raise SettingsError(
                "no AMI secret: set LIANDONG_AMI_SECRET or LIANDONG_AMI_SECRET_FILE"
            )
        ingest.client = AmiClient(settings.ami, ingest.sink)
        await ingest.client.start()
    yield
    if ingest.client is not None:
        await ingest.client.stop()
    try:
        await asyncio.wait_for(ingest.drained(), SHUTDOWN_DRAIN_S)
    except TimeoutError:
        log.error("shutdown: %d AMI events were not applied", ingest.backlog)
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    await writer.stop(timeout=SHUTDOWN_WRITE_S)
    if cel is not None:
        await cel.close()


async def _open_bridge_stays(session: AsyncSession) -> list[tuple[str, str]]:
    """(uniqueid, bridge_id) of every open bridge stay of an open leg."""
    query = (
        select(BridgeMembership.uniqueid, BridgeMembership.bridge_id)
        .join(Leg, Leg.uniqueid == BridgeMembership.uniqueid)
        .where(Leg.ended_at.is_(None), BridgeMembership.left_at.is_(None))
    )
    return [(row.uniqueid, row.bridge_id) for row in await session.execute(query)]


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
