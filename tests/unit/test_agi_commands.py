"""AGI commands as res_agi reads them: a value stays one value, never a second command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami_client.agi_commands import (
    FAILURE,
    MAX_COMMAND_BYTES,
    get_variable,
    quote,
    set_variable,
)
from ami_client.agi_errors import AgiLocalProtocolError
from tests.fakes.res_agi import parse_args, read_commands


def as_asterisk_reads(line: bytes) -> list[list[str]]:
    """The commands (as word lists) res_agi runs for these bytes."""
    return [[w.decode() for w in parse_args(c)] for c in read_commands(line)]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "liandong/case-open&liandong/thanks",
        "张三 说：“你好”",
        'a "quoted" word',
        "back\\slash",
        "ends with a backslash\\",
        '\\"',
        '" ; HANGUP',
        "  leading and trailing  ",
        "x" * 8000,
    ],
)
def test_set_variable_arrives_as_exactly_one_command_with_the_value(value: str) -> None:
    line = set_variable("LD_SAY", value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert as_asterisk_reads(line) == [["SET", "VARIABLE", "LD_SAY", value]]


@given(st.text(alphabet=st.characters(min_codepoint=0x20, exclude_characters="\x7f")))
def test_any_printable_value_survives_res_agi_parsing(value: str) -> None:
    try:
        line = set_variable("LD_X", value)
    except AgiLocalProtocolError:
        assert len(value.encode("utf-8", "surrogatepass")) > MAX_COMMAND_BYTES - 20 or any(
            0xD800 <= ord(c) <= 0xDFFF for c in value
        )
        return
    assert as_asterisk_reads(line) == [["SET", "VARIABLE", "LD_X", value]]


@pytest.mark.parametrize(
    "value",
    [
        'x"\nEXEC Hangup',  # the classic: end the quote, end the line, run something
        "x\nSET VARIABLE LD_FOUND 1",
        "x\r\nHANGUP",
        "x\x00y",  # C strings end at NUL
        "tab\there",
        "bell\x07",
        "del\x7f",
    ],
)
def test_a_value_with_a_control_character_is_refused_before_anything_is_sent(value: str) -> None:
    with pytest.raises(AgiLocalProtocolError, match="control character"):
        set_variable("LD_SAY", value)


def test_a_command_longer_than_res_agi_reads_is_refused() -> None:
    # 8191 bytes with the newline is the most res_agi reads as one command;
    # beyond, the tail of the value would run as a command of its own.
    overhead = len(b'SET VARIABLE LD_X ""\n')
    fits = "x" * (MAX_COMMAND_BYTES - overhead)
    assert len(set_variable("LD_X", fits)) == MAX_COMMAND_BYTES
    with pytest.raises(AgiLocalProtocolError, match="8191"):
        set_variable("LD_X", fits + "x")
    # What would have happened: a second command made of the value's tail.
    head = 'SET VARIABLE LD_X "'
    crafted = f'{head}{"x" * (MAX_COMMAND_BYTES - len(head))}EXEC Hangup"\n'.encode()
    assert as_asterisk_reads(crafted)[1] == ["EXEC", "Hangup"]


def test_multibyte_characters_count_in_bytes() -> None:
    overhead = len(b'SET VARIABLE LD_X ""\n')
    three_byte = "张" * ((MAX_COMMAND_BYTES - overhead) // 3 + 1)
    with pytest.raises(AgiLocalProtocolError):
        set_variable("LD_X", three_byte)


@pytest.mark.parametrize(
    "name",
    ["", "LD SAY", "LD_SAY\n", 'LD"X', "1ABC", "CHANNEL(language)", "a-b", "___X", "x" * 81],
)
def test_set_variable_takes_plain_names_only(name: str) -> None:
    with pytest.raises(AgiLocalProtocolError, match="not a plain"):
        set_variable(name, "v")


@pytest.mark.parametrize("name", ["LD_SAY", "_LD_CASE", "__LD_CALL", "x1"])
def test_inherited_and_lower_case_names_are_fine(name: str) -> None:
    assert as_asterisk_reads(set_variable(name, "v")) == [["SET", "VARIABLE", name, "v"]]


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(AgiLocalProtocolError, match="UTF-8"):
        set_variable("LD_X", "\udc80")


def test_get_variable_reads_variables_and_plain_function_calls() -> None:
    assert get_variable("LD_CASE") == b"GET VARIABLE LD_CASE\n"
    assert get_variable("CHANNEL(linkedid)") == b"GET VARIABLE CHANNEL(linkedid)\n"
    for bad in ["SHELL(rm -rf /)", "CHANNEL(linkedid) X", "X\nY", "${X}"]:
        with pytest.raises(AgiLocalProtocolError):
            get_variable(bad)


def test_quote_escapes_quotes_and_backslashes_only() -> None:
    assert quote('a"b\\c 张') == '"a\\"b\\\\c 张"'


def test_failure_is_the_line_res_agi_treats_as_a_failed_script() -> None:
    # run_agi: `if (*buf && strncasecmp(buf, "failure", 7) == 0)` -> AGI_RESULT_FAILURE
    assert FAILURE.lower().startswith(b"failure") and FAILURE.endswith(b"\n")
