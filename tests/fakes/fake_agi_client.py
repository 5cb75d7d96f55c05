"""A fake Asterisk running AGI(agi://…) against the server over loopback.

It speaks what res_agi speaks (tests/fakes/res_agi.py has the reading rules,
ported from res/res_agi.c): the environment, then one command at a time, each
read up to its newline (at most 8191 bytes) and split with parse_args; replies
as Asterisk words them; a line starting "failure" ends the AGI with FAILURE,
end of file ends it with SUCCESS; after either it sends HANGUP and closes.
A hang-up (`hang_up_after`) sends HANGUP and closes, as with AGIEXITONHANGUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.fakes.res_agi import AGI_BUF_LEN, parse_args


def agi_environment(
    script: str,
    args: Sequence[str] = (),
    *,
    uniqueid: str = "liandong-1796236168.1",
    channel: str = "PJSIP/trunk-12345-00000001",
    caller_number: str = "13800001111",
    caller_name: str = "张三",
) -> bytes:
    """The environment as res_agi's setup_env() writes it."""
    lines = [
        "agi_network: yes",
        *([f"agi_network_script: {script}"] if script else []),
        f"agi_request: agi://127.0.0.1:4573/{script}",
        f"agi_channel: {channel}",
        "agi_language: zh",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.10.1",
        f"agi_callerid: {caller_number or 'unknown'}",
        f"agi_calleridname: {caller_name or 'unknown'}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        "agi_dnid: 12345",
        "agi_rdnis: unknown",
        "agi_context: ivr-12345",
        "agi_extension: s",
        "agi_priority: 3",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140496904492736",
        *(f"agi_arg_{n}: {value}" for n, value in enumerate(args, start=1)),
    ]
    return ("\n".join(lines) + "\n\n").encode()


@dataclass
class AgiRun:
    """What one AGI() call ended with, as the dialplan would see it."""

    status: str  # AGISTATUS: SUCCESS | FAILURE | HANGUP
    variables: dict[str, str]
    commands: list[list[str]]  # every command as parse_args split it
    elapsed: float
    received_after_end: bytes = b""  # anything the server wrote after the AGI ended


@dataclass
class FakeAsterisk:
    port: int
    linkedid: str | None = "liandong-1796236168.0"
    # Replies overriding the normal ones, by command word ("SET", "GET"), in order.
    scripted: dict[str, list[bytes]] = field(default_factory=dict)

    async def call(
        self,
        environment: bytes,
        *,
        chunk_size: int | None = None,
        hang_up_after: float | None = None,
        within: float = 5.0,
    ) -> AgiRun:
        """Run one AGI(): send `environment` (in chunks of `chunk_size` bytes, each
        drained on its own), then serve the commands until the AGI ends."""
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        variables: dict[str, str] = {}
        commands: list[list[str]] = []
        try:
            size = chunk_size or len(environment)
            for at in range(0, len(environment), size):
                writer.write(environment[at : at + size])
                await writer.drain()
            async with asyncio.timeout(within):
                status = await self._dialog(reader, writer, variables, commands, hang_up_after)
            with contextlib.suppress(ConnectionError):
                writer.write(b"HANGUP\n")  # what run_agi sends once the script ended
                await writer.drain()
            after = b""
            if status != "HANGUP":
                with contextlib.suppress(ConnectionError, TimeoutError):
                    async with asyncio.timeout(1.0):
                        after = await reader.read()
            return AgiRun(status, variables, commands, time.monotonic() - started, after)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _dialog(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        variables: dict[str, str],
        commands: list[list[str]],
        hang_up_after: float | None,
    ) -> str:
        hang_up_at = None if hang_up_after is None else time.monotonic() + hang_up_after
        while True:
            read = asyncio.ensure_future(_read_command(reader))
            timeout = None if hang_up_at is None else max(0.0, hang_up_at - time.monotonic())
            done, _ = await asyncio.wait({read}, timeout=timeout)
            if not done:
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                writer.write(b"HANGUP\n")
                await writer.drain()
                return "HANGUP"
            line = read.result()
            if line is None:
                return "SUCCESS"  # the server closed: "AGI Script completed"
            if line[:7].lower() == b"failure":
                return "FAILURE"
            words = parse_args(line)
            commands.append([w.decode("utf-8", "replace") for w in words])
            writer.write(self._reply(words, variables))
            await writer.drain()

    def _reply(self, words: list[bytes], variables: dict[str, str]) -> bytes:
        verb = words[0].decode().upper() if words else ""
        if self.scripted.get(verb):
            return self.scripted[verb].pop(0)
        upper = [w.upper() for w in words[:2]]
        if upper == [b"SET", b"VARIABLE"]:
            if len(words) != 4:
                return (
                    b"520-Invalid command syntax.  Proper usage follows:\n"
                    b"Sets a variable to the current channel.\n520 End of proper usage.\n"
                )
            variables[words[2].decode()] = words[3].decode()
            return b"200 result=1\n"
        if upper == [b"GET", b"VARIABLE"] and len(words) == 3:
            if words[2] == b"CHANNEL(linkedid)":
                value = self.linkedid
            else:
                value = variables.get(words[2].decode())
            return b"200 result=0\n" if value is None else f"200 result=1 ({value})\n".encode()
        return b"510 Invalid or unknown command\n"


async def _read_command(reader: asyncio.StreamReader) -> bytes | None:
    """One command as run_agi reads it: up to b"\\n", at most 8191 bytes; None at EOF."""
    line = b""
    while len(line) < AGI_BUF_LEN - 1:
        byte = await reader.read(1)
        if not byte:
            return line if line else None
        if byte == b"\n":
            return line
        line += byte
    return line
