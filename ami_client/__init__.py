"""Asterisk Manager Interface client: the only place that knows panoramisk.

Typical use::

    client = AmiClient(settings, sink=queue.put_nowait)
    await client.start()
    await client.wait_connected(timeout=5)
    channels = await client.send_list_action({"Action": "CoreShowChannels"})
    ...
    await client.stop()
"""

from ami_client.client import AmiClient
from ami_client.errors import (
    AmiActionFailed,
    AmiError,
    AmiInvalidAction,
    AmiLinkLost,
    AmiLoginFailed,
    AmiNotConnected,
    AmiTimeout,
)
from ami_client.framing import AmiFramer, FrameError, parse_stream
from ami_client.link import AmiSink, AmiStats, LinkDown, LinkState, LinkUp, SinkItem
from ami_client.message import AmiMessage
from ami_client.settings import AmiSettings, Secret

__all__ = [
    "AmiActionFailed",
    "AmiClient",
    "AmiError",
    "AmiFramer",
    "AmiInvalidAction",
    "AmiLinkLost",
    "AmiLoginFailed",
    "AmiMessage",
    "AmiNotConnected",
    "AmiSettings",
    "AmiSink",
    "AmiStats",
    "AmiTimeout",
    "FrameError",
    "LinkDown",
    "LinkState",
    "LinkUp",
    "Secret",
    "SinkItem",
    "parse_stream",
]
