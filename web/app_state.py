"""The application keys every feature's handlers share: the database, the live
bus and the county's rules. Each feature keeps its own service's key beside its
handlers (telephony/http.py, transfer/http.py, records/http.py); the settings'
key is start-up's (startup/settings.py)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from county.case_rules import CaseRules
from web.live import LiveBus

ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONS: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
LIVE: web.AppKey[LiveBus] = web.AppKey("live")
RULES: web.AppKey[CaseRules] = web.AppKey("rules", CaseRules)
# Browser origins besides the server's own that may open the live feed
# (LIANDONG_ALLOWED_ORIGINS).
ALLOWED_ORIGINS: web.AppKey[tuple[str, ...]] = web.AppKey("allowed_origins")
