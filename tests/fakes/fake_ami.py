"""A scriptable fake Asterisk Manager Interface server on loopback.

It speaks the real wire protocol (greeting line, CRLF headers, blank-line frames,
ActionID echoed, EventList lists) closely enough for the client, and can be
told to misbehave in the ways a real Asterisk cannot be made to on demand:
refuse logins, stop answering (half-open link), drop connections, delay or
swallow given actions, send garbage or messages split across TCP writes.

Use it for faults; use the real Asterisk testbed for behaviour. Typical use::

    async with FakeAmiServer() as fake:
        client = AmiClient(fake.settings(ping_interval=0.1), sink)
        ...
        fake.push_event("Hangup", Uniqueid="1700000000.1", Cause="16")
        assert len(fake.actions_named("Redirect")) == 1

All knobs are plain attributes and take effect for the next action handled.
Action names in `ignored_actions`, `delays` and `replies` are matched
case-insensitively (store them in any case).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ami_client import AmiMessage, AmiSettings, Secret
from tests.fakes.waiting import Changes

Headers = Sequence[tuple[str, str]]
# A custom reply: given the action, the messages to send back (ActionID is added
# right after `Response` in Response messages that lack one).
ReplyFn = Callable[["ReceivedAction"], Sequence[Headers]]

_SIMPLE_SUCCESS = {
    "hangup": "Channel Hungup",
    "redirect": "Redirect successful",
    "originate": "Originate successfully queued",
    "setvar": "Variable Set",
    "userevent": "Event Sent",
    "atxfer": "Atxfer successfully queued",
    "blindtransfer": "Transfer succeeded",
    "bridge": "Channels have been bridged",
    "queueadd": "Added interface to queue",
    "queueremove": "Removed interface from queue",
    "queuepause": "Interface paused successfully",
}
_LISTS = {
    # action: (Message, item event, complete event, attribute holding the items)
    "coreshowchannels": (
        "Channels will follow",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "channels",
    ),
    "bridgelist": ("Bridge listing will follow", "BridgeListItem", "BridgeListComplete", "bridges"),
    # Items name their own event (QueueParams, QueueMember, QueueEntry).
    "queuestatus": ("Queue status will follow", "QueueMember", "QueueStatusComplete", "queues"),
}


def format_message(headers: Iterable[tuple[str, str]]) -> bytes:
    """Headers as AMI puts them on the wire: 'Name: value' lines and a blank line."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + b"\r\n"


def event_message(event: str, headers: Mapping[str, str] | Headers = ()) -> bytes:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    return format_message([("Event", event), *pairs])


@dataclass(frozen=True)
class ReceivedAction:
    session: int
    headers: AmiMessage
    at: float  # loop time

    @property
    def name(self) -> str:
        return self.headers.get("Action") or ""

    @property
    def action_id(self) -> str | None:
        return self.headers.action_id


@dataclass(eq=False)
class _Session:
    number: int
    writer: asyncio.StreamWriter
    logged_in: bool = False
    stalled: bool = False  # half-open: reads everything, answers nothing
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def write(self, data: bytes) -> None:
        if not self.stalled and not self.writer.is_closing():
            self.writer.write(data)


class FakeAmiServer:
    def __init__(
        self,
        *,
        username: str = "liandong",
        secret: str = "fake-secret-不泄露-42",
        version: str = "11.0.0",
        host: str = "127.0.0.1",
    ) -> None:
        self.username = username
        self.secret = secret
        self.version = version
        self.host = host
        # -- knobs
        self.refuse_logins = False
        self.answer_pings = True
        self.send_fully_booted = True
        self.uptime = 1234
        self.channels: list[dict[str, str]] = []
        self.bridges: list[dict[str, str]] = []
        self.queues: list[dict[str, str]] = []
        self.ignored_actions: set[str] = set()
        self.delays: dict[str, float] = {}
        self.replies: dict[str, ReplyFn] = {}
        # -- records
        self.actions: list[ReceivedAction] = []
        self.connection_times: list[float] = []
        self.login_attempts = 0
        self.replies_sent = 0
        # -- internals
        self._server: asyncio.Server | None = None
        self._sessions: dict[int, _Session] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._changes = Changes()

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        tasks = set(self._handlers)
        for session in self._sessions.values():
            tasks |= session.tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeAmiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def settings(self, **overrides: object) -> AmiSettings:
        """Client settings pointing here, with the right credentials; override anything."""
        values: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "secret": Secret(self.secret),
        }
        values.update(overrides)
        return AmiSettings(**values)  # type: ignore[arg-type]

    # -- scripting ------------------------------------------------------------------

    @property
    def logged_in_sessions(self) -> int:
        return sum(1 for s in self._sessions.values() if s.logged_in and not s.stalled)

    def actions_named(self, name: str) -> list[ReceivedAction]:
        return [a for a in self.actions if a.name.lower() == name.lower()]

    def push_event(
        self, event: str, headers: Mapping[str, str] | Headers = (), **more: str
    ) -> None:
        """Send an event to every logged-in client."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        self.push_bytes(event_message(event, [*pairs, *more.items()]))

    def push_bytes(self, data: bytes) -> None:
        """Raw bytes (garbage included) to every logged-in client, in one write."""
        for session in self._live_sessions():
            session.write(data)

    async def push_split(self, data: bytes, split_at: Sequence[int], pause: float = 0.02) -> None:
        """Raw bytes cut at the given offsets, each piece its own TCP write with a pause
        between, so that the client reads them separately."""
        cuts = [0, *sorted(split_at), len(data)]
        for start, end in itertools.pairwise(cuts):
            for session in self._live_sessions():
                session.write(data[start:end])
                await session.writer.drain()
            if end < len(data):
                await asyncio.sleep(pause)

    def drop_connections(self) -> None:
        """Reset every connection at once (no goodbye)."""
        for session in list(self._sessions.values()):
            session.writer.transport.abort()

    def stall_sessions(self) -> None:
        """The current connections go silent, as if the far end vanished (half-open):
        actions are read and recorded but nothing is ever answered. New connections
        work normally."""
        for session in self._sessions.values():
            session.stalled = True
        self._changes.bump()

    async def wait_until(
        self, predicate: Callable[[], bool], within: float = 2.0, what: str = ""
    ) -> None:
        await self._changes.wait_until(predicate, within, what or "a fake AMI condition")

    async def wait_for_action(self, name: str, count: int = 1, within: float = 2.0) -> None:
        await self.wait_until(
            lambda: len(self.actions_named(name)) >= count, within, f"{count} x {name}"
        )

    async def wait_for_login(self, count: int = 1, within: float = 2.0) -> None:
        """Until `count` logged-in, non-stalled sessions exist."""
        await self.wait_until(
            lambda: self.logged_in_sessions >= count, within, f"{count} logged-in client(s)"
        )

    # -- the protocol ---------------------------------------------------------------

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.logged_in and not s.stalled]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        session = _Session(next(self._numbers), writer)
        self._sessions[session.number] = session
        self.connection_times.append(asyncio.get_running_loop().time())
        self._changes.bump()
        buffer = b""
        try:
            session.write(f"Asterisk Call Manager/{self.version}\r\n".encode())
            while chunk := await reader.read(65536):
                buffer += chunk
                *frames, buffer = buffer.split(b"\r\n\r\n")
                for frame in frames:
                    if frame.strip():
                        self._on_action(session, frame)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            del self._sessions[session.number]
            self._handlers.discard(task)
            writer.close()
            self._changes.bump()

    def _on_action(self, session: _Session, frame: bytes) -> None:
        pairs = []
        for line in frame.decode("utf-8", "replace").strip("\r\n").split("\r\n"):
            name, _, value = line.partition(": ")
            pairs.append((name, value))
        now = asyncio.get_running_loop().time()
        action = ReceivedAction(session.number, AmiMessage(tuple(pairs)), now)
        self.actions.append(action)
        self._changes.bump()
        if session.stalled:
            return
        name = action.name.lower()
        if name in {n.lower() for n in self.ignored_actions}:
            return
        delay = {n.lower(): d for n, d in self.delays.items()}.get(name)
        if delay is None:
            self._answer(session, action)
            return
        task = asyncio.create_task(self._answer_later(session, action, delay))
        session.tasks.add(task)
        task.add_done_callback(session.tasks.discard)

    async def _answer_later(self, session: _Session, action: ReceivedAction, delay: float) -> None:
        await asyncio.sleep(delay)
        self._answer(session, action)

    def _answer(self, session: _Session, action: ReceivedAction) -> None:
        messages = self._reply_for(session, action)
        if not messages:
            return
        action_id = action.action_id
        data = b""
        for headers in messages:
            pairs = list(headers)
            is_response = bool(pairs) and pairs[0][0] == "Response"
            if (
                is_response
                and action_id is not None
                and not any(k.lower() == "actionid" for k, _ in pairs)
            ):
                pairs.insert(1, ("ActionID", action_id))
            data += format_message(pairs)
        session.write(data)
        self.replies_sent += 1
        self._changes.bump()
        if action.name.lower() in {"logoff"} or (
            action.name.lower() == "login" and not session.logged_in
        ):
            # Asterisk ends the session after Logoff and after a failed login.
            session.writer.close()

    def _reply_for(self, session: _Session, action: ReceivedAction) -> list[list[tuple[str, str]]]:
        name = action.name.lower()
        custom = {n.lower(): fn for n, fn in self.replies.items()}.get(name)
        if custom is not None:
            return [list(m) for m in custom(action)]
        if name == "login":
            return self._login(session, action)
        if name == "logoff":
            return [[("Response", "Goodbye"), ("Message", "Thanks for all the fish.")]]
        if not session.logged_in:
            return [[("Response", "Error"), ("Message", "Permission denied")]]
        if name == "ping":
            if not self.answer_pings:
                return []
            return [
                [("Response", "Success"), ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]
            ]
        if name in _SIMPLE_SUCCESS:
            return [[("Response", "Success"), ("Message", _SIMPLE_SUCCESS[name])]]
        if name in _LISTS:
            return self._list(action, *_LISTS[name])
        return [[("Response", "Error"), ("Message", "Invalid/unknown command")]]

    def _login(self, session: _Session, action: ReceivedAction) -> list[list[tuple[str, str]]]:
        self.login_attempts += 1
        ok = (
            not self.refuse_logins
            and action.headers.get("Username") == self.username
            and action.headers.get("Secret") == self.secret
        )
        if not ok:
            return [[("Response", "Error"), ("Message", "Authentication failed")]]
        session.logged_in = True
        replies = [[("Response", "Success"), ("Message", "Authentication accepted")]]
        if self.send_fully_booted:
            # Asterisk sends this right behind the login response, often in the same read.
            replies.append(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", str(self.uptime)),
                    ("LastReload", str(self.uptime)),
                    ("Status", "Fully Booted"),
                ]
            )
        return replies

    def _list(
        self, action: ReceivedAction, message: str, item_event: str, complete_event: str, attr: str
    ) -> list[list[tuple[str, str]]]:
        items: list[dict[str, str]] = getattr(self, attr)
        action_id = action.action_id or ""
        replies = [
            [
                ("Response", "Success"),
                ("ActionID", action_id),
                ("EventList", "start"),
                ("Message", message),
            ]
        ]
        for item in items:
            fields = [(k, v) for k, v in item.items() if k != "Event"]
            replies.append(
                [("Event", item.get("Event", item_event)), ("ActionID", action_id), *fields]
            )
        replies.append(
            [
                ("Event", complete_event),
                ("ActionID", action_id),
                ("EventList", "Complete"),
                ("ListItems", str(len(items))),
            ]
        )
        return replies
