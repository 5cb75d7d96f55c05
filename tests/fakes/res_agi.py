"""What Asterisk 22's res_agi does with the bytes we send, ported line for line
from res/res_agi.c, so that tests can check our commands the way Asterisk
reads them (not the way we meant them).

- `read_commands`: run_agi's fgets loop for a FastAGI socket: a command is
  what comes before b"\\n", cut at AGI_BUF_LEN - 1 = 8191 bytes (the rest of
  an overlong line is read as the next command).
- `parse_args`: splitting one command into words (quotes, backslash escapes).
"""

from __future__ import annotations

AGI_BUF_LEN = 8192
MAX_ARGS = 128

# As res_agi sent it on the testbed (Asterisk 22.10), for AGI(agi://…/probe,参数 1)
# on a Local channel whose caller is 李四 <13800001111>.
TESTBED_ENVIRONMENT = (
    "agi_network: yes\n"
    "agi_network_script: probe\n"
    "agi_request: agi://127.0.0.1:4699/probe\n"
    "agi_channel: Local/s@ld-agi-probe-00000000;2\n"
    "agi_language: zh\n"
    "agi_type: Local\n"
    "agi_uniqueid: liandong-1796236168.1\n"
    "agi_version: 22.10.1+dfsg+~cs6.17.60671434-1\n"
    "agi_callerid: 13800001111\n"
    "agi_calleridname: 李四\n"
    "agi_callingpres: 0\n"
    "agi_callingani2: 0\n"
    "agi_callington: 0\n"
    "agi_callingtns: 0\n"
    "agi_dnid: unknown\n"
    "agi_rdnis: unknown\n"
    "agi_context: ld-agi\n"
    "agi_extension: s\n"
    "agi_priority: 3\n"
    "agi_enhanced: 0.0\n"
    "agi_accountcode: \n"
    "agi_threadid: 140496904492736\n"
    "agi_arg_1: 参数 1\n"
    "\n"
).encode()


def read_commands(stream: bytes) -> list[bytes]:
    """The commands res_agi runs from `stream` (complete lines only)."""
    commands = []
    pos = 0
    while pos < len(stream):
        end = stream.find(b"\n", pos, pos + AGI_BUF_LEN - 1)
        if end < 0:
            if len(stream) - pos < AGI_BUF_LEN - 1:
                break  # incomplete: res_agi would wait for more
            chunk, pos = stream[pos : pos + AGI_BUF_LEN - 1], pos + AGI_BUF_LEN - 1
        else:
            chunk, pos = stream[pos:end], end + 1
        commands.append(chunk)
    return commands


def parse_args(command: bytes) -> list[bytes]:
    """res_agi.c parse_args(), byte for byte."""
    argv: list[bytearray] = []
    quoted = escaped = False
    whitespace = True
    for value in command:
        char = bytes([value])
        if char == b'"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                argv.append(bytearray())  # a quote after white space starts a word
                whitespace = False
            escaped = False
            continue
        if char in (b" ", b"\t") and not quoted and not escaped:
            whitespace = True
            continue
        if char == b"\\" and not escaped:
            escaped = True
            continue
        # normal:
        if whitespace:
            if len(argv) >= MAX_ARGS - 1:
                continue  # "Too many arguments, truncating"
            argv.append(bytearray())
            whitespace = False
        argv[-1] += char
        escaped = False
    return [bytes(word) for word in argv]
