"""AmiWireProtocol: panoramisk's AMIProtocol with framing, sending and loss handling replaced."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from panoramisk.ami_protocol import AMIProtocol

from ami_client.action import encode_action
from ami_client.framing import FrameError
from ami_client.message import AmiMessage
from ami_client.wire import AmiWireProtocol

SECRET = "wire-secret-密码"


class FakeTransport(asyncio.Transport):
    def __init__(self, fail_writes: bool = False) -> None:
        super().__init__()
        self.written = b""
        self.fail_writes = fail_writes
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.fail_writes:
            raise RuntimeError("simulated write failure")
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted


class Recorder:
    def __init__(self) -> None:
        self.messages: list[AmiMessage] = []
        self.errors: list[FrameError] = []
        self.lost: list[Exception | None] = []
        self.reads = 0

    def protocol(self, on_message: Any = None) -> AmiWireProtocol:
        return AmiWireProtocol(
            max_message_bytes=4096,
            on_message=on_message or self.messages.append,
            on_frame_error=self.errors.append,
            on_lost=self.lost.append,
            on_read=self._read,
        )

    def _read(self, size: int) -> None:
        self.reads += 1


def test_it_is_a_panoramisk_protocol_with_our_own_send_and_receive() -> None:
    assert issubclass(AmiWireProtocol, AMIProtocol)
    for name in ("data_received", "send", "connection_lost", "close"):
        assert getattr(AmiWireProtocol, name) is not getattr(AMIProtocol, name), name


def test_chinese_name_split_across_reads_survives_and_greeting_gives_version() -> None:
    recorder = Recorder()
    protocol = recorder.protocol()
    protocol.connection_made(FakeTransport())
    data = (
        "Asterisk Call Manager/11.0.0\r\nEvent: Newchannel\r\nCallerIDName: 张三丰\r\n\r\n".encode()
    )
    cut = data.index("三".encode()) + 2

    protocol.data_received(data[:cut])
    protocol.data_received(data[cut:])

    assert protocol.version == "11.0.0"
    assert [m["CallerIDName"] for m in recorder.messages] == ["张三丰"]
    assert recorder.reads == 2


def test_a_failing_handler_skips_one_message_not_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def handler(message: AmiMessage) -> None:
        if message.event == "Boom":
            raise ValueError("handler bug")
        seen.append(message.event or "")

    protocol = Recorder().protocol(on_message=handler)
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(b"Event: A\r\n\r\nEvent: Boom\r\n\r\nEvent: B\r\n\r\n")

    assert seen == ["A", "B"]
    assert not transport.is_closing()
    assert "error while handling an AMI message" in caplog.text


def test_frame_errors_are_reported_and_parsing_continues() -> None:
    recorder = Recorder()
    protocol = recorder.protocol()
    protocol.connection_made(FakeTransport())
    protocol.data_received(b"\xff\xfe junk\r\n\r\nEvent: After\r\n\r\n")
    assert len(recorder.errors) == 1
    assert [m.event for m in recorder.messages] == ["After"]


def test_failed_send_of_a_login_never_logs_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, panoramisk's included
    protocol = Recorder().protocol()
    protocol.connection_made(FakeTransport(fail_writes=True))
    login = encode_action({"Action": "Login", "Username": "liandong", "Secret": SECRET}, "id-1")

    with pytest.raises(RuntimeError):
        protocol.send(login)

    assert SECRET not in caplog.text


def test_connection_lost_is_reported_once_and_nothing_is_queued_for_resending() -> None:
    recorder = Recorder()
    protocol = recorder.protocol()
    protocol.connection_made(FakeTransport())
    error = ConnectionResetError("reset by peer")

    protocol.connection_lost(error)
    protocol.connection_lost(None)

    assert recorder.lost == [error]
    assert protocol.factory is None  # panoramisk's re-send path needs a factory
    with pytest.raises(ConnectionError):
        protocol.send(b"Action: Ping\r\n\r\n")
