"""AgiParser: the same events however TCP cuts the stream; garbage and endless
lines are clear errors, not memory growth."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from ami_client.agi_errors import AgiRemoteProtocolError
from ami_client.agi_protocol import (
    AgiClosed,
    AgiEnvironment,
    AgiEvent,
    AgiHangup,
    AgiParser,
    AgiResponse,
    ParserState,
)
from tests.fakes.res_agi import TESTBED_ENVIRONMENT as ENVIRONMENT

# Replies seen on the testbed (SET VARIABLE, GET VARIABLE, an unknown command,
# SET VARIABLE without arguments), then what res_agi sends after a hang-up.
DIALOG = (
    b"200 result=1\n"
    b'200 result=1 (\xe5\xbc\xa0\xe4\xb8\x89 "q" back\\slash)\n'
    b"510 Invalid or unknown command\n"
    b"520-Invalid command syntax.  Proper usage follows:\n"
    b"Sets a variable to the current channel.\n"
    b"520 End of proper usage.\n"
    b"HANGUP\n"
)
EXPECTED_DIALOG: list[AgiEvent] = [
    AgiResponse(200, "result=1", "1"),
    AgiResponse(200, 'result=1 (张三 "q" back\\slash)', "1", '张三 "q" back\\slash'),
    AgiResponse(510, "Invalid or unknown command"),
    AgiResponse(
        520,
        "Invalid command syntax.  Proper usage follows:",
        usage=("Sets a variable to the current channel.",),
    ),
    AgiHangup(),
]


def feed(chunks: Iterable[bytes], parser: AgiParser | None = None) -> list[AgiEvent]:
    """Feed chunk by chunk, draining after each, as the server does. An empty
    chunk is end of file (only the first AgiClosed is kept: it repeats)."""
    parser = parser or AgiParser()
    out: list[AgiEvent] = []
    for chunk in chunks:
        parser.receive_data(chunk)
        while (event := parser.next_event()) is not None:
            out.append(event)
            if isinstance(event, AgiClosed):
                return out
    return out


def split(data: bytes, cut: int) -> list[bytes]:
    """Two reads, cut at `cut` (no empty read: that would be end of file)."""
    return [part for part in (data[:cut], data[cut:]) if part]


def expected_environment() -> dict[str, str]:
    lines = ENVIRONMENT.decode().splitlines()[:-1]
    pairs = [line.partition(": ") for line in lines]
    return {name: value for name, _, value in pairs}


# -- the environment -----------------------------------------------------------------


def test_the_environment_is_read_whole_with_chinese_text() -> None:
    [env] = feed([ENVIRONMENT])
    assert isinstance(env, AgiEnvironment)
    assert env.variables == expected_environment()
    assert env.variables["agi_calleridname"] == "李四"
    assert env.variables["agi_arg_1"] == "参数 1"
    assert env.variables["agi_accountcode"] == ""
    assert env.decode_replacements == 0


def test_the_environment_survives_a_split_at_every_byte_offset() -> None:
    whole = feed([ENVIRONMENT + DIALOG])
    for cut in range(len(ENVIRONMENT + DIALOG) + 1):
        data = ENVIRONMENT + DIALOG
        assert feed(split(data, cut)) == whole, f"split at byte {cut}"


def test_the_name_split_inside_a_character_is_decoded_whole() -> None:
    name_at = ENVIRONMENT.index("李".encode())
    for inside in (1, 2):  # 李 is three bytes: cut after its first and second byte
        cut = name_at + inside
        [env] = feed(split(ENVIRONMENT, cut))
        assert isinstance(env, AgiEnvironment)
        assert env.variables["agi_calleridname"] == "李四"
        assert env.decode_replacements == 0


def test_byte_by_byte_and_random_chunks_give_the_same_events() -> None:
    data = ENVIRONMENT + DIALOG
    whole = feed([data])
    assert feed(data[i : i + 1] for i in range(len(data))) == whole
    rng = random.Random(4573)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, 12)))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert feed(chunks) == whole


def test_invalid_utf8_in_a_name_is_replaced_not_fatal() -> None:
    data = ENVIRONMENT.replace("李四".encode(), b"\xc0\xaf GBK \xd5\xc5")
    [env] = feed([data])
    assert isinstance(env, AgiEnvironment)
    assert env.variables["agi_calleridname"] == "\ufffd\ufffd GBK \ufffd\ufffd"
    assert env.variables["agi_uniqueid"] == "liandong-1796236168.1"
    assert env.decode_replacements == 1


def test_crlf_line_ends_are_tolerated() -> None:
    [env, reply] = feed([ENVIRONMENT.replace(b"\n", b"\r\n") + b"200 result=1\r\n"])
    assert isinstance(env, AgiEnvironment)
    assert env.variables == expected_environment()
    assert reply == AgiResponse(200, "result=1", "1")


# -- replies ---------------------------------------------------------------------------


def test_replies_and_hangup_after_the_environment() -> None:
    assert feed([ENVIRONMENT + DIALOG])[1:] == EXPECTED_DIALOG


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"200 result=1", AgiResponse(200, "result=1", "1")),
        (b"200 result=-1", AgiResponse(200, "result=-1", "-1")),
        (b"200 result=0", AgiResponse(200, "result=0", "0")),
        (b"200 result= (timeout)", AgiResponse(200, "result= (timeout)", "", "timeout")),
        (
            b"200 result=1 (a (nested) value) endpos=1234",
            AgiResponse(200, "result=1 (a (nested) value) endpos=1234", "1", "a (nested) value"),
        ),
        (
            b"511 Command Not Permitted on a dead channel or intercept routine",
            AgiResponse(511, "Command Not Permitted on a dead channel or intercept routine"),
        ),
        (b"100 result=0 Trying...", AgiResponse(100, "result=0 Trying...", "0")),
    ],
)
def test_one_reply(line: bytes, expected: AgiResponse) -> None:
    [_, reply] = feed([ENVIRONMENT + line + b"\n"])
    assert reply == expected


def test_reply_properties() -> None:
    assert AgiResponse(200, "result=-1", "-1").ok  # the command ran; its result is -1
    assert not AgiResponse(510, "Invalid or unknown command").ok
    assert not AgiResponse(511, "Command Not Permitted").ok
    assert AgiResponse(100, "result=0 Trying...").provisional
    assert not AgiResponse(200, "result=1").provisional


def test_a_multi_line_usage_reply_is_one_event_with_its_lines() -> None:
    usage = b"520-Invalid command syntax.  Proper usage follows:\nline one\n\n 200 not a reply\n"
    [_, reply, after] = feed([ENVIRONMENT + usage + b"520 End of proper usage.\n200 result=1\n"])
    assert reply == AgiResponse(
        520,
        "Invalid command syntax.  Proper usage follows:",
        usage=("line one", "", " 200 not a reply"),
    )
    assert after == AgiResponse(200, "result=1", "1")


# -- end of file -----------------------------------------------------------------------


def test_end_of_file_after_the_dialog_is_a_clean_close() -> None:
    parser = AgiParser()
    events = feed([ENVIRONMENT + DIALOG, b""], parser)
    assert events[-1] == AgiClosed(truncated=False)
    assert parser.state is ParserState.CLOSED
    assert parser.next_event() == AgiClosed(truncated=False)  # and stays so


@pytest.mark.parametrize(
    "data",
    [
        b"",
        ENVIRONMENT[:100],  # mid-environment
        ENVIRONMENT + b"200 resu",  # mid-line
        ENVIRONMENT + b"520-Invalid command syntax.\nusage\n",  # mid-usage
    ],
)
def test_end_of_file_in_the_middle_is_a_truncated_close(data: bytes) -> None:
    assert feed([data, b""])[-1] == AgiClosed(truncated=True)


def test_data_after_end_of_file_is_a_bug() -> None:
    parser = AgiParser()
    parser.receive_data(b"")
    with pytest.raises(RuntimeError):
        parser.receive_data(b"x")


# -- garbage and limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:4573\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n",  # a TLS hello, newline by chance
        b"agi_network: yes\nAGI_CHANNEL: x\n\n",
        b"agi_network yes\n\n",
        b"agi_: x\n\n",
    ],
)
def test_an_environment_that_is_not_agi_is_a_remote_protocol_error(data: bytes) -> None:
    parser = AgiParser()
    parser.receive_data(data)
    with pytest.raises(AgiRemoteProtocolError, match=r"environment line \d"):
        parser.next_event()


def test_the_error_names_the_line_never_its_content() -> None:
    parser = AgiParser()
    parser.receive_data("agi_network: yes\n13800001111 张三\n".encode())
    with pytest.raises(AgiRemoteProtocolError) as caught:
        parser.next_event()
    assert "environment line 2" in str(caught.value)
    assert "1380000" not in str(caught.value) and "张三" not in str(caught.value)


@pytest.mark.parametrize(
    "line", [b"hello", b"2000 result=1", b"20 result=1", b"200result=1", b"", b"HANGUP now"]
)
def test_a_dialog_line_that_is_no_reply_is_a_remote_protocol_error(line: bytes) -> None:
    parser = AgiParser()
    parser.receive_data(ENVIRONMENT + line + b"\n")
    assert isinstance(parser.next_event(), AgiEnvironment)
    with pytest.raises(AgiRemoteProtocolError, match="neither an AGI reply nor HANGUP"):
        parser.next_event()


def test_an_endless_line_is_an_error_and_the_buffer_stays_bounded() -> None:
    parser = AgiParser(max_line_bytes=1024)
    parser.receive_data(b"agi_network: yes\nagi_calleridname: ")
    assert parser.next_event() is None
    for _ in range(100):  # 100 x 512 bytes, no newline
        parser.receive_data(b"x" * 512)
        if parser.buffered_bytes > 1024:
            break
        assert parser.next_event() is None
    with pytest.raises(AgiRemoteProtocolError, match="more than 1024 bytes"):
        parser.next_event()
    assert parser.state is ParserState.ERROR
    # Sticky, and whatever comes next is dropped, not kept.
    parser.receive_data(b"y" * 1_000_000 + b"\n\n")
    assert parser.buffered_bytes == 0
    with pytest.raises(AgiRemoteProtocolError):
        parser.next_event()


def test_a_long_line_fed_at_once_is_an_error_too() -> None:
    parser = AgiParser(max_line_bytes=1024)
    parser.receive_data(ENVIRONMENT + b"200 result=1 (" + b"v" * 5000 + b")\n")
    assert isinstance(parser.next_event(), AgiEnvironment)
    with pytest.raises(AgiRemoteProtocolError, match="exceeds the limit of 1024 bytes"):
        parser.next_event()


def test_an_endless_environment_is_an_error() -> None:
    parser = AgiParser(max_environment_lines=50)
    parser.receive_data(b"".join(b"agi_arg_%d: x\n" % n for n in range(1, 60)))
    with pytest.raises(AgiRemoteProtocolError, match="more than 50 lines"):
        parser.next_event()


def test_an_endless_usage_reply_is_an_error() -> None:
    parser = AgiParser(max_usage_lines=10)
    parser.receive_data(ENVIRONMENT + b"520-usage follows\n" + b"more\n" * 20)
    assert isinstance(parser.next_event(), AgiEnvironment)
    with pytest.raises(AgiRemoteProtocolError, match="more than 10 lines"):
        parser.next_event()


def test_tiny_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        AgiParser(max_line_bytes=10)
