"""Typed application keys: what create_app puts in the app, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from app.ingest import Ingest
    from app.live import LiveBus
    from app.settings import Settings
    from app.transfers import TransferService

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONS: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
LIVE: web.AppKey[LiveBus] = web.AppKey("live")
INGEST: web.AppKey[Ingest] = web.AppKey("ingest")
TRANSFERS: web.AppKey[TransferService] = web.AppKey("transfers")
