"""The three-way rooms (ConfBridge) liandong makes: who is in which, from
ConfbridgeJoin and ConfbridgeLeave, reloaded from Asterisk after a reconnect;
a room left with one person in it is no conference, and is ended."""

from __future__ import annotations

from ami_client import AmiError
from ami_client.message import AmiMessage
from transfer.core import actions
from transfer.core.rooms import Rooms
from transfer.service.inbox import Inbox
from transfer.service.state import ServiceState, log

ROOM_SETTLE_S = 1.0


def _room(msg: AmiMessage) -> str:
    return (msg.get("Conference") or "").removeprefix("ld")


class ThreeWay:
    def __init__(self, state: ServiceState, inbox: Inbox) -> None:
        self._state = state
        self._inbox = inbox
        self.rooms = Rooms()

    async def on_join(self, msg: AmiMessage, arrived: float) -> None:
        self.rooms.join(_room(msg), msg.get("Uniqueid") or "", msg.get("Channel") or "")

    async def on_leave(self, msg: AmiMessage, arrived: float) -> None:
        room = _room(msg)
        self.rooms.leave(room, msg.get("Uniqueid") or "")
        # Looked at again a moment later: whoever is left may be leaving too (a
        # new transfer moving them out), and must not be hung up on the way.
        self._inbox.check_room_later(ROOM_SETTLE_S, room)

    async def check(self, room: str) -> None:
        left = self.rooms.members(room)
        in_use = any(
            p.room == room and t.running
            for t in self._state.running.values()
            if (p := self._state.parties.get(t.id)) is not None
        )
        if len(left) == 1 and not in_use:  # a room of one is no conference: end it
            for step in actions.end_room(list(left.values())):
                await self._state.sender.send(step)

    async def reload(self) -> None:
        """Who is in liandong's three-way rooms now (ConfbridgeList); a room
        left with one person while we were away is ended."""
        client = self._state.sender.client
        if client is None:
            return
        try:
            listed = await client.send_list_action({"Action": "ConfbridgeListRooms"})
            names = [n for item in listed if (n := item.get("Conference") or "").startswith("ld")]
            members = {}
            for name in names:
                action = {"Action": "ConfbridgeList", "Conference": name}
                members[name] = await client.send_list_action(action)
        except AmiError as exc:  # no rooms at all is an error reply too
            if "no active conferences" not in str(exc).lower():
                log.warning("three-way rooms not reloaded: %s", exc)
            return
        self.rooms = Rooms()
        for name, people in members.items():
            room = name.removeprefix("ld")
            for member in people:
                self.rooms.join(room, member.get("Uniqueid") or "", member.get("Channel") or "")
            await self.check(room)
