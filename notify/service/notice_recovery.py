"""After a (re)connect: the tries that were under way, found again. A try
whose channel Asterisk still has goes on (its events will come); one that
ended while the server was away left its result in AstDB (`ldnt/<notice>-
<try>`, written by [ld-notice]); one with neither never got answered: lost,
and the ladder goes on to its next rung."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ami_client import AmiClient, AmiError
from notify.core.notice_calls import (
    ASTDB_FAMILY,
    TryOutcome,
    kept_outcome,
    parse_call_id,
    trunk_of_channel,
)
from notify.core.notices import Notice, Try, TryResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    outcomes: list[TryOutcome]  # tries that ended while the server was away
    lines: dict[str, str]  # the notice calls Asterisk has now: channel id → trunk


async def recover(client: AmiClient, calling: list[tuple[Notice, Try]], wait_s: float) -> Found:
    """None found if Asterisk cannot be asked (logged): all left as they are."""
    try:
        items = await client.send_list_action({"Action": "CoreShowChannels"}, timeout=wait_s)
    except AmiError as exc:
        log.error("notices: CoreShowChannels failed (%s): tries under way left as they are", exc)
        return Found([], {})
    lines = {
        uid: trunk_of_channel(item.get("Channel") or "")
        for item in items
        if parse_call_id(uid := item.get("Uniqueid") or "") is not None
    }
    out = []
    for notice, tried in calling:
        if tried.call_id in lines:
            continue
        kept = await _kept(client, notice.notice_id, tried.number, wait_s)
        out.append(kept or TryOutcome(notice.notice_id, tried.number, TryResult.LOST, final=True))
    if out:
        log.info("notices: %d tries ended while the server was away", len(out))
    return Found(out, lines)


async def _kept(client: AmiClient, notice_id: int, number: int, wait_s: float) -> TryOutcome | None:
    try:
        items = await client.send_list_action(
            {"Action": "DBGet", "Family": ASTDB_FAMILY, "Key": f"{notice_id}-{number}"},
            timeout=wait_s,
        )
    except AmiError:
        return None  # not there (DBGet answers Error for a missing key)
    for item in items:
        if item.event == "DBGetResponse" and item.get("Val"):
            return kept_outcome(notice_id, number, item.get("Val") or "")
    return None
