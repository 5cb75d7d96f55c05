"""What happened at the desks while the AMI link or the server was away,
read from Asterisk's queue_log (`LIANDONG_QUEUE_LOG`) from the last event
seen: the lines parsed, replayed into the book and the board, and the
callers' calls found (a live call's, else the records'). A file that cannot
be read costs only the outage's waits, and says so in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr_flows.core.operators import OperatorBoard
from ivr_flows.core.queue_log import Entered, ParsedLog, parse_lines
from ivr_flows.core.queue_log_replay import Replayed, replay
from ivr_flows.core.waits import WaitBook
from ivr_flows.service.queue_log_file import QueueLogFile
from telephony.service.lookup import get_leg

log = logging.getLogger(__name__)


async def catch_up(
    queue_log: QueueLogFile,
    since: datetime,
    *,
    book: WaitBook,
    board: OperatorBoard,
    member_phones: Mapping[str, str],
    call_of: Callable[[str], str | None],
    sessions: async_sessionmaker[AsyncSession],
) -> Replayed | None:
    """Replay the queue_log's lines from `since`; None if it cannot be read."""
    try:
        lines = await asyncio.to_thread(queue_log.read_since, since)
    except OSError as exc:
        log.warning(
            "desks: cannot read queue_log %s (%s): the outage's waits are not recorded",
            queue_log.path,
            exc.strerror or exc,
        )
        return None
    parsed = parse_lines(lines)
    entered = {e.callid for e in parsed.entries if isinstance(e, Entered)}
    done = replay(
        parsed.entries,
        since=since,
        book=book,
        board=board,
        call_ids=await _call_ids(entered, call_of, sessions),
        member_phones=member_phones,
    )
    _report(queue_log, since, parsed, done)
    return done


async def _call_ids(
    uids: Iterable[str],
    call_of: Callable[[str], str | None],
    sessions: async_sessionmaker[AsyncSession],
) -> dict[str, str]:
    """Each caller's call: a live one's, else the records' (a call that
    ended in the outage), else none (the wait keeps the uniqueid)."""
    out: dict[str, str] = {}
    unknown = []
    for uid in uids:
        call_id = call_of(uid)
        if call_id is not None:
            out[uid] = call_id
        else:
            unknown.append(uid)
    if not unknown:
        return out
    try:
        async with sessions() as session:
            for uid in unknown:
                leg = await get_leg(session, uid)
                if leg is not None:
                    out[uid] = leg.call_id
    except Exception as exc:  # the database is down: the waits keep the uniqueids
        log.error("desks: cannot look up the calls of %d callers: %s", len(unknown), exc)
    return out


def _report(queue_log: QueueLogFile, since: datetime, parsed: ParsedLog, done: Replayed) -> None:
    unknown = ", ".join(f"{name} ×{n}" for name, n in parsed.unknown.most_common())
    members = ", ".join(done.unknown_members)
    log.info(
        "desks: queue_log %s since %s: %d lines, %d facts new (%d waits, %d operator "
        "states), %d garbage lines, unknown events: %s, unknown members: %s",
        queue_log.path,
        since.isoformat(timespec="seconds"),
        len(parsed.entries) - done.earlier,
        done.applied,
        len(done.waits),
        len(done.operators),
        parsed.garbage,
        unknown or "none",
        members or "none",
    )
