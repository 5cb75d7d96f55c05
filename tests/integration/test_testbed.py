"""`liandong pbx up | down | status`: idempotent, and down touches only its own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from pbx import testbed


def test_up_again_is_idempotent_and_status_says_what_runs(pbx: testbed.TestbedConfig) -> None:
    pid = testbed.running_pid(pbx)
    started = time.monotonic()
    assert testbed.up(pbx) == pid
    assert time.monotonic() - started < 2.0  # nothing rebuilt, nothing restarted
    state = testbed.status(pbx)
    assert state["pid"] == pid and state["ami_answers"] is True and state["root_built"]
    assert "System uptime" in str(state["uptime"])


def test_down_never_kills_a_process_it_did_not_start(tmp_path: Path) -> None:
    cfg = testbed.TestbedConfig.from_env(
        {"LIANDONG_PBX_CACHE": str(tmp_path), "LIANDONG_AMI_PORT": "1"}
    )
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        cfg.paths.cache.mkdir(parents=True, exist_ok=True)
        cfg.paths.pidfile.write_text(f"{stranger.pid}\n")  # a stale pid, reused by someone else
        assert testbed.running_pid(cfg) is None
        assert testbed.down(cfg) is False
        assert stranger.poll() is None  # still alive
        assert not cfg.paths.pidfile.exists()
    finally:
        stranger.kill()
        stranger.wait()
