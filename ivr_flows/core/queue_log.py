"""Asterisk's queue_log, a line at a time, as typed entries.

app_queue writes one line per fact: `epoch|callid|queue|agent|EVENT|data…`
(the caller's channel uniqueid as callid, or NONE/MANAGER/CLI/REALTIME for
member facts; the agent is the member's name under
`log_membername_as_agent`, else its interface). It is what tells, after an
AMI outage, how the waits of the outage went (`queue_log_replay`). The file
is Asterisk's, not ours: a line that is not a queue_log line is counted as
garbage and an event we do not read is counted by name, never an error.

The data fields per event (Asterisk 12 and later):
ENTERQUEUE url|callerid|position[|callername], CONNECT holdtime|member
uniqueid|ringtime, COMPLETECALLER and COMPLETEAGENT holdtime|calltime|
origposition, BLINDTRANSFER exten|context|holdtime|calltime|origposition,
ATTENDEDTRANSFER method|data|holdtime|calltime|origposition, TRANSFER (before
12) exten|context|holdtime|calltime|origposition, ABANDON, EXITWITHTIMEOUT
and EXITEMPTY position|origposition|waittime, EXITWITHKEY key|position|
origposition|waittime, WITHDRAW position|origposition|waittime|info,
ADDMEMBER PAUSED or empty, PAUSE and UNPAUSE reason, RINGNOANSWER ms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Read, but they change nothing a wait or an operator's state records.
IGNORED_EVENTS = frozenset(
    {
        "RINGNOANSWER",
        "RINGCANCELED",
        "PAUSEALL",  # each queue's PAUSE line follows
        "UNPAUSEALL",
        "CONFIGRELOAD",
        "AGENTDUMP",
        "SYSCOMPAT",
        "PENALTY",
        "RINGINUSE",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "DID",
        "INFO",
    }
)

# How a caller left the line without an operator, from the EXIT* events.
EXITS = {
    "EXITWITHTIMEOUT": "timeout",
    "EXITWITHKEY": "key",
    "EXITEMPTY": "empty",
    "WITHDRAW": "withdraw",
}
TRANSFERS = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})


@dataclass(frozen=True)
class Entry:
    """What every line has."""

    at: datetime
    callid: str  # the caller channel's uniqueid, or NONE, MANAGER, CLI…
    queue: str
    agent: str  # the member's name or interface; NONE for caller facts


@dataclass(frozen=True)
class Entered(Entry):
    """ENTERQUEUE: the caller joined the line."""

    caller_number: str | None
    position: int | None


@dataclass(frozen=True)
class Connected(Entry):
    """CONNECT: an operator answered the caller."""

    hold_s: int | None


@dataclass(frozen=True)
class Completed(Entry):
    """COMPLETECALLER, COMPLETEAGENT or a transfer: the answered call ended."""

    hold_s: int | None
    talk_s: int | None
    ended_by: str  # caller, agent, transfer (as AgentComplete's Reason)


@dataclass(frozen=True)
class Abandoned(Entry):
    """ABANDON: the caller hung up in line."""

    wait_s: int | None


@dataclass(frozen=True)
class Exited(Entry):
    """EXITWITHTIMEOUT, EXITWITHKEY, EXITEMPTY, WITHDRAW: the caller left the
    line alive (the dialplan goes on with them)."""

    how: str  # timeout, key, empty, withdraw
    wait_s: int | None


@dataclass(frozen=True)
class MemberAdded(Entry):
    paused: bool


@dataclass(frozen=True)
class MemberRemoved(Entry):
    pass


@dataclass(frozen=True)
class MemberPaused(Entry):
    paused: bool  # PAUSE or UNPAUSE
    reason: str


@dataclass(frozen=True)
class QueueStarted(Entry):
    """QUEUESTART: Asterisk (re)started; no channel of before lives on."""


@dataclass(frozen=True)
class Ignored(Entry):
    """A known event with nothing to record (RINGNOANSWER, PAUSEALL, …)."""

    event: str


@dataclass(frozen=True)
class Unknown(Entry):
    """An event this reader does not know (a newer Asterisk, a QueueLog() of
    the dialplan's own)."""

    event: str


QueueLogEntry = (
    Entered
    | Connected
    | Completed
    | Abandoned
    | Exited
    | MemberAdded
    | MemberRemoved
    | MemberPaused
    | QueueStarted
    | Ignored
    | Unknown
)


@dataclass
class ParsedLog:
    entries: list[QueueLogEntry] = field(default_factory=list)
    garbage: int = 0  # lines that are not queue_log lines
    unknown: Counter[str] = field(default_factory=Counter)  # events by name


def parse_lines(lines: Iterable[str]) -> ParsedLog:
    out = ParsedLog()
    for line in lines:
        if not line.strip():
            continue
        entry = parse_line(line)
        if entry is None:
            out.garbage += 1
            continue
        if isinstance(entry, Unknown):
            out.unknown[entry.event] += 1
        out.entries.append(entry)
    return out


def parse_line(line: str) -> QueueLogEntry | None:
    """One line (with or without its CR LF); None if it is not a queue_log line."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        return None
    at = _epoch(parts[0])
    callid, queue, agent, event = (p.strip() for p in parts[1:5])
    if at is None or not event or not event.replace("_", "").isalnum() or not callid:
        return None
    base = (at, callid, queue, agent)
    data = parts[5:]
    return _typed(event.upper(), base, data)


def _typed(event: str, base: tuple[datetime, str, str, str], data: list[str]) -> QueueLogEntry:
    def text(i: int) -> str:
        return data[i].strip() if i < len(data) else ""

    def number(i: int) -> int | None:
        try:
            return int(text(i))
        except ValueError:
            return None

    if event == "ENTERQUEUE":
        return Entered(*base, caller_number=text(1) or None, position=number(2))
    if event == "CONNECT":
        return Connected(*base, hold_s=number(0))
    if event in ("COMPLETECALLER", "COMPLETEAGENT"):
        ended_by = "caller" if event == "COMPLETECALLER" else "agent"
        return Completed(*base, hold_s=number(0), talk_s=number(1), ended_by=ended_by)
    if event in TRANSFERS:
        return Completed(*base, hold_s=number(2), talk_s=number(3), ended_by="transfer")
    if event == "ABANDON":
        return Abandoned(*base, wait_s=number(2))
    if event in EXITS:
        wait_at = 3 if event == "EXITWITHKEY" else 2
        return Exited(*base, how=EXITS[event], wait_s=number(wait_at))
    if event == "ADDMEMBER":
        return MemberAdded(*base, paused=text(0).upper() == "PAUSED")
    if event == "REMOVEMEMBER":
        return MemberRemoved(*base)
    if event in ("PAUSE", "UNPAUSE"):
        return MemberPaused(*base, paused=event == "PAUSE", reason=text(0))
    if event == "QUEUESTART":
        return QueueStarted(*base)
    if event in IGNORED_EVENTS:
        return Ignored(*base, event=event)
    return Unknown(*base, event=event)


def _epoch(raw: str) -> datetime | None:
    """app_queue writes whole seconds; a fraction is accepted."""
    raw = raw.strip()
    if not raw or not raw.replace(".", "", 1).isdigit():
        return None
    try:
        return datetime.fromtimestamp(float(raw), UTC)
    except (OverflowError, OSError, ValueError):
        return None
