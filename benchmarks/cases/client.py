"""The load client: a separate process, so that it does not share the server's
event loop (it still shares the machine's two cores with the server and the
database: the figures say so).

    python -m benchmarks.cases.client < plan.json > result.json

The plan (JSON on stdin): the server's base URL, the tokens, the number of
concurrent workers, and the cases: each a create body and its moves
[command, user, body]. Warm-up cases are played first, untimed. Then two
timed phases:

1. create: every case POSTed to /api/v1/cases by the workers together;
2. moves: each worker takes a case and plays its moves in order (a case's
   moves are sequential by nature), until no case is left.

Each request is timed from just before it is sent until its whole body is
read. The result (JSON on stdout): each phase's wall time and latencies per
command, the client's own CPU time, and any request that did not succeed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from benchmarks.common import cpu_seconds


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, tokens: dict[str, str]) -> None:
        self.session = session
        self.base = base
        self.headers = {user: {"Authorization": f"Bearer {t}"} for user, t in tokens.items()}
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []

    async def post(self, what: str, path: str, user: str, body: Any, expect: int) -> Any:
        started = time.perf_counter()
        async with self.session.post(
            self.base + path, json=body, headers=self.headers[user]
        ) as resp:
            payload = await resp.read()
            status = resp.status
        self.latencies.setdefault(what, []).append(time.perf_counter() - started)
        if status != expect:
            self.errors.append(f"{what} {path}: HTTP {status} {payload[:300]!r}")
            return None
        return json.loads(payload)

    async def create(self, case: dict[str, Any]) -> None:
        created = await self.post("create", "/api/v1/cases", case["user"], case["create"], 201)
        case["number"] = created["number"] if created else None

    async def play(self, case: dict[str, Any]) -> None:
        number = case["number"]
        if number is None:
            return
        for command, user, body in case["moves"]:
            if (
                await self.post(command, f"/api/v1/cases/{number}/{command}", user, body, 200)
                is None
            ):
                return


async def together(
    workers: int, items: list[dict[str, Any]], work: Callable[[dict[str, Any]], Awaitable[None]]
) -> float:
    """`workers` tasks taking items off one queue; the wall time until all are done."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    workers = int(plan["workers"])
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(session, plan["base"], plan["tokens"])
        warmup, cases = plan["warmup"], plan["cases"]
        await together(workers, warmup, client.create)
        await together(workers, warmup, client.play)
        warm_errors = list(client.errors)
        client.latencies.clear()

        cpu = cpu_seconds()
        create_s = await together(workers, cases, client.create)
        create_latencies, client.latencies = client.latencies, {}
        create_cpu, cpu = cpu_seconds() - cpu, cpu_seconds()
        moves_s = await together(workers, cases, client.play)
        moves_cpu = cpu_seconds() - cpu
    return {
        "create": {"seconds": create_s, "cpu_s": create_cpu, "latencies": create_latencies},
        "moves": {"seconds": moves_s, "cpu_s": moves_cpu, "latencies": client.latencies},
        "numbers": [case["number"] for case in cases],
        "errors": warm_errors + client.errors,
    }


def main() -> int:
    plan = json.load(sys.stdin)
    json.dump(asyncio.run(run(plan)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
