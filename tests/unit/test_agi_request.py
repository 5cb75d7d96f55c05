"""AgiRequest: the script, its query and arguments, the channel, the caller."""

from __future__ import annotations

import pytest

from ami_client.agi_errors import AgiRemoteProtocolError
from ami_client.agi_protocol import AgiEnvironment, AgiParser
from ami_client.agi_request import request_from_environment
from tests.fakes.res_agi import TESTBED_ENVIRONMENT as ENVIRONMENT


def environment(**changes: str | None) -> dict[str, str]:
    parser = AgiParser()
    parser.receive_data(ENVIRONMENT)
    env = parser.next_event()
    assert isinstance(env, AgiEnvironment)
    variables = dict(env.variables)
    for name, value in changes.items():
        if value is None:
            variables.pop(name, None)
        else:
            variables[name] = value
    return variables


def test_a_request_from_the_testbed_environment() -> None:
    request = request_from_environment(environment(), linkedid="liandong-1796236168.0")
    assert request.script == "probe"
    assert request.args == ("参数 1",)
    assert request.uniqueid == "liandong-1796236168.1"
    assert request.channel == "Local/s@ld-agi-probe-00000000;2"
    assert request.caller_number == "13800001111"
    assert request.caller_name == "李四"
    assert request.language == "zh"
    assert request.linkedid == "liandong-1796236168.0"
    assert dict(request.params) == {}
    assert request.environment["agi_type"] == "Local"


def test_the_query_is_split_off_the_script() -> None:
    request = request_from_environment(
        environment(agi_network_script="case-status?desk=110&n=%2B86%20138&flag&desk=12345")
    )
    assert request.script == "case-status"
    # '+' stays a plus (a phone number), %-escapes are decoded, the last name wins.
    assert dict(request.params) == {"desk": "12345", "n": "+86 138", "flag": ""}


def test_a_plus_in_the_query_is_not_a_space() -> None:
    request = request_from_environment(environment(agi_network_script="cb?n=+8613800001111"))
    assert request.params["n"] == "+8613800001111"


def test_no_script_is_an_empty_script() -> None:
    assert request_from_environment(environment(agi_network_script=None)).script == ""


def test_arguments_come_in_numeric_order() -> None:
    variables = environment(agi_arg_1=None)
    for n in (10, 2, 1, 11, 3, 4, 5, 6, 7, 8, 9):
        variables[f"agi_arg_{n}"] = f"a{n}"
    assert request_from_environment(variables).args == tuple(f"a{n}" for n in range(1, 12))


def test_empty_arguments_are_kept_in_place() -> None:
    variables = environment(agi_arg_1="", agi_arg_2="x")
    assert request_from_environment(variables).args == ("", "x")


def test_trailing_empty_arguments_are_dropped() -> None:
    # What Gosub(ld-agi,s,1(probe,第1号)) sends: [ld-agi] passes ARG2 and ARG3 on.
    variables = environment(agi_arg_1="第1号", agi_arg_2="", agi_arg_3="")
    assert request_from_environment(variables).args == ("第1号",)


@pytest.mark.parametrize("value", ["unknown", ""])
def test_an_unknown_caller_is_none(value: str) -> None:
    request = request_from_environment(environment(agi_callerid=value, agi_calleridname=value))
    assert request.caller_number is None and request.caller_name is None


@pytest.mark.parametrize("missing", ["agi_uniqueid", "agi_channel"])
def test_an_environment_without_the_channel_is_refused(missing: str) -> None:
    with pytest.raises(AgiRemoteProtocolError, match="names no channel"):
        request_from_environment(environment(**{missing: None}))


def test_repr_shows_no_caller_data() -> None:
    request = request_from_environment(environment(), linkedid="liandong-1796236168.0")
    shown = repr(request)
    assert "probe" in shown and "liandong-1796236168.1" in shown
    for secret in ("13800001111", "李四", "参数"):
        assert secret not in shown


def test_the_request_cannot_be_changed() -> None:
    request = request_from_environment(environment())
    with pytest.raises(AttributeError):
        request.script = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        request.params["x"] = "1"  # type: ignore[index]
