"""The AMI client: one owned task that connects, logs in, watches the link and reconnects.

Everything the rest of the server sees goes through one synchronous `sink`, in
wire order: `LinkUp` after each successful login, every event, `LinkDown` when
the link is gone. The sink must only enqueue (design rule: callbacks only
enqueue); one consumer applies the messages.

Actions are never re-sent: an action in flight when the link drops fails with
`AmiLinkLost`, and the caller (who knows whether it is safe) decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial

from ami_client.action import ActionIds, ActionValue, action_name, describe_action, encode_action
from ami_client.backoff import Backoff
from ami_client.errors import (
    AmiActionFailed,
    AmiError,
    AmiLinkLost,
    AmiLoginFailed,
    AmiNotConnected,
    AmiTimeout,
)
from ami_client.framing import FrameError
from ami_client.link import AmiSink, AmiStats, LinkDown, LinkState, LinkUp, SinkItem
from ami_client.message import AmiMessage
from ami_client.pending import ActionResult, Delivery, PendingActions
from ami_client.settings import AmiSettings
from ami_client.wire import AmiWireProtocol

__all__ = ["AmiClient", "AmiSink", "AmiStats", "LinkDown", "LinkState", "LinkUp", "SinkItem"]

log = logging.getLogger(__name__)

_PING: Mapping[str, str] = {"Action": "Ping"}
# How long stop() waits for the transport to report itself closed.
_CLOSE_WAIT = 1.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Link:
    """One TCP connection and the actions in flight on it."""

    def __init__(self, attempt: int) -> None:
        loop = asyncio.get_running_loop()
        self.attempt = attempt
        self.protocol: AmiWireProtocol | None = None
        self.pending = PendingActions()
        self.up = False  # LinkUp was emitted for this link
        self.reason: str | None = None  # why *we* closed it, if we did
        self.lost: asyncio.Future[str] = loop.create_future()
        self.transport_gone: asyncio.Future[None] = loop.create_future()


class AmiClient:
    def __init__(
        self,
        settings: AmiSettings,
        sink: AmiSink,
        *,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._settings = settings
        self._sink = sink
        self._now = now
        self._where = f"{settings.host}:{settings.port}"
        self._backoff = Backoff(settings.backoff_initial, settings.backoff_max, rng=rng)
        self._ids = ActionIds()
        self._state = LinkState.DISCONNECTED
        self._settled = asyncio.Event()
        self._link: _Link | None = None
        self._closing: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_error: AmiError | OSError | None = None
        self.stats = AmiStats()

    def __repr__(self) -> str:
        return (
            f"<AmiClient {self._where} user={self._settings.username!r} state={self._state.value}>"
        )

    # -- public interface --------------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def settings(self) -> AmiSettings:
        return self._settings

    @property
    def last_error(self) -> AmiError | OSError | None:
        """Why the latest connection attempt failed (e.g. AmiLoginFailed); None once logged in."""
        return self._last_error

    async def start(self) -> None:
        """Start the connection loop in the background and return at once."""
        if self._task is not None or self._state is LinkState.CLOSED:
            raise RuntimeError("AmiClient.start() may be called once")
        self._task = asyncio.create_task(self._run(), name=f"ami-client {self._where}")

    async def stop(self) -> None:
        """Cancel the loop, fail actions in flight, close the socket. Final."""
        self._set_state(LinkState.CLOSED)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # our caller is being cancelled too
        if self._closing is not None:
            await asyncio.wait({self._closing}, timeout=_CLOSE_WAIT)

    async def wait_connected(self, timeout: float) -> None:  # noqa: ASYNC109 - interface
        """Return once logged in; AmiTimeout (chained to the last failure) if not in time;
        AmiNotConnected if the client is (or gets) stopped."""
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            detail = f"; last error: {self._last_error}" if self._last_error else ""
            raise AmiTimeout(
                f"AMI {self._where} not connected within {timeout}s{detail}"
            ) from self._last_error
        if self._state is LinkState.CLOSED:
            raise AmiNotConnected(f"AMI client for {self._where} is stopped")

    async def send_action(
        self,
        action: Mapping[str, ActionValue],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-action limit is the interface
    ) -> AmiMessage:
        """Send one action and return its Response.

        AmiNotConnected at once if not logged in; AmiActionFailed on `Response: Error`;
        AmiTimeout; AmiLinkLost if the link drops first (the action is not re-sent).
        """
        link = self._require_link()
        response, _ = await self._request(link, action, limit=timeout, collect_list=False)
        return response

    async def send_list_action(
        self,
        action: Mapping[str, ActionValue],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-action limit is the interface
    ) -> list[AmiMessage]:
        """Send an EventList action (CoreShowChannels, BridgeList, ...) and return its
        item events, without the closing `EventList: Complete` event. `timeout` covers
        the whole list. Same errors as send_action."""
        link = self._require_link()
        _, items = await self._request(link, action, limit=timeout, collect_list=True)
        return items

    # -- connection loop (the one owned task) ---------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                try:
                    await self._connect_once()
                except Exception:
                    # A bug must not leave the server without AMI for good.
                    log.exception("AMI %s: unexpected error in the connection loop", self._where)
                self._set_state(LinkState.DISCONNECTED)
                delay = self._backoff.next_delay()
                log.info("AMI %s: next connection attempt in %.2fs", self._where, delay)
                await asyncio.sleep(delay)
        finally:
            if self._link is not None:
                self._drop_link(self._link, "client stopped", logoff=True)

    async def _connect_once(self) -> None:
        self.stats.connect_attempts += 1
        link = _Link(self.stats.connect_attempts)
        self._set_state(LinkState.CONNECTING)
        try:
            await self._open(link)
            await self._login(link)
        except (OSError, AmiError) as exc:
            self._last_error = exc
            reason = str(exc) or type(exc).__name__
            log.warning(
                "AMI %s: connection attempt %d failed: %s", self._where, link.attempt, reason
            )
            self._drop_link(link, f"attempt failed: {reason}")
            return
        self._backoff.reset()
        try:
            await self._supervise(link)
        except Exception as exc:
            self._drop_link(link, f"internal error: {exc!r}", abort=True)
            raise

    async def _open(self, link: _Link) -> None:
        settings = self._settings

        def make_protocol() -> AmiWireProtocol:
            return AmiWireProtocol(
                max_message_bytes=settings.max_message_bytes,
                on_message=partial(self._on_message, link),
                on_frame_error=self._on_frame_error,
                on_lost=partial(self._on_lost, link),
                on_read=self._on_read,
            )

        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(settings.connect_timeout):
                _, protocol = await loop.create_connection(
                    make_protocol, settings.host, settings.port
                )
        except TimeoutError:
            raise AmiTimeout(f"TCP connect timed out after {settings.connect_timeout}s") from None
        link.protocol = protocol
        self._link = link
        self._closing = link.transport_gone

    async def _login(self, link: _Link) -> None:
        settings = self._settings
        login = {
            "Action": "Login",
            "Username": settings.username,
            "Secret": settings.secret.reveal(),
            "Events": settings.event_mask,
        }
        try:
            await self._request(
                link,
                login,
                limit=settings.action_timeout,
                collect_list=False,
                on_success=partial(self._link_up, link),
            )
        except AmiActionFailed as exc:
            raise AmiLoginFailed(settings.username, exc.message) from None

    async def _supervise(self, link: _Link) -> None:
        """Ping every ping_interval; no answer within ping_timeout means a dead link
        (half-open sockets never report themselves). Returns when the link is gone."""
        settings = self._settings
        while not link.lost.done():
            done, _ = await asyncio.wait({link.lost}, timeout=settings.ping_interval)
            if done:
                break
            try:
                await self._request(link, _PING, limit=settings.ping_timeout, collect_list=False)
            except AmiTimeout:
                self._drop_link(
                    link,
                    f"no reply to Ping within {settings.ping_timeout}s; link presumed dead",
                    abort=True,
                )
            except (AmiActionFailed, AmiLinkLost):
                pass  # an error reply still proves the link alive; a lost link ends the loop

    # -- actions ------------------------------------------------------------------

    def _require_link(self) -> _Link:
        link = self._link
        if self._state is not LinkState.CONNECTED or link is None or not link.up:
            raise AmiNotConnected(f"AMI {self._where} is {self._state.value}; nothing was sent")
        return link

    async def _request(
        self,
        link: _Link,
        action: Mapping[str, ActionValue],
        *,
        limit: float | None,
        collect_list: bool,
        on_success: Callable[[AmiMessage], None] | None = None,
    ) -> ActionResult:
        name = action_name(action)
        action_id = self._ids.next()
        payload = encode_action(action, action_id)
        if limit is None:
            limit = self._settings.action_timeout
        protocol = link.protocol
        if protocol is None or link.lost.done():
            raise AmiLinkLost(name, link.reason or "link already closed")
        pending = link.pending.add(
            action_id, name, collect_list=collect_list, on_success=on_success
        )
        try:
            protocol.send(payload)
            self.stats.actions_sent += 1
            log.debug("AMI %s: sent %s", self._where, describe_action(action, action_id))
            async with asyncio.timeout(limit):
                result = await pending.future
        except TimeoutError:
            self.stats.action_timeouts += 1
            what = "complete reply" if collect_list else "reply"
            raise AmiTimeout(
                f"AMI {name} (ActionID {action_id}) got no {what} within {limit}s"
            ) from None
        except ConnectionError:
            raise AmiLinkLost(name, "transport already closed") from None
        finally:
            link.pending.discard(action_id)
        if not collect_list and (result[0].get("EventList") or "").lower() == "start":
            log.warning("AMI %s returned an event list; use send_list_action for it", name)
        return result

    # -- callbacks from the protocol (synchronous, in wire order) ---------------------

    def _on_message(self, link: _Link, message: AmiMessage) -> None:
        self.stats.messages_received += 1
        action_id = message.action_id
        if action_id is not None and self._ids.owns(action_id):
            delivery = link.pending.deliver(message)
            if delivery is Delivery.TAKEN:
                return
            if delivery is Delivery.LATE:
                self.stats.late_replies += 1
                log.debug("AMI %s: ignored a late reply (ActionID %s)", self._where, action_id)
                return
        if message.event is None:
            log.debug("AMI %s: ignored a Response to no action of ours", self._where)
            return
        if not link.up or link.lost.done():
            log.debug(
                "AMI %s: ignored event %s outside a logged-in link", self._where, message.event
            )
            return
        self.stats.events_dispatched += 1
        self._emit(message)

    def _on_frame_error(self, error: FrameError) -> None:
        self.stats.frames_skipped += 1
        log.warning(
            "AMI %s: skipped a message: %s; it starts %s", self._where, error.reason, error.excerpt
        )

    def _on_read(self, size: int) -> None:
        self.stats.reads += 1
        self.stats.bytes_received += size

    def _on_lost(self, link: _Link, exc: Exception | None) -> None:
        if not link.transport_gone.done():
            link.transport_gone.set_result(None)
        if exc is not None:
            reason = f"connection lost: {str(exc) or type(exc).__name__}"
        else:
            reason = "connection closed by Asterisk"
        self._mark_lost(link, link.reason or reason)

    def _link_up(self, link: _Link, response: AmiMessage) -> None:
        # Runs while the Login response is being handled, so LinkUp reaches the
        # sink before any event that follows it on the wire (FullyBooted).
        link.up = True
        self.stats.logins += 1
        if self.stats.logins > 1:
            self.stats.reconnects += 1
        self._last_error = None
        self._set_state(LinkState.CONNECTED)
        version = link.protocol.version if link.protocol is not None else None
        log.info(
            "AMI %s: logged in as %r (AMI %s, attempt %d)",
            self._where,
            self._settings.username,
            version,
            link.attempt,
        )
        self._emit(LinkUp(self._now(), version, link.attempt))

    # -- link teardown ----------------------------------------------------------------

    def _drop_link(
        self, link: _Link, reason: str, *, abort: bool = False, logoff: bool = False
    ) -> None:
        """Close a link on our side. Idempotent; the first reason wins."""
        if link.reason is None:
            link.reason = reason
        protocol = link.protocol
        if protocol is not None and not link.lost.done():
            if logoff and link.up:
                # Polite goodbye so Asterisk does not log an abrupt disconnect; no wait.
                with contextlib.suppress(ConnectionError):
                    protocol.send(encode_action({"Action": "Logoff"}, self._ids.next()))
            if abort:
                protocol.abort()
            else:
                protocol.close()
        self._mark_lost(link, link.reason)

    def _mark_lost(self, link: _Link, reason: str) -> None:
        if link.lost.done():
            return
        link.lost.set_result(reason)
        if self._link is link:
            self._link = None
        link.pending.fail_all(lambda action: AmiLinkLost(action.name, reason))
        if link.protocol is None and not link.transport_gone.done():
            link.transport_gone.set_result(None)
        if not link.up:
            return
        self.stats.link_losses += 1
        level = logging.INFO if self._state is LinkState.CLOSED else logging.WARNING
        log.log(level, "AMI %s: link down: %s", self._where, reason)
        self._set_state(LinkState.DISCONNECTED)
        self._emit(LinkDown(self._now(), reason))

    # -- small helpers --------------------------------------------------------------

    def _set_state(self, new: LinkState) -> None:
        old = self._state
        if old is new or old is LinkState.CLOSED:
            return  # CLOSED is final
        self._state = new
        # Set while there is nothing to wait for: logged in, or stopped for good.
        if new in (LinkState.CONNECTED, LinkState.CLOSED):
            self._settled.set()
        else:
            self._settled.clear()
        log.debug("AMI %s: state %s -> %s", self._where, old.value, new.value)

    def _emit(self, item: SinkItem) -> None:
        try:
            self._sink(item)
        except Exception:
            log.exception("AMI sink raised (it must only enqueue); item dropped")
