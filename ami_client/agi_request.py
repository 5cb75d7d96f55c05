"""What a handler is asked: one FastAGI request, typed, from the environment. Pure.

`AGI(agi://127.0.0.1:4573/case-status?desk=110,${CASE},x)` arrives as
`agi_network_script: case-status?desk=110` and `agi_arg_1`, `agi_arg_2`; the
request has `script="case-status"`, `params={"desk": "110"}` and
`args=("<case>", "x")`. The environment has no Linkedid: the server asks for it
(GET VARIABLE CHANNEL(linkedid)) and passes it in.

`repr()` shows no caller data (number, name, arguments): a request may be logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote

from ami_client.agi_errors import AgiRemoteProtocolError

__all__ = ["AgiRequest", "request_from_environment"]

_ARG = re.compile(r"agi_arg_([1-9][0-9]{0,3})")
# What res_agi sends for a caller id number or name that is not set.
_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, repr=False)
class AgiRequest:
    script: str  # the URL's path after the host, without its query: "case-status"
    args: tuple[str, ...]  # AGI()'s arguments after the URL, in order
    uniqueid: str
    channel: str
    caller_number: str | None  # None when Asterisk has none ("unknown")
    caller_name: str | None
    language: str = ""
    linkedid: str | None = None
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __repr__(self) -> str:
        return (
            f"<AgiRequest {self.script!r} uniqueid={self.uniqueid} "
            f"linkedid={self.linkedid} args={len(self.args)}>"
        )


def request_from_environment(
    environment: Mapping[str, str], *, linkedid: str | None = None
) -> AgiRequest:
    """The typed request. Raises AgiRemoteProtocolError if the channel's identity
    (agi_uniqueid, agi_channel) is missing: that is not Asterisk talking."""
    uniqueid = environment.get("agi_uniqueid", "")
    channel = environment.get("agi_channel", "")
    if not uniqueid or not channel:
        raise AgiRemoteProtocolError("the environment names no channel (agi_uniqueid, agi_channel)")
    path, _, query = environment.get("agi_network_script", "").partition("?")
    return AgiRequest(
        script=path,
        args=_arguments(environment),
        uniqueid=uniqueid,
        channel=channel,
        caller_number=_known(environment.get("agi_callerid")),
        caller_name=_known(environment.get("agi_calleridname")),
        language=environment.get("agi_language", ""),
        linkedid=linkedid or None,
        params=MappingProxyType(_query(query)),
        environment=MappingProxyType(dict(environment)),
    )


def _known(value: str | None) -> str | None:
    return None if not value or value == _UNKNOWN else value


def _arguments(environment: Mapping[str, str]) -> tuple[str, ...]:
    """agi_arg_1 … agi_arg_n by number (res_agi sends them in order, without gaps).

    Trailing empty arguments are dropped: [ld-agi] always hands on its optional
    ARG2 and ARG3, so a script called with one argument arrives with empty ones
    behind it, which mean nothing. An empty argument before a given one stays.
    """
    numbered = []
    for name, value in environment.items():
        if (match := _ARG.fullmatch(name)) is not None:
            numbered.append((int(match[1]), value))
    args = [value for _, value in sorted(numbered)]
    while args and args[-1] == "":
        args.pop()
    return tuple(args)


def _query(query: str) -> dict[str, str]:
    """'a=1&b=%E5%BC%A0' -> {'a': '1', 'b': '张'}. A '+' stays a '+' (a phone
    number), unlike in HTML forms; the last of a repeated name wins."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            params[unquote(name)] = unquote(value)
    return params
