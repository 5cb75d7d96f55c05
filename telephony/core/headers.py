"""Reading the AMI headers the call model needs. Pure functions, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ami_client.message import AmiMessage

# Asterisk channel states (the ChannelState header).
STATE_DOWN = "0"
STATE_RINGING = "5"
STATE_UP = "6"


def event_time(msg: AmiMessage, fallback: datetime) -> datetime:
    """Asterisk's own time of the event (manager.conf `timestampevents = yes`), in UTC."""
    raw = msg.get("Timestamp")
    if raw:
        try:
            return datetime.fromtimestamp(float(raw), tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return fallback


def caller_of(msg: AmiMessage) -> tuple[str | None, str | None]:
    return present(msg.get("CallerIDNum")), present(msg.get("CallerIDName"))


def present(value: str | None) -> str | None:
    """None for the ways Asterisk says "nothing": missing, empty, `<unknown>`,
    and `s`, the dialplan's start extension, which Asterisk puts in a caller ID
    it has nothing for (a phone without its own `callerid`)."""
    return None if value in (None, "", "<unknown>", "s") else value


def parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_duration(value: str | None) -> timedelta:
    """CoreShowChannel's `Duration: HH:MM:SS` (zero when unreadable)."""
    try:
        hours, minutes, seconds = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return timedelta(0)
    if min(hours, minutes, seconds) < 0:
        return timedelta(0)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)
