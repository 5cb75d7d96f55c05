"""`liandong user …` as an administrator runs it: a real process on the
server's database. A person disabled from the command line (another process,
which only writes the database) loses their open live feed within seconds."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType

from common.vocabulary import Role
from server import create_app
from tests.component.cases_kit import case_settings
from tests.component.people_kit import PASSWORD, Browser
from tests.component.test_server_stop import liandong_command


async def liandong_user(db_url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "LIANDONG_DB_URL": db_url}
    child = await asyncio.create_subprocess_exec(
        *liandong_command(),
        "user",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(stdin.encode() if stdin else b""), 60)
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_an_admin_makes_accounts_from_the_command_line(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/county.db"
    operator = [
        "--login",
        "zhang110",
        "--role",
        "operator_110",
        "--phone",
        "op110-1",
        "--password-stdin",
    ]
    code, out, err = await liandong_user(
        db_url, "create", "--name", "110坐席 张警官", *operator, stdin=PASSWORD + "\n"
    )
    assert code == 0 and out.strip() == "user 1 created: zhang110 (operator_110)", err

    refusals = {
        "the password too short": (["--login", "li", "--role", "supervisor"], "short-1\n"),
        "a unit not in the roster": (
            ["--login", "li", "--role", "unit", "--unit", "atlantis"],
            PASSWORD + "\n",
        ),
        "an operator without a desk phone": (["--login", "li", "--role", "operator_110"], PASSWORD),
        "the login taken": (["--login", "zhang110", "--role", "supervisor"], PASSWORD + "\n"),
        "a login with spaces": (["--login", "li si", "--role", "supervisor"], PASSWORD + "\n"),
    }
    for what, (args, password) in refusals.items():
        code, out, err = await liandong_user(
            db_url, "create", "--name", "某人", *args, "--password-stdin", stdin=password
        )
        assert code == 2 and out == "", what
        # One line that says what is wrong (after the migration log, on a first run).
        said = [line for line in err.splitlines() if line.startswith("liandong user: ")]
        assert len(said) == 1 and err.endswith(said[0] + "\n"), (what, err)
    # Without --password-stdin and without a terminal: told how, nothing made.
    code, _, err = await liandong_user(
        db_url, "create", "--login", "li", "--name", "李", "--role", "admin"
    )
    assert code == 2 and "--password-stdin" in err

    code, out, _ = await liandong_user(db_url, "list")
    assert code == 0
    [line] = out.splitlines()
    assert line.split("\t") == [
        "1",
        "zhang110",
        "operator_110",
        "110坐席 张警官",
        "op110-1",
        "active",
    ]
    assert "argon2" not in out


async def test_disabling_from_the_command_line_closes_the_persons_open_feed(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path}/county.db"
    supervisor = ["--login", "zhao", "--role", "supervisor", "--password-stdin"]
    code, _, err = await liandong_user(
        db_url, "create", "--name", "督查 赵科长", *supervisor, stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    app = create_app(
        case_settings(db_url.replace("sqlite:", "sqlite+aiosqlite:"), ladder_interval=0)
    )
    browser = Browser(await aiohttp_client(app))
    assert (await browser.sign_in("zhao")).status == 201
    ws = await browser.client.ws_connect("/api/v1/live", headers={"Origin": browser.origin})
    assert (await ws.receive_json())["data"] == {"role": Role.SUPERVISOR.value}

    code, out, _ = await liandong_user(db_url, "disable", "zhao")
    assert code == 0 and out.strip().startswith("zhao can no longer sign in")
    async with asyncio.timeout(3):  # the revocation watch asks every second
        closing = await ws.receive()
    assert (closing.type, closing.data, closing.extra) == (WSMsgType.CLOSE, 4001, "signed out")
    status, body = await browser.get("/api/v1/session")
    assert status == 401 and body["error"]["details"]["reason"] == "disabled"

    code, out, _ = await liandong_user(db_url, "disable", "nobody")
    assert code == 2
