"""Asterisk Manager Interface client: the only place that knows panoramisk.
Beside it, the FastAGI server the dialplan asks for data (fastagi.py; its own
small implementation, no panoramisk: the module says why).

Typical use::

    client = AmiClient(settings, sink=queue.put_nowait)
    await client.start()
    await client.wait_connected(timeout=5)
    channels = await client.send_list_action({"Action": "CoreShowChannels"})
    ...
    await client.stop()

    agi = await start_agi_server({"case-status": case_status})
    ...
    await agi.close()
"""

from ami_client.agi_errors import AgiLocalProtocolError, AgiProtocolError, AgiRemoteProtocolError
from ami_client.agi_request import AgiRequest
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
from ami_client.fastagi import (
    AgiHandler,
    AgiOutcome,
    AgiServer,
    AgiServerSettings,
    start_agi_server,
)
from ami_client.framing import AmiFramer, FrameError, parse_stream
from ami_client.link import AmiSink, AmiStats, LinkDown, LinkState, LinkUp, SinkItem
from ami_client.message import AmiMessage
from ami_client.settings import AmiSettings, Secret

__all__ = [
    "AgiHandler",
    "AgiLocalProtocolError",
    "AgiOutcome",
    "AgiProtocolError",
    "AgiRemoteProtocolError",
    "AgiRequest",
    "AgiServer",
    "AgiServerSettings",
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
    "start_agi_server",
]
