"""The desks' records saved in their own task: a queue event never waits for
the database, and a database that is down only delays the records (kept,
saved again whole when it is back)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from ivr_flows.core.desk_events import MenuStep
from ivr_flows.core.operators import Operator
from ivr_flows.core.waits import Wait
from ivr_flows.storage.repository import DeskRepository

log = logging.getLogger(__name__)

SAVE_RETRY_S = 2.0


class DeskStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.unsaved_waits: dict[str, Wait] = {}
        self.unsaved_states: list[Operator] = []  # in the order they happened
        self.unsaved_steps: list[MenuStep] = []
        self._dirty = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def wait_changed(self, wait: Wait) -> None:
        self.unsaved_waits[wait.wait_id] = wait
        self._mark()

    def state_changed(self, op: Operator) -> None:
        self.unsaved_states.append(op)
        self._mark()

    def step_taken(self, step: MenuStep) -> None:
        self.unsaved_steps.append(step)
        self._mark()

    def _mark(self) -> None:
        self._idle.clear()
        self._dirty.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if await self.flush():
                if not self._dirty.is_set():
                    self._idle.set()
            else:
                await asyncio.sleep(SAVE_RETRY_S)
                self._dirty.set()

    async def saved(self) -> None:
        """Wait until everything marked so far is saved (tests, shutdown)."""
        await self._idle.wait()

    async def flush_within(self, seconds: float) -> bool:
        """Flush, retrying while the database refuses, for up to `seconds`
        (shutdown, where no later save will come)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not await self.flush():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        return True

    async def flush(self) -> bool:
        if not self.unsaved_waits and not self.unsaved_states and not self.unsaved_steps:
            return True
        waits = dict(self.unsaved_waits)
        states = list(self.unsaved_states)
        steps = list(self.unsaved_steps)
        try:
            async with self.sessions() as session:
                await session.connection(execution_options=WRITE_TRANSACTION)
                repo = DeskRepository(session)
                for op in states:
                    await repo.enter_state(op)
                for wait in waits.values():
                    await repo.save_wait(wait)
                for step in steps:
                    await repo.add_step(step)
                await session.commit()
        except Exception as exc:  # the database is down: keep them, try again
            log.error(
                "could not save %d waits, %d operator states and %d menu steps (will retry): %s",
                len(waits),
                len(states),
                len(steps),
                exc,
            )
            return False
        del self.unsaved_states[: len(states)]
        del self.unsaved_steps[: len(steps)]
        for wait_id, wait in waits.items():
            if self.unsaved_waits.get(wait_id) is wait:  # unless it changed meanwhile
                del self.unsaved_waits[wait_id]
        return True
