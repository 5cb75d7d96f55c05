"""liandong: the aiohttp app factory and the `liandong` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from common.principal import Principal
from console import http as http_console
from ivr_flows import figures_http as http_desk_figures
from ivr_flows import http as http_desks
from notify import http as http_notices
from pbx import cli as pbx_cli
from people import http as http_people
from records import http as http_cases
from records.supervision import http as http_supervision
from startup import contexts as lifecycle
from startup import ivr_cli, running, tokens_cli, users_cli
from startup.health import health
from startup.listen_check import check_can_listen
from startup.openapi import served_document
from startup.settings import SETTINGS, Settings, SettingsError
from telephony import http as http_calls
from telephony.service.lookup import Call
from transfer import http as http_transfers
from web.access_log import AccessLogger
from web.app_state import ALLOWED_ORIGINS, LIVE
from web.auth import auth_middleware
from web.errors import error_middleware
from web.live import LiveBus
from web.live_socket import live
from web.openapi import DOCUMENT, openapi_json


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[SETTINGS] = settings
    public = (settings.public_origin,) if settings.public_origin else ()
    app[ALLOWED_ORIGINS] = (*settings.allowed_origins, *public)
    app[http_people.SECURE_COOKIES] = settings.public_origin is not None and (
        settings.public_origin.startswith("https://")
    )
    app[LIVE] = LiveBus()
    app[DOCUMENT] = served_document()
    app.on_shutdown.append(close_live_feeds)
    app.cleanup_ctx.append(lifecycle.database)
    app.cleanup_ctx.append(lifecycle.cases)
    app.cleanup_ctx.append(lifecycle.people)
    app.cleanup_ctx.append(lifecycle.pipeline)
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/api/v1/live", live)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    http_people.add_routes(app)
    http_console.add_routes(app)
    http_calls.add_routes(app)
    app[http_calls.CALL_EXTRAS] = call_extras
    app[http_calls.ANONYMOUS_CALLS] = http_cases.anonymous_calls
    http_transfers.add_routes(app)
    http_cases.add_routes(app)
    http_supervision.add_routes(app)
    http_desks.add_routes(app)
    http_desk_figures.add_routes(app)
    http_notices.add_routes(app)
    app[http_notices.RECORDINGS_DIR] = settings.notice_recordings_dir or Path(
        settings.notice_recordings
    )
    app[http_supervision.UNIT_NOTICES] = http_notices.unit_notices(app)
    app[http_supervision.CASE_NOTICES] = http_notices.case_notice_states(app)
    return app


async def call_extras(request: web.Request, call: Call, principal: Principal) -> dict[str, Any]:
    """What the other features add to a call's page: its cases, its waits."""
    cases = await http_cases.cases_of_call(request, call, principal)
    return cases | await http_desks.waits_of_call(request, call, principal)


async def close_live_feeds(app: web.Application) -> None:
    app[LIVE].close_all()


# ------------------------------------------------------------------ command line


def serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_can_listen(settings.http_host, settings.http_port)
    running.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        access_log_class=AccessLogger,
    )
    return 0


def token(args: argparse.Namespace) -> int:
    return asyncio.run(tokens_cli.run(args, Settings.from_env()))


def user(args: argparse.Namespace) -> int:
    return asyncio.run(users_cli.run(args, Settings.from_env()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liandong", description="110 / 12345 linkage server")
    subparsers = parser.add_subparsers(dest="command", required=True)
    serve_parser = subparsers.add_parser("serve", help="run the server (HTTP API + AMI ingest)")
    serve_parser.set_defaults(handler=serve)
    tokens_cli.add_parser(subparsers, token)
    users_cli.add_parser(subparsers, user)
    ivr_cli.add_parser(subparsers)
    pbx_cli.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"liandong: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
