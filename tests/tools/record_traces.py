"""Record real AMI traces from the testbed into tests/fixtures/*.ami.

Run: .venv/bin/python -m tests.tools.record_traces   (with `liandong pbx up` done)

Each trace is the raw byte stream the `liandong` AMI account receives (greeting,
login response, events) while one SIPp scenario runs. The login *action* is
sent, not recorded, so no secret ends up in a fixture.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pbx import sipp, testbed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def record(name: str, scenario: Callable[[Path], None]) -> Path:
    cfg = testbed.TestbedConfig.from_env()
    secret = testbed.ami_secret(cfg)
    chunks: list[bytes] = []
    sock = socket.create_connection((cfg.ami_host, cfg.ami_port))
    sock.sendall(f"Action: Login\r\nUsername: liandong\r\nSecret: {secret}\r\n\r\n".encode())
    stop = threading.Event()

    def reader() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            chunks.append(data)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.3)
    with tempfile.TemporaryDirectory() as tmp:
        scenario(Path(tmp))
    time.sleep(1.0)  # the last Hangup / BridgeDestroy events
    stop.set()
    thread.join()
    sock.close()
    out = FIXTURES / f"{name}.ami"
    out.write_bytes(b"".join(chunks))
    print(f"{out}: {out.stat().st_size} bytes")
    return out


def answered_110(work: Path) -> None:
    op1 = sipp.start_phone("op110-1", work, ring_ms=300, talk_ms=1500)
    op2 = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)
    try:
        sipp.call("110", work, number_prefix="1390000", caller_name="张三丰", talk_ms=60000)
    finally:
        op1.stop()
        op2.stop()


def noanswer_12345(work: Path) -> None:
    cfg = testbed.TestbedConfig.from_env()
    testbed.cli(cfg, "dialplan set global DESK_RING_TIMEOUT 2")
    phones = [sipp.start_phone(n, work, ring_ms=sipp.NEVER_MS) for n in ("op12345-1", "op12345-2")]
    try:
        sipp.call("12345", work, number_prefix="1380000", caller_name="李四")
    finally:
        for phone in phones:
            phone.stop()
        testbed.cli(cfg, "dialplan set global DESK_RING_TIMEOUT 20")


def busy_110(work: Path) -> None:
    phones = [sipp.start_phone(n, work, busy=True) for n in ("op110-1", "op110-2")]
    try:
        sipp.call("110", work, number_prefix="1370000", caller_name="王五")
    finally:
        for phone in phones:
            phone.stop()


def cancel_110(work: Path) -> None:
    phones = [sipp.start_phone(n, work, ring_ms=sipp.NEVER_MS) for n in ("op110-1", "op110-2")]
    try:
        sipp.call("110", work, number_prefix="1360000", caller_name="赵六", cancel_after_ms=800)
    finally:
        for phone in phones:
            phone.stop()


def burst_12345(work: Path) -> None:
    phones = [sipp.start_phone(n, work, ring_ms=200) for n in ("op12345-1", "op12345-2")]
    try:
        sipp.call(
            "12345",
            work,
            number_prefix="1350000",
            caller_name="市民",
            calls=6,
            rate=20,
            talk_ms=800,
        )
    finally:
        for phone in phones:
            phone.stop()


if __name__ == "__main__":
    for fn in (answered_110, noanswer_12345, busy_110, cancel_110, burst_12345):
        record(fn.__name__, fn)
