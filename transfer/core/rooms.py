"""Who is in which three-way room, from ConfbridgeJoin / ConfbridgeLeave."""

from __future__ import annotations


class Rooms:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, str]] = {}  # room -> {uniqueid: channel}

    def join(self, room: str, uniqueid: str, channel: str) -> None:
        self._rooms.setdefault(room, {})[uniqueid] = channel

    def leave(self, room: str, uniqueid: str) -> None:
        """Remove a member (the room is forgotten when empty)."""
        members = self._rooms.get(room, {})
        members.pop(uniqueid, None)
        if not members:
            self._rooms.pop(room, None)

    def members(self, room: str) -> dict[str, str]:
        return dict(self._rooms.get(room, {}))

    def holds(self, uniqueid: str) -> bool:
        """Whether this channel is in one of the rooms."""
        return any(uniqueid in members for members in self._rooms.values())
