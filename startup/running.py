"""Serving until SIGINT or SIGTERM, then stopping completely: `liandong serve`.

Not aiohttp's run_app: it turns a signal into an exception that cancels the
server task, so the shutdown (the cleanup contexts that drain AMI events and
flush record writes) ran cancelled: tracebacks, record writes lost, and a
second Ctrl-C killed the process outright. Here the first signal only asks the
server to stop; the shutdown runs to its end and is never cancelled; a later
signal is logged and changes nothing, so Ctrl-C pressed twice still exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from aiohttp import web

log = logging.getLogger("liandong")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# In-flight HTTP requests (a live WebSocket never ends by itself) get this long
# once a stop is asked for; then they are closed and the records are flushed.
HTTP_GRACE_S = 5.0


def run(app: web.Application, *, host: str, port: int, **runner_args: Any) -> None:
    """Serve `app` on host:port until SIGINT or SIGTERM, then stop it.

    Returns normally once everything is stopped; raises what startup raised.
    Leaves SIGINT and SIGTERM ignored: the process is expected to exit next.
    """
    asyncio.run(_serve(app, host, port, runner_args))


async def _serve(app: web.Application, host: str, port: int, runner_args: dict[str, Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, _on_signal, signum, stop)
    runner = web.AppRunner(app, shutdown_timeout=HTTP_GRACE_S, **runner_args)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("listening on http://%s:%d (Ctrl-C stops)", host, port)
        await stop.wait()
    finally:
        # Also after a failed start: the cleanup contexts entered so far are left.
        await runner.cleanup()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)
    log.info("stopped")


def _on_signal(signum: signal.Signals, stop: asyncio.Event) -> None:
    if not stop.is_set():
        log.info("%s: stopping; pending writes are being flushed", signum.name)
        stop.set()
    else:
        log.warning("%s: already stopping; pending writes still being flushed", signum.name)
