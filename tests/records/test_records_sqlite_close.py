"""A server stopping with a SQLite statement in flight does not hang (database/sqlite_close.py).

Without the mend this exact sequence hung in asyncio's final cancellation of
all tasks for ever (as a CI run once did for 20 minutes in a test's teardown).
It runs in its own process so that a hang fails this test instead of the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STOP_WITH_A_QUERY_IN_FLIGHT = textwrap.dedent(
    """
    import asyncio, sys, time
    from sqlalchemy import text
    from database.engine import create_engine

    # About 3 s of work for SQLite: still running when the loop closes.
    SLOW = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000)"
            " SELECT count(*) FROM c")

    async def main():
        engine = create_engine("sqlite:///" + sys.argv[1])

        async def query():
            async with engine.connect() as connection:
                await connection.execute(text(SLOW))

        task = asyncio.create_task(query())
        await asyncio.sleep(0.3)
        task.cancel()  # SQLAlchemy now closes the connection gracefully, shielded
        await asyncio.sleep(0.05)
        task.cancel()  # ... and force-closes it when cancelled again meanwhile
        await asyncio.sleep(0.05)

    started = time.monotonic()
    asyncio.run(main())  # ends by cancelling what is left: the graceful close
    print(f"stopped after {time.monotonic() - started:.1f} s")
    """
)


def test_a_loop_closing_while_a_cancelled_statement_is_closed_does_not_hang(tmp_path: Path) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", STOP_WITH_A_QUERY_IN_FLIGHT, str(tmp_path / "x.db")],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as hung:
        raise AssertionError("the process hung closing its SQLite connection") from hung
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped after"), done.stdout
