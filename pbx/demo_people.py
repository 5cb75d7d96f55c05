"""The demo's people: accounts to watch its calls in the pages with."""

from __future__ import annotations

import secrets
import subprocess
import sys

# People who sign in to the pages, with the phones the demo's calls ring.
DEMO_PEOPLE = (
    ("zhang110", "110坐席 张警官", "operator_110", "--phone", "op110-1"),
    ("li12345", "12345坐席 李话务", "operator_12345", "--phone", "op12345-1"),
    ("urban1", "城管局 值班员", "unit", "--unit", "urban"),
    ("zhao", "督查 赵科长", "supervisor"),
    ("admin1", "管理员 刘工", "admin"),
)


def show_pages(env: dict[str, str], base: str) -> None:
    """Accounts to watch the calls in a browser with (passwords made now, shown once)."""
    print(f"▶ the pages: open {base}/ in a browser and sign in as")
    for login, name, role, *extra in DEMO_PEOPLE:
        password = new_person(env, login, name, role, *extra)
        print(f"  {login:<10} {password}   {name}")
    print("  (zhang110's desk page pops the 110 calls below as op110-1 rings)\n")


def new_person(env: dict[str, str], login: str, name: str, role: str, *extra: str) -> str:
    """An account for the pages; on a demo database kept from before, a new password."""
    password = "demo-" + secrets.token_urlsafe(9)
    command = [sys.executable, "-m", "server", "user"]
    create = [*command, "create", "--login", login, "--name", name, "--role", role, *extra]
    made = subprocess.run(
        [*create, "--password-stdin"],
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:  # the login is there from an earlier demo
        subprocess.run(
            [*command, "password", login, "--password-stdin"],
            env=env,
            input=password + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
    return password
