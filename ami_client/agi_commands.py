"""FastAGI commands, us to Asterisk: the few we send, quoted so a value stays a value.

How res_agi reads a command (res/res_agi.c, Asterisk 22): `fgets` into a
buffer of AGI_BUF_LEN = 8192 bytes, so one command is at most 8191 bytes with
its newline (a longer line is cut there and *its tail runs as a second
command*); then `parse_args` splits words on spaces and tabs, where `"…"`
quotes spaces and `\\` makes the next byte literal (`\\"` and `\\\\`). There is
no escape for a newline: a "\\n" inside a value would end the command and start
another. So a value is quoted and escaped, and any control character, an
overlong line or a name that is not a plain variable name is refused with
`AgiLocalProtocolError` before anything is sent. UTF-8 is safe as it is: no
byte of a multi-byte character is a space, a quote or a backslash.
"""

from __future__ import annotations

import re

from ami_client.agi_errors import AgiLocalProtocolError

__all__ = ["FAILURE", "MAX_COMMAND_BYTES", "get_variable", "quote", "set_variable"]

MAX_COMMAND_BYTES = 8191
# Not a command: res_agi ends the script on a line starting "failure" and sets
# AGISTATUS=FAILURE (meant for a child that could not run; the one way a
# FastAGI server can make the dialplan take its fallback).
FAILURE = b"FAILURE\n"

# A channel variable (leading underscores make it inherited) ...
_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]{0,79}")
# ... or, to read only, a dialplan function with plain arguments: CHANNEL(linkedid).
_FUNCTION = re.compile(r"[A-Z][A-Z0-9_]{0,39}\([A-Za-z0-9_,.-]{0,80}\)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quote(value: str) -> str:
    """`value` as one parse_args word: in quotes, with `"` and `\\` escaped.

    Raises AgiLocalProtocolError for control characters (newline, CR, NUL, tab …)."""
    if (bad := _CONTROL.search(value)) is not None:
        raise AgiLocalProtocolError(
            f"a value has a control character (U+{ord(bad[0]):04X}) at position {bad.start()}; "
            "it could end the command"
        )
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_variable(name: str, value: str) -> bytes:
    """`SET VARIABLE <name> "<value>"` (Asterisk replies `200 result=1`)."""
    if not _NAME.fullmatch(name):
        raise AgiLocalProtocolError(f"not a plain channel variable name: {name[:40]!r}")
    return _line(f"SET VARIABLE {name} {quote(value)}", what=f"SET VARIABLE {name}")


def get_variable(name: str) -> bytes:
    """`GET VARIABLE <name>`; `name` may be a function such as `CHANNEL(linkedid)`.
    Asterisk replies `200 result=1 (<value>)`, or `200 result=0` if it is unset."""
    if not (_NAME.fullmatch(name) or _FUNCTION.fullmatch(name)):
        raise AgiLocalProtocolError(f"not a variable or a plain function call: {name[:40]!r}")
    return _line(f"GET VARIABLE {name}", what=f"GET VARIABLE {name}")


def _line(command: str, *, what: str) -> bytes:
    try:
        encoded = command.encode("utf-8") + b"\n"
    except UnicodeEncodeError as exc:  # a lone surrogate
        raise AgiLocalProtocolError(f"{what}: the value is not encodable as UTF-8") from exc
    if len(encoded) > MAX_COMMAND_BYTES:
        raise AgiLocalProtocolError(
            f"{what}: the command is {len(encoded)} bytes; Asterisk reads at most "
            f"{MAX_COMMAND_BYTES} and would run the rest as another command"
        )
    return encoded
