"""Before the server starts: can it listen where LIANDONG_HTTP_HOST and
LIANDONG_HTTP_PORT say? A host that does not resolve, an address this machine
does not have, or a port already taken ends the command with one line naming
the variables, rather than a traceback from deep inside aiohttp's start-up."""

from __future__ import annotations

import socket

from startup.settings import SettingsError


def check_can_listen(host: str, port: int) -> None:
    """Bind (and release) every address `host` resolves to; SettingsError if one fails."""
    where = f"LIANDONG_HTTP_HOST/LIANDONG_HTTP_PORT: cannot listen on {host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise SettingsError(f"{where}: {exc}") from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # As asyncio's server does: a port left in TIME_WAIT by a restart is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise SettingsError(f"{where}: {exc.strerror}") from None
