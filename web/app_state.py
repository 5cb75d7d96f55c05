"""Typed application keys: what create_app puts in the app, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from records.service.call_link import CaseCalls
    from records.service.cases import CaseService
    from startup.settings import Settings
    from telephony.ingest import Ingest
    from transfer.service import TransferService
    from web.live import LiveBus

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONS: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
LIVE: web.AppKey[LiveBus] = web.AppKey("live")
INGEST: web.AppKey[Ingest] = web.AppKey("ingest")
TRANSFERS: web.AppKey[TransferService] = web.AppKey("transfers")
CASES: web.AppKey[CaseService] = web.AppKey("cases")
CASE_CALLS: web.AppKey[CaseCalls] = web.AppKey("case_calls")
