"""After a (re)connect: the tries that were under way, found again. A try
whose channel Asterisk still has goes on (its events will come); one that
ended while the server was away left its result in AstDB (`ldnt/<notice>-
<try>`, written by [ld-notice]); one with neither never got answered: lost,
and the ladder goes on to its next rung."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ami_client import AmiClient
from ami_client.astdb import kept_value
from notify.core.notice_calls import ASTDB_FAMILY, TryOutcome, kept_outcome
from notify.core.notices import Notice, Try, TryResult
from notify.service.call_recovery import live_calls

PREFIX = "ldnt-"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    outcomes: list[TryOutcome]  # tries that ended while the server was away
    lines: dict[str, str]  # the notice calls Asterisk has now: channel id → trunk


async def recover(client: AmiClient, calling: list[tuple[Notice, Try]], wait_s: float) -> Found:
    """None found if Asterisk cannot be asked (logged): all left as they are."""
    lines = await live_calls(client, PREFIX, wait_s)
    if lines is None:
        return Found([], {})
    out = []
    for notice, tried in calling:
        if tried.call_id in lines:
            continue
        value = await kept_value(client, ASTDB_FAMILY, f"{notice.notice_id}-{tried.number}", wait_s)
        kept = kept_outcome(notice.notice_id, tried.number, value) if value else None
        out.append(kept or TryOutcome(notice.notice_id, tried.number, TryResult.LOST, final=True))
    if out:
        log.info("notices: %d tries ended while the server was away", len(out))
    return Found(out, lines)
