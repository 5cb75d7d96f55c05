"""`make demo`: the testbed Asterisk, the server, and a few real calls to watch.

Starts Asterisk (if it isn't running), the liandong server on
http://127.0.0.1:8080, desk phones played by SIPp, then places calls of every
kind and prints each one as the API reports it. The server keeps running for
you to explore until Ctrl-C (set LIANDONG_DEMO_EXIT=1 to stop after the calls);
then it writes its last records and stops, and so does Asterisk if the demo
started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from county.calendar import COUNTY_TZ
from pbx import sipp, testbed
from pbx.demo_desks import demo_menu, demo_queue
from pbx.demo_notices import demo_case_config, demo_notice, show_follow_up, start_citizen_rating
from pbx.demo_people import show_pages

PORT = int(os.environ.get("LIANDONG_HTTP_PORT", "8080"))
BASE = f"http://127.0.0.1:{PORT}"


SERVER_STOP_S = 150.0  # the server's own stop budgets add up to about 110 s


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM: the demo ends. A BaseException, like
    KeyboardInterrupt, so that no `except Exception` on the way swallows it."""


class Stopper:
    """The first SIGINT or SIGTERM ends the demo wherever it is; once it is
    stopping, later ones are only acknowledged: a second Ctrl-C must not cut
    the server's last record writes short or leave Asterisk running."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.stopping:
            # os.write, not print: this may run in the middle of a print.
            os.write(2, b"  (already stopping; the server is writing its last records)\n")
            return
        self.stopping = True
        raise Interrupted(signal.Signals(signum).name)


def main() -> int:
    cfg = testbed.TestbedConfig.from_env()
    started_pbx = testbed.running_pid(cfg) is None
    try:
        keep_running = not os.environ.get("LIANDONG_DEMO_EXIT")
        return run(partial(start_testbed, cfg), show, keep_running=keep_running)
    finally:
        if started_pbx:
            testbed.down(cfg)
        print("▶ demo stopped")


def run(
    prepare: Callable[[], dict[str, str]],
    show_off: Callable[[dict[str, str]], None],
    *,
    keep_running: bool,
) -> int:
    """The server (started with the environment `prepare` returns), `show_off`,
    then, if `keep_running`, the wait for Ctrl-C; the server's stop on every
    way out. The server's exit status (0: every record written).

    Leaves SIGINT and SIGTERM only acknowledged: the demo exits next.
    """
    stopper = Stopper()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopper)
    server: subprocess.Popen[bytes] | None = None
    try:
        env = prepare()
        # Its own session: the terminal's Ctrl-C goes to the demo alone, which
        # passes one on; the server does not get two and say so.
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            env=env,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        wait_healthy(server)
        show_off(env)
        if keep_running:
            print("▶ the server keeps running; try the API above. Ctrl-C stops everything.")
            server.wait()
            print(f"▶ the server exited by itself (status {server.returncode})")
    except Interrupted:
        pass
    finally:
        stopper.stopping = True
    return 0 if server is None else stop_server(server)


def stop_with_parent() -> None:
    """In the server's process, before it runs: should the demo die without
    stopping it (killed, its output pipe gone), the server gets a SIGINT
    from the kernel and stops as after Ctrl-C, rather than live on alone."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGINT)


def stop_server(server: subprocess.Popen[bytes]) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # first: telling about it may fail (a closed pipe)
        say("▶ stopping the server (it writes its last records first)…")
        try:
            server.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            say(f"  the server did not stop within {SERVER_STOP_S:.0f} s: killed it")
            server.kill()
            server.wait()
    return server.returncode


def say(text: str) -> None:
    """Print, but never fail for it: stopping goes on if the terminal is gone."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


def start_testbed(cfg: testbed.TestbedConfig) -> dict[str, str]:
    print("▶ starting the Asterisk testbed (the first time builds it: about a minute)…")
    testbed.up(cfg)
    # The shipped dialplan's own settings, whatever a test run left behind.
    testbed.cli(cfg, "dialplan set global MENU_12345 ivr-12345")
    testbed.staff_desks(cfg)
    return server_env(cfg)


def show(env: dict[str, str]) -> None:
    """Calls of every kind, a transfer, and the case it leads to."""
    token = new_token(env, "admin", "demo")
    tokens = {
        "12345": new_token(env, "operator_12345", "12345 李话务", "--phone", "op12345-1"),
        "urban": new_token(env, "unit", "城管局 值班员", "--unit", "urban"),
    }
    print(f"▶ server up: {BASE}   admin token: {token}")
    print(f"  curl -H 'Authorization: Bearer {token}' {BASE}/api/v1/calls")
    show_pages(env, BASE)
    work = Path(tempfile.mkdtemp(prefix="liandong-demo-"))
    phones: list[sipp.Phone] = []
    try:
        phones += [
            sipp.start_phone("op110-1", work, ring_ms=1500, talk_ms=3000),
            sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS),
            sipp.start_phone("op12345-1", work, ring_ms=2000, talk_ms=sipp.NEVER_MS),
            sipp.start_phone("op12345-2", work, busy=True),
        ]
        demo_calls(work, token)
        for phone in phones:
            phone.stop()
        phones = []
        demo_queue(work, token, get)
        demo_menu(work, token, get)
        # A hand-over: fresh phones, since a phone presses its keys on its first call only.
        phones += [
            sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS),
            sipp.start_phone("op12345-2", work, busy=True),
            sipp.start_phone("op110-1", work, ring_ms=1500, keys="*1", keys_after_ms=2000),
            sipp.start_phone("op12345-1", work, ring_ms=2000, talk_ms=4000),
        ]
        call = demo_transfer(work, token)
        if call is not None:
            phones.append(start_citizen_rating(work))
            number = demo_case(token, tokens, call)
            show_follow_up(get, token, number)
        demo_notice(work, tokens["12345"], get, post)
    finally:
        for phone in phones:
            phone.stop()


def demo_calls(work: Path, token: str) -> None:
    steps = [
        (
            "市民张三 calls 110; an operator answers, talks, hangs up",
            dict(trunk="110", number_prefix="1390000", caller_name="张三", talk_ms=60_000),
        ),
        (
            "市民李四 calls 12345 and presses * for an operator at once; the operator answers",
            dict(
                trunk="12345", number_prefix="1380000", caller_name="李四", keys=".*", talk_ms=9000
            ),
        ),
        (
            "市民王五 calls 110 and gives up while it rings",
            dict(trunk="110", number_prefix="1370000", caller_name="王五", cancel_after_ms=1000),
        ),
    ]
    for title, kwargs in steps:
        print(f"▶ {title}")
        trunk = str(kwargs.pop("trunk"))
        since = now()
        result = sipp.call(trunk, work, **kwargs)  # type: ignore[arg-type]
        print(f"  SIPp: {result.outcomes}")
        show_latest(token, str(kwargs["number_prefix"]), since)


def demo_transfer(work: Path, token: str) -> dict[str, Any] | None:
    print("▶ 市民赵六 calls 110 about a broken street light (not a police matter): the 110")
    print("  operator presses *1 and the 12345 desk takes the caller")
    since = now()
    result = sipp.call("110", work, number_prefix="1360000", caller_name="赵六", talk_ms=60_000)
    print(f"  SIPp: {result.outcomes}")
    call = show_latest(token, "1360000", since)
    for transfer in get("/api/v1/transfers?limit=1", token)["transfers"]:
        steps = " → ".join(f"{s['to']} ({s['reason']})" for s in transfer["timeline"])
        print(f"  transfer {transfer['id']} {transfer['mode']} to {transfer['target']}: {steps}\n")
    return call


def demo_case(token: str, tokens: dict[str, str], call: dict[str, Any]) -> str:
    """赵六's call opened a case, which followed him to 12345: take it to the end."""
    [number] = get(f"/api/v1/calls/{call['id']}", token)["cases"]
    print(f"▶ the call opened case {number}; it followed the caller to 12345, who routes it:")
    case = f"/api/v1/cases/{number}"
    hotline, unit = tokens["12345"], tokens["urban"]
    matter = "城关镇建设路的路灯坏了一个星期"
    query = urllib.parse.urlencode({"text": matter, "township": "chengguan"})
    suggestion = get(f"{case}/suggestion?{query}", hotline)
    print(
        f"  suggestion: {suggestion['route']} → {suggestion['lead_unit']} ({suggestion['reason']})"
    )
    moves = [
        (
            "classify",
            hotline,
            {
                "demand_type": "help",
                "route": "hotline",
                "township": "chengguan",
                "category": suggestion["category"],
                "description": matter,
            },
        ),
        ("dispatch", hotline, {"lead_unit": suggestion["lead_unit"]}),
        ("sign", unit, {}),
        ("arrive", unit, {"note": "维修人员已到场"}),
        ("feed_back", unit, {"measures": "更换灯杆线路"}),
        ("reply", unit, {"measures": "更换灯杆线路", "result": "路灯已恢复", "handler": "王某某"}),
        ("approve_reply", hotline, {}),
        ("close", hotline, {}),
    ]
    for command, who, body in moves:
        post(f"{case}/{command}", who, body)
    final = get(case, unit)
    print(
        f"  as the unit sees it: caller {final['caller']['number']}, "
        f"due {county_time(final['due']['close'])}, state {final['state_label']}"
    )
    for entry in final["timeline"]:
        print(
            f"    {short(entry['at'])} {entry['command']:<15} {entry['to']:<12} "
            f"{entry['role']:<15} {entry['actor']}"
        )
    print()
    return str(number)


def new_token(env: dict[str, str], role: str, name: str, *extra: str) -> str:
    command = [sys.executable, "-m", "server", "token", "create", "--role", role, "--name", name]
    created = subprocess.run(
        [*command, *extra], env=env, capture_output=True, text=True, check=True
    )
    return created.stdout.strip()


def post(path: str, token: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def show_latest(token: str, prefix: str, since: str) -> dict[str, Any] | None:
    """The call from these numbers placed since `since`, once it has ended (the
    demo's database may hold calls of earlier runs)."""
    deadline = time.monotonic() + 10
    query = urllib.parse.urlencode({"limit": 20, "since": since})
    while time.monotonic() < deadline:
        calls: list[dict[str, Any]] = get(f"/api/v1/calls?{query}", token)["calls"]
        mine = [c for c in calls if (c["caller_number"] or "").startswith(prefix)]
        if mine and mine[0]["ended_at"]:
            print_call(mine[0])
            return mine[0]
        time.sleep(0.3)
    print("  (the call did not show up as ended within 10 s)")
    return None


def print_call(call: dict[str, Any]) -> None:
    print(
        f"  call {call['id']}  trunk {call['trunk']}  caller {call['caller_name']} "
        f"{call['caller_number']}  answered {call['answered_at'] or '—'}"
    )
    for leg in call["legs"]:
        print(
            f"    {leg['role']:<15} {leg['endpoint']:<12} {leg['direction']:<8} "
            f"ring {short(leg['ringing_at'])} answer {short(leg['answered_at'])} "
            f"end {short(leg['ended_at'])}  cause {leg['hangup_cause']} "
            f"{leg['hangup_cause_text'] or ''}"
        )
    print()


def now() -> str:
    return datetime.now(UTC).isoformat()


def county_time(stamp: str) -> str:
    """An API time (UTC) as the county reads it: 2026-12-02 00:00 (UTC+8)."""
    local = datetime.fromisoformat(stamp).astimezone(COUNTY_TZ)
    return local.strftime("%Y-%m-%d %H:%M (UTC+8)")


def short(stamp: str | None) -> str:
    return stamp[11:23] if stamp else "—" + " " * 11


def get(path: str, token: str) -> Any:
    request = urllib.request.Request(BASE + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def wait_healthy(server: subprocess.Popen[bytes], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited at start (status {server.returncode}): see above")
        try:
            with urllib.request.urlopen(BASE + "/api/v1/health", timeout=2) as response:
                if json.loads(response.read())["ok"]:
                    return
        except (urllib.error.URLError, ConnectionError, ValueError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server did not become healthy at {BASE} within {within:.0f}s")


def server_env(cfg: testbed.TestbedConfig) -> dict[str, str]:
    env = dict(os.environ)
    testbed.ami_secret(cfg)  # make sure the secret file exists
    if not env.get("LIANDONG_AMI_SECRET"):
        env["LIANDONG_AMI_SECRET_FILE"] = str(cfg.paths.secret_file)
    env.setdefault(
        "LIANDONG_CEL_URL", f"sqlite+aiosqlite:///file:{cfg.paths.cel_db}?mode=ro&uri=true"
    )
    env.setdefault("LIANDONG_QUEUE_LOG", str(cfg.paths.queue_log))
    env.setdefault("LIANDONG_NOTICE_AUDIO_DIR", str(cfg.paths.notice_audio))
    env.setdefault("LIANDONG_NOTICE_AUDIO_PBX_DIR", testbed.NOTICE_AUDIO)
    env.setdefault("LIANDONG_NOTICE_RECORDINGS", testbed.NOTICE_RECORDINGS)
    env.setdefault("LIANDONG_NOTICE_RECORDINGS_DIR", str(cfg.paths.notice_recordings))
    env.setdefault("LIANDONG_HTTP_PORT", str(PORT))
    env.setdefault("LIANDONG_CASE_CONFIG", str(demo_case_config(cfg.paths.cache)))
    return env


if __name__ == "__main__":
    sys.exit(main())
