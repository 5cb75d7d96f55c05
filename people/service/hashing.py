"""Argon2id hashing off the event loop.

One hash or check costs about 0.15 s of CPU and 64 MiB (argon2-cffi's
defaults, RFC 9106's second recommendation): run on the loop it would stall
the AMI pipeline, so it runs in a thread, at most two at once (a guesser
cannot take both cores from the calls for longer than two checks). At most
MAX_WAITING more wait their turn: beyond that (a flood of sign-ins, from one
address or many) `Busy` is raised at once, rather than a queue that grows
without end, each waiter holding a request and its password in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_AT_ONCE = 2
# About 1.5 s of waiting at 0.16 s a check on two threads: a person signing
# in during a flood is told to try again at once, not left hanging.
MAX_WAITING = 16


class Busy(Exception):
    """Too many passwords are waiting to be checked; try again in a moment."""


class Hasher:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = asyncio.Semaphore(_AT_ONCE)
        self._queued = 0  # running and waiting
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._turn():
            return await asyncio.to_thread(self._hasher.hash, password)

    async def check(self, stored: str, password: str) -> bool:
        async with self._turn():
            return await asyncio.to_thread(self._matches, stored, password)

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._queued >= _AT_ONCE + MAX_WAITING:
            raise Busy(f"{self._queued} password checks under way or waiting")
        self._queued += 1
        try:
            async with self._slots:
                yield
        finally:
            self._queued -= 1

    async def check_nobody(self, password: str) -> bool:
        """As long as a real check, for a login that does not exist: the
        answer's timing must not tell which logins do."""
        if self._decoy is None:
            self._decoy = await self.hash("no such account, never matches")
        await self.check(self._decoy, password + "\0")
        return False

    def needs_rehash(self, stored: str) -> bool:
        """Stored with weaker parameters than today's (rehashed at the next sign-in)."""
        return self._hasher.check_needs_rehash(stored)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
