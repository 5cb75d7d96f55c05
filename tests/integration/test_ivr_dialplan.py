"""The generated 12345 menu, run by a real Asterisk 22 (a private instance from
the testbed's root: `private_asterisk`; the testbed itself is not used).

Asterisk's own parser loads the generated file (every context present, no
warning), and test calls walk it: Local channels whose other half presses
keys with SendDTMF, the desk queue and ivr-mark replaced by stubs that log
what they were given, a small FastAGI server answering `case-status`. The
marks logged are what the server would receive as `UserEvent(LdIvr)`.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ivr_flows.core.flow_load import load_flows
from ivr_flows.core.flow_model import HANGUP, Flow, Hangup, Key, Menu, Play
from ivr_flows.core.menu_dialplan import dialplan
from pbx import testbed
from tests.integration.private_asterisk import PrivateAsterisk, silence_wav

ROOT = Path(__file__).resolve().parents[2]
# The prompt ids the real 12345 menu uses (the catalogue is checked elsewhere).
PROMPTS = (
    *("greeting/12345", "menu/emergency", "menu/main", "menu/invalid", "menu/timeout"),
    *(
        "transfer/operator",
        "case/enter_number",
        "case/not_found",
        "service/unavailable",
    ),
)
# What the generated dialplan needs, and what the test drives it with.
MODULES = (
    *("pbx_config.so", "app_playback.so", "app_read.so", "app_stack.so", "res_agi.so"),
    *("res_speech.so", "res_timing_timerfd.so", "format_wav.so"),
    *("app_verbose.so", "app_senddtmf.so", "res_clioriginate.so", "func_timeout.so"),
)
CASE_NO = "2026000123"

# scenario → (flow, what the caller's side does, a channel variable or "")
SCENARIOS = {
    "emergency_in_greeting": ("12345", "Wait(0.3)|SendDTMF(0)", ""),
    "hint": ("12345", "Wait(3.5)|SendDTMF(3)", ""),
    "invalid_then_star": ("12345", "Wait(3.5)|SendDTMF(7)|Wait(4.5)|SendDTMF(*)", ""),
    "case_found": ("12345", f"Wait(3.5)|SendDTMF(5)|Wait(1.5)|SendDTMF({CASE_NO}#)", ""),
    "case_by_caller": ("12345", "Wait(3.5)|SendDTMF(5)|Wait(1.5)|SendDTMF(#)", ""),
    "case_server_down": ("12345", "Wait(3.5)|SendDTMF(5)|Wait(1.5)|SendDTMF(#)", "down"),
    "silent": ("quick", "", ""),
    "hash_in_greeting": ("quick", "Wait(0.3)|SendDTMF(#)", ""),
}


def _m(node: str, key: str = "", mark: str = "", flow: str = "12345") -> str:
    return f"mark {flow}|{node}|{key}|{mark}"


EXPECTED = {
    "emergency_in_greeting": [
        _m("greeting"),
        _m("greeting", "0", "emergency"),
        _m("emergency"),
        "queue 110|10|emergency",
    ],
    "hint": [
        _m("greeting"),
        _m("main"),
        _m("main", "3", "hint=complaint_report"),
        _m("complaint_report"),
        "queue 12345|0|menu",
    ],
    "invalid_then_star": [
        _m("greeting"),
        _m("main"),
        _m("main", "7"),  # the wrong key, recorded too
        _m("main"),  # the menu again
        _m("main", "*"),
        _m("operator"),
        "queue 12345|0|menu",
    ],
    "case_found": [
        _m("greeting"),
        _m("main"),
        _m("main", "5"),
        _m("case_status"),
        _m("case_status", CASE_NO),
        _m("case_status", "", "case_found"),
        _m("main"),  # the state said, the main menu again
    ],
    "case_by_caller": [
        *(_m("greeting"), _m("main"), _m("main", "5"), _m("case_status")),
        # The fake server knows no case of that calling number.
        *(_m("case_status", "", "case_not_found"), _m("main")),
    ],
    "case_server_down": [
        _m("greeting"),
        _m("main"),
        _m("main", "5"),
        _m("case_status"),
        _m("case_status", "", "case_unavailable"),
        _m("operator"),
        "queue 12345|0|menu",
    ],
    "silent": [
        *[_m(node, flow="quick") for node in ("greeting", "main", "main", "main", "operator")],
        "queue 12345|0|menu",
    ],
    "hash_in_greeting": [
        _m("greeting", flow="quick"),
        _m("greeting", "#", flow="quick"),
        _m("hangup", flow="quick"),
    ],
}
ENDS_THERE = {"emergency_in_greeting", "hint", "invalid_then_star", "case_server_down", "silent"}


class FakeAgi(socketserver.ThreadingTCPServer):
    """Answers `case-status` as the server would: found for CASE_NO only."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _AgiHandler)
        self.requests: list[dict[str, str]] = []


class _AgiHandler(socketserver.StreamRequestHandler):
    server: FakeAgi

    def handle(self) -> None:
        env: dict[str, str] = {}
        for raw in self.rfile:
            line = raw.decode().rstrip("\n")
            if not line:
                break
            name, _, value = line.partition(": ")
            env[name] = value
        self.server.requests.append(env)
        found = env.get("agi_arg_1") == CASE_NO
        commands = ['SET VARIABLE LD_SAY "liandong/said"'] if found else []
        for command in [f"SET VARIABLE LD_FOUND {int(found)}", *commands]:
            self.wfile.write(f"{command}\n".encode())
            self.rfile.readline()  # 200 result=1


@pytest.fixture(scope="module")
def flows() -> tuple[Flow, ...]:
    (real,) = load_flows(ROOT / "ivr_flows" / "flows", PROMPTS, {"110", "12345"})
    return real, _quick(real)


def _quick(real: Flow) -> Flow:
    """The same menu with a 1 s timeout (a silent caller needs no 20 s), and
    `#` in the greeting to hang up (the real menu has no # key)."""
    nodes = []
    for node in real.nodes:
        if isinstance(node, Menu):
            node = replace(node, timeout=1)
        if isinstance(node, Play):
            node = replace(node, keys=(*node.keys, Key("#", HANGUP)))
        nodes.append(node)
    nodes.append(Hangup(HANGUP, implicit=True))
    return replace(real, name="quick", nodes=tuple(nodes))


@pytest.fixture(scope="module")
def fake_agi() -> Iterator[FakeAgi]:
    server = FakeAgi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _shipped_context(name: str) -> str:
    """A context of asterisk-config/extensions.conf as it ships (the AGI guard)."""
    text = (Path(__file__).resolve().parents[2] / "asterisk-config" / "extensions.conf").read_text()
    start = text.index(f"[{name}]\n")
    end = text.find("\n\n", start)
    return text[start:end]


def _test_contexts(agi_port: int) -> str:
    lines = [
        "[general]",
        "static = yes",
        "writeprotect = yes",
        "[globals]",
        f"LD_AGI_ADDR = 127.0.0.1:{agi_port}",
        "LD_AGI_GUARD_S = 3",
        _shipped_context("ld-agi"),
        "[ivr-mark]",
        "exten => s,1,Log(NOTICE,LDMARK ${SCEN}|${ARG1}|${ARG2}|${ARG3}|${ARG4})",
        " same => n,Return()",
        "[desk-queue]",
        "exten => s,1,Log(NOTICE,LDQUEUE ${SCEN}|${ARG1}|${ARG2}|${ARG3})",
        " same => n,Return()",
    ]
    for name, (flow, keys, variable) in SCENARIOS.items():
        down = f"127.0.0.1:{_closed_port()}"
        lines += [f"[scen-{name}]", f"exten => s,1,Set(__SCEN={name})"]
        if variable == "down":
            lines.append(f" same => n,Set(LD_AGI_ADDR={down})")
        lines += [f" same => n,Goto(ivr-{flow},s,1)", f"[drv-{name}]", "exten => s,1,NoOp()"]
        lines += [f" same => n,{step}" for step in keys.split("|") if step]
        lines += [" same => n,Wait(25)", " same => n,Hangup()"]
    lines.append("#include extensions_ivr.conf")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def pbx(
    flows: tuple[Flow, ...], fake_agi: FakeAgi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateAsterisk]:
    cfg = testbed.TestbedConfig.from_env()
    testbed.build_root(cfg)  # cached: only the first run builds it
    work = tmp_path_factory.mktemp("asterisk")
    configs = {
        "extensions.conf": _test_contexts(fake_agi.server_address[1]),
        "extensions_ivr.conf": dialplan(flows),
    }
    for prompt in [*PROMPTS, "said"]:
        silence_wav(work / "sounds" / "zh" / "liandong" / f"{prompt}.wav", 1.0)
    with PrivateAsterisk(cfg.paths.root, work, configs, MODULES) as private:
        yield private


def test_asterisk_loads_every_context_without_a_warning(
    pbx: PrivateAsterisk, flows: tuple[Flow, ...]
) -> None:
    shown = pbx.cli("dialplan show")
    for flow in flows:
        assert f"[ Context 'ivr-{flow.name}' created by 'pbx_config' ]" in shown
        for node in flow.nodes:
            assert f"[ Context 'ivr-{flow.name}-{node.id}' created by 'pbx_config' ]" in shown
    main = pbx.cli("dialplan show ivr-12345-main")
    for key in ("0", "1", "2", "3", "4", "5", "*", "i", "t", "s"):
        assert f"'{key}' =>" in main
    problems = [
        line
        for line in pbx.log.read_text(encoding="utf-8").splitlines()
        if re.search(r"(WARNING|ERROR)\[\d+\]", line)
    ]
    assert problems == []


def test_calls_walk_the_menu_and_mark_every_node_and_key(
    pbx: PrivateAsterisk, fake_agi: FakeAgi
) -> None:
    for name in SCENARIOS:
        pbx.cli(f"channel originate Local/s@scen-{name}/n extension s@drv-{name}")
    seen = _wait_for_marks(pbx, deadline_s=45)
    for name, expected in EXPECTED.items():
        if name in ENDS_THERE:
            assert seen.get(name) == expected, name
        else:
            assert seen.get(name, [])[: len(expected)] == expected, name
    said = pbx.verbose_log.read_text(encoding="utf-8")
    assert "Playing 'liandong/said" in said  # the state the server gave, for case_found
    assert "Playing 'liandong/case/not_found" in said  # case_by_caller
    assert "Playing 'liandong/service/unavailable" in said  # case_server_down
    asked = sorted(r.get("agi_arg_1", "") for r in fake_agi.requests)
    assert asked == ["", CASE_NO]  # case_by_caller, case_found; the "down" one never came
    assert {r.get("agi_network_script") for r in fake_agi.requests} == {"case-status"}


def _wait_for_marks(pbx: PrivateAsterisk, deadline_s: float) -> dict[str, list[str]]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        seen = _marks(pbx.log)
        if all(len(seen.get(n, [])) >= len(e) for n, e in EXPECTED.items()):
            time.sleep(1)  # anything more that would follow
            break
        time.sleep(0.2)
    return _marks(pbx.log)


def _marks(log: Path) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    for found in re.finditer(r"LD(MARK|QUEUE) ([a-z_]+)\|(.*)$", text, re.MULTILINE):
        what = "mark" if found[1] == "MARK" else "queue"
        seen.setdefault(found[2], []).append(f"{what} {found[3]}")
    return seen
