"""Typed application keys: what create_app puts in the app, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from app.case_calls import CaseCalls
    from app.ingest import Ingest
    from app.live import LiveBus
    from app.settings import Settings
    from app.transfers import TransferService
    from records.cases.service import CaseService

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONS: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
LIVE: web.AppKey[LiveBus] = web.AppKey("live")
INGEST: web.AppKey[Ingest] = web.AppKey("ingest")
TRANSFERS: web.AppKey[TransferService] = web.AppKey("transfers")
CASES: web.AppKey[CaseService] = web.AppKey("cases")
CASE_CALLS: web.AppKey[CaseCalls] = web.AppKey("case_calls")
