"""Reading what the dialplan kept in AstDB (`Set(DB(family/key)=…)`) for a
server that was away when a call it placed ended: the callbacks' dial
status (`ldcb/`), the notices' and follow-ups' results (`ldnt/`, `ldfu/`)."""

from __future__ import annotations

from ami_client.client import AmiClient
from ami_client.errors import AmiError


async def kept_value(client: AmiClient, family: str, key: str, wait_s: float) -> str | None:
    """What the dialplan kept at `family/key`, or None (DBGet answers Error
    for a missing key; a link that fails now is the same: not known)."""
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
