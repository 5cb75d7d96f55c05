"""Sending a transfer's AMI steps: in order, pipelined, each waiting for hold
music where it must, and giving the caller back to their desk when a step
that should have done so fails."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from enum import Enum, auto

from ami_client import AmiClient, AmiError
from ami_client.errors import AmiActionFailed, AmiLinkLost, AmiNotConnected, AmiTimeout
from ami_client.message import AmiMessage
from transfer.core import actions
from transfer.core.parties import Parties

log = logging.getLogger(__name__)

HOLD_WAIT_S = 3.0  # a channel sent to hold music is there within milliseconds
_GONE = re.compile(r"no such channel|does not exist", re.IGNORECASE)
# Asterisk may not have had the action at all: the link is the trouble.
_LINK_TROUBLE = (AmiNotConnected, AmiLinkLost, AmiTimeout)


class _Sent(Enum):
    DONE = auto()
    REFUSED = auto()  # Asterisk answered no (or the channel is gone)
    LINK_DOWN = auto()  # not done, or not known to be: the link is down


class AmiSender:
    def __init__(self) -> None:
        self.client: AmiClient | None = None
        self.last_sent = 0.0  # perf_counter when the latest action was written
        self._on_hold: dict[str, asyncio.Event] = {}  # set while on hold music
        # Callers whose give-back could not be sent for want of a link, by
        # Uniqueid: the transfer service sends them back once it is up again.
        self.owed: dict[str, Parties] = {}

    def note_hold(self, msg: AmiMessage) -> None:
        """Called as each AMI event arrives (not from the transfer worker, which
        may be waiting for exactly this)."""
        name = msg.event
        if name not in ("MusicOnHoldStart", "MusicOnHoldStop", "Hangup"):
            return
        uniqueid = msg.get("Uniqueid") or ""
        if name == "Hangup":
            self._on_hold.pop(uniqueid, None)
        elif name == "MusicOnHoldStart":
            self._on_hold.setdefault(uniqueid, asyncio.Event()).set()
        elif uniqueid in self._on_hold:
            self._on_hold[uniqueid].clear()

    async def send_all(self, steps: list[actions.AmiStep], parties: Parties) -> None:
        """Send in order without waiting for each answer (the AMI answers a
        session's actions in order anyway), except where a step must wait for
        channels to be on hold first."""
        batch: list[actions.AmiStep] = []
        for step in steps:
            if step.after_hold:
                await asyncio.gather(*(self.send(s, parties) for s in batch))
                batch = []
                await self.send(step, parties)
            else:
                batch.append(step)
        await asyncio.gather(*(self.send(s, parties) for s in batch))

    async def send(self, step: actions.AmiStep, parties: Parties | None = None) -> None:
        outcome = await self._sent(step)
        if outcome is _Sent.DONE or not step.gives_back or parties is None:
            return
        if outcome is _Sent.LINK_DOWN:
            # Sent now it would be lost too; the dialplan's hold limit is the
            # caller's safety net meanwhile.
            log.warning(
                "the caller on %s is owed a give-back: sent when the AMI link is back",
                parties.caller_channel,
            )
            self.owed[parties.caller_uniqueid] = parties
            return
        log.warning(
            "the caller on %s could not be given back: ringing their desk again",
            parties.caller_channel,
        )
        for fallback in actions.back_to_desk(parties):
            await self._sent(fallback)

    async def _sent(self, step: actions.AmiStep) -> _Sent:
        """Send one step and say whether Asterisk did it."""
        if self.client is None:
            log.error("no AMI link: %s not sent", step.action.get("Action"))
            return _Sent.LINK_DOWN
        await self._until_on_hold(step.after_hold)
        try:
            self.last_sent = time.perf_counter()  # written before send_action first waits
            await self.client.send_action(step.action)
            return _Sent.DONE
        except AmiActionFailed as exc:
            if step.may_be_gone and _GONE.search(str(exc)):
                # It hung up meanwhile: its Hangup event moves the transfer on.
                log.info("AMI %s: the channel is gone already (%s)", step.action.get("Action"), exc)
            else:
                log.error("AMI %s refused: %s", step.action.get("Action"), exc)
            return _Sent.REFUSED
        except _LINK_TROUBLE as exc:
            log.error("AMI %s not done: %s", step.action.get("Action"), exc)
            return _Sent.LINK_DOWN
        except AmiError as exc:
            log.error("AMI %s not done: %s", step.action.get("Action"), exc)
            return _Sent.REFUSED

    async def _until_on_hold(self, uniqueids: tuple[str, ...]) -> None:
        for uniqueid in uniqueids:
            waiting = self._on_hold.setdefault(uniqueid, asyncio.Event())
            try:
                await asyncio.wait_for(waiting.wait(), HOLD_WAIT_S)
            except TimeoutError:
                log.warning("%s is not on hold after %.0f s; going on", uniqueid, HOLD_WAIT_S)
