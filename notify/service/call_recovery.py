"""What Asterisk can say of the server's own calls after a (re)connect, for
the notices and the follow-ups alike: which of them it still has (their
channels, by the id the server gave them), and what a call that ended
meanwhile left in AstDB for the server that was away."""

from __future__ import annotations

import logging

from ami_client import AmiClient, AmiError
from notify.core.notice_calls import trunk_of_channel

log = logging.getLogger(__name__)


async def live_calls(client: AmiClient, prefix: str, wait_s: float) -> dict[str, str] | None:
    """The calls whose channel id starts with `prefix`, as channel id → the
    trunk each takes; None if Asterisk cannot be asked (logged)."""
    try:
        items = await client.send_list_action({"Action": "CoreShowChannels"}, timeout=wait_s)
    except AmiError as exc:
        log.error("%s calls: CoreShowChannels failed (%s): left as they are", prefix, exc)
        return None
    return {
        uid: trunk_of_channel(item.get("Channel") or "")
        for item in items
        if (uid := item.get("Uniqueid") or "").startswith(prefix)
    }


async def kept_value(client: AmiClient, family: str, key: str, wait_s: float) -> str | None:
    """What the dialplan kept at `family/key`, or None (DBGet answers Error
    for a missing key)."""
    try:
        items = await client.send_list_action(
            {"Action": "DBGet", "Family": family, "Key": key}, timeout=wait_s
        )
    except AmiError:
        return None
    for item in items:
        if item.event == "DBGetResponse" and item.get("Val"):
            return item.get("Val")
    return None
