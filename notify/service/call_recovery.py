"""What Asterisk can say of the server's own calls after a (re)connect, for
the notices and the follow-ups alike: which of them it still has (their
channels, by the id the server gave them). What a call that ended meanwhile
left in AstDB is `ami_client.astdb.kept_value`."""

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
