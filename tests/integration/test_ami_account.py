"""The AMI account the server uses has only what it needs, on loopback only."""

from __future__ import annotations

import socket

import pytest

from ami_client.framing import parse_stream
from pbx import testbed


def ami_session(cfg: testbed.TestbedConfig, actions: list[str]) -> list[dict[str, str]]:
    """Log in as the server does and run raw actions; their responses, in order."""
    secret = testbed.ami_secret(cfg)
    with socket.create_connection((cfg.ami_host, cfg.ami_port), timeout=3) as sock:
        wire = f"Action: Login\r\nUsername: liandong\r\nSecret: {secret}\r\nEvents: off\r\n\r\n"
        for n, action in enumerate(actions):
            wire += f"{action}\r\nActionID: a{n}\r\n\r\n"
        wire += "Action: Logoff\r\nActionID: bye\r\n\r\n"
        sock.sendall(wire.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    replies = [dict(m.headers) for m in parse_stream(data) if m.response]
    return [r for r in replies if r.get("ActionID", "").startswith("a")]


def test_server_actions_are_allowed(pbx: testbed.TestbedConfig) -> None:
    replies = ami_session(pbx, ["Action: Ping", "Action: CoreShowChannels", "Action: BridgeList"])
    assert [r["Response"] for r in replies] == ["Success", "Success", "Success"]


DENIED = "Permission denied"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("Action: Command\r\nCommand: core show version", DENIED),  # CLI (command class)
        ("Action: GetConfig\r\nFilename: manager.conf", DENIED),  # config class
        ("Action: Reload", DENIED),  # system class
        # Running a shell through Originate needs the system class too.
        (
            "Action: Originate\r\nChannel: Local/110@from-desk\r\nApplication: System\r\nData: id",
            "Originate Access Forbidden: app or data blacklisted",
        ),
    ],
)
def test_everything_else_is_refused(pbx: testbed.TestbedConfig, action: str, message: str) -> None:
    [reply] = ami_session(pbx, [action])
    assert (reply["Response"], reply["Message"]) == ("Error", message)


def test_ami_listens_on_loopback_127_0_0_1_only(pbx: testbed.TestbedConfig) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", pbx.ami_port), timeout=1).close()
