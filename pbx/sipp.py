"""SIPp actors for the testbed: citizens on the trunks, desk and unit phones.

Scenario files live in tests/sipp/ with `{{name}}` placeholders for timings;
they are rendered into a work folder and run by the real `sipp` binary. Each
actor has its own loopback address (the address plan in asterisk-config/pjsip.conf),
so Asterisk tells trunks, desks and units apart exactly as in production.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from pbx import rtp_keys
from pbx.testbed import PROJECT_DIR

SCENARIOS = PROJECT_DIR / "tests" / "sipp"
NEVER_MS = 3_600_000  # an hour: "until the other side acts"

ADDRESSES = {
    "trunk-110": "127.0.0.11",
    "trunk-12345": "127.0.0.12",
    "op110-1": "127.0.0.21",
    "op110-2": "127.0.0.22",
    "backup-110": "127.0.0.51",
    "op12345-1": "127.0.0.31",
    "op12345-2": "127.0.0.32",
    **{f"unit-0{n}": f"127.0.0.4{n}" for n in range(1, 10)},
}

_media_ports = count(16000, 10)  # one RTP port range per actor: no clashes between runs


class SippError(RuntimeError):
    pass


def require_sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise SippError("sipp is not installed (apt-get install sip-tester)")
    return path


def render(scenario: str, workdir: Path, **params: int | str) -> Path:
    text = (SCENARIOS / scenario).read_text(encoding="utf-8")
    for name, value in params.items():
        text = text.replace("{{" + name + "}}", str(value))
    if "{{" in text:
        raise SippError(
            f"{scenario}: a placeholder was left unset: {text[text.index('{{') :][:30]}"
        )
    tag = hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:10]
    out = workdir / f"{Path(scenario).stem}_{tag}.xml"
    out.write_text(text, encoding="utf-8")
    return out


@dataclass
class Phone:
    """A UAS phone answering at its address until stopped."""

    name: str
    process: subprocess.Popen[bytes]
    log_file: Path

    def outcomes(self) -> list[str]:
        """Lines logged by the scenario: '<sip call-id> answered|cancelled|busy|hungup|…'."""
        return _read_lines(self.log_file)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # SIPp writes its logs on SIGINT
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class CallResult:
    returncode: int
    log_lines: list[str]
    stdout_tail: str
    outcomes: dict[str, str] = field(default_factory=dict)  # caller number -> outcome


def start_phone(
    name: str,
    workdir: Path,
    *,
    ring_ms: int = 500,
    talk_ms: int = NEVER_MS,
    busy: bool = False,
    keys: str = "",
    keys_after_ms: int = 500,
    refer_to: str = "",
    rfc4733: bool = False,
    keys_every_call: bool = False,
) -> Phone:
    """Run a phone: rings ring_ms then answers (or answers busy); presses `keys`
    (e.g. "*1"; a "." pauses a second: "*2...*2") keys_after_ms after
    answering, or transfers the call with its own button to `refer_to` (a
    blind SIP REFER); hangs up after talk_ms (or when Asterisk hangs up).
    Keys are pressed on the first call only, or with `keys_every_call` on each.
    Keys go as SIP INFO, as desk phones send them, or with `rfc4733` as RTP
    telephone-events, as softphones and carriers do."""
    sipp = require_sipp()
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = (
        render("phone_busy.xml", workdir)
        if busy
        else render(
            "phone.xml",
            workdir,
            ring_ms=ring_ms,
            talk_ms=talk_ms,
            keys=key_presses(
                keys, keys_after_ms, workdir if rfc4733 else None, every_call=keys_every_call
            ),
            # SIPp refuses a variable declared and never used.
            key_globals=(
                '  <Global variables="pressed"/>'
                if (keys and not keys_every_call) or refer_to
                else ""
            ),
            refer=refer(refer_to, keys_after_ms),
        )
    )
    log_file = workdir / f"{name}.log"
    log_file.unlink(missing_ok=True)
    address = ADDRESSES[name]
    process = subprocess.Popen(
        [
            sipp,
            "-sf",
            str(scenario),
            "-i",
            address,
            "-p",
            "5060",
            "-mp",
            str(next(_media_ports)),
            "-aa",  # answer UPDATE (connected line), INFO, NOTIFY, OPTIONS with 200 OK
            *_unattended(workdir, name),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=workdir,
    )
    time.sleep(0.15)  # let it bind before anyone calls it
    if process.poll() is not None:
        err = process.stderr.read().decode(errors="replace") if process.stderr else ""
        raise SippError(f"phone {name} at {address} did not start: {err.strip()[-400:]}")
    return Phone(name=name, process=process, log_file=log_file)


def call(
    trunk: str,
    workdir: Path,
    *,
    number_prefix: str,
    caller_name: str = "市民",
    calls: int = 1,
    rate: float = 10.0,
    talk_ms: int = 1000,
    cancel_after_ms: int | None = None,
    sip_port: int = 5060,
    timeout: float = 120.0,
    source: str | None = None,
    keys: str = "",
    keys_as_info: bool = False,
) -> CallResult:
    """Citizens call `trunk` ("110" or "12345"); block until every call is over.

    Caller numbers are number_prefix + 1..calls, so each call is identifiable.
    `source`: call from that actor's address instead of the trunk's (a desk
    phone dialling `trunk` as an extension: "*731", "12345").
    `keys`: pressed once answered, as RFC 4733 events (carriers, most
    softphones) or, `keys_as_info`, as SIP INFO (some carriers); each "."
    waits a second first ("..1": two seconds, then 1); keys in a row go 400 ms
    apart.
    """
    sipp = require_sipp()
    workdir.mkdir(parents=True, exist_ok=True)
    if cancel_after_ms is None:
        scenario = render(
            "citizen.xml",
            workdir,
            talk_ms=talk_ms,
            keys=citizen_keys(keys, workdir, as_info=keys_as_info),
        )
    else:
        scenario = render("citizen_cancel.xml", workdir, ring_ms=cancel_after_ms)
    tag = f"citizen-{number_prefix}"
    log_file = workdir / f"{tag}.log"
    log_file.unlink(missing_ok=True)
    argv = [
        sipp,
        f"127.0.0.1:{sip_port}",
        "-sf",
        str(scenario),
        "-s",
        trunk,
        "-i",
        ADDRESSES[source or f"trunk-{trunk}"],
        "-p",
        "5060",
        "-mp",
        str(next(_media_ports)),
        "-set",
        "num",
        number_prefix,
        "-set",
        "name",
        caller_name,
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-r",
        str(rate),
        "-rp",
        "1000",
        "-timeout",
        f"{int(timeout)}s",
        "-timeout_error",
        *_unattended(workdir, tag),
    ]
    result = subprocess.run(
        argv, capture_output=True, timeout=timeout + 10, cwd=workdir, check=False
    )
    lines = _read_lines(log_file)
    outcomes = {}
    for line in lines:
        number, _, outcome = line.partition(" ")
        if not outcome.startswith("pressed"):  # what a caller pressed is not how it ended
            outcomes[number] = outcome
    return CallResult(
        returncode=result.returncode,
        log_lines=lines,
        stdout_tail=result.stdout.decode(errors="replace")[-2000:],
        outcomes=outcomes,
    )


@dataclass(frozen=True)
class Dialog:
    """A phone's established call, as Asterisk knows it (its PJSIP channel)."""

    call_id: str
    phone_tag: str  # the phone's tag
    pbx_tag: str  # Asterisk's tag
    caller_uri: str  # the far party's URI, e.g. <sip:13810001@127.0.0.1>


def consult_and_refer(
    phone: str, workdir: Path, target: str, dialog: Dialog, *, consult_ms: int = 1500
) -> CallResult:
    """The phone's own attended transfer: a second line from the phone's address
    calls `target`, then REFERs the phone's call in `dialog` to it (Replaces)."""
    sipp = require_sipp()
    scenario = render("consult_refer.xml", workdir, phone=phone, consult_ms=consult_ms)
    tag = f"{phone}-line2"
    options: list[tuple[str, ...]] = [  # each option with its values
        ("-sf", str(scenario)),
        ("-s", target),
        ("-i", ADDRESSES[phone]),
        ("-p", "5070"),
        ("-mp", str(next(_media_ports))),
        ("-set", "d1_callid", dialog.call_id),
        ("-set", "d1_phone_tag", dialog.phone_tag),
        ("-set", "d1_pbx_tag", dialog.pbx_tag),
        ("-set", "d1_caller", dialog.caller_uri),
        ("-set", "d1_contact", "sip:asterisk@127.0.0.1:5060"),
        ("-cid_str", "consult-%u-%p"),  # no "@": it would need escaping inside Refer-To
        ("-aa",),
        ("-m", "1"),
        ("-timeout", "60s"),
        ("-timeout_error",),
    ]
    argv = [
        sipp,
        "127.0.0.1:5060",
        *(word for option in options for word in option),
        *_unattended(workdir, tag),
    ]
    result = subprocess.run(argv, capture_output=True, timeout=70, cwd=workdir, check=False)
    return CallResult(
        returncode=result.returncode,
        log_lines=_read_lines(workdir / f"{tag}.log"),
        stdout_tail=result.stdout.decode(errors="replace")[-2000:],
    )


def key_presses(
    keys: str, after_ms: int, rtp_in: Path | None = None, *, every_call: bool = False
) -> str:
    """SIPp steps pressing each key as an in-dialog SIP INFO (application/dtmf-relay),
    as desk phones send DTMF, or (with `rtp_in`, where the captures are written)
    as RFC 4733 RTP events, as softphones do; Asterisk's feature detection hears both.

    Only on the phone's first call (a phone rung back after a failed transfer
    must not press them again), unless `every_call` (a unit's phone taking
    one notice after another). While it waits between keys the phone answers
    re-INVITEs (Asterisk updates the connected line when a transfer moves it).
    """
    if not keys:
        return ""
    steps = [] if every_call else [_first_call_only("keys_done")]
    waits = re.findall(r"[^.]+|\.+", keys.lstrip("."))
    groups: list[tuple[int, str]] = []
    pause = after_ms
    for part in waits:
        if part.startswith("."):
            pause = 1000 * len(part)
        else:
            groups.append((pause, part))
            pause = 0
    presses = [
        (wait_ms if i == 0 else 200, key)
        for wait_ms, group in groups
        for i, key in enumerate(group)
    ]
    for n, (wait_ms, key) in enumerate(presses):
        steps.append(_answering_reinvites(f"k{n}", wait_ms))
        steps.append(_info(key, 10 + n) if rtp_in is None else _rtp_event(key, n, rtp_in))
    steps.append(f'  <nop><action><log message="[call_id] pressed {keys}"/></action></nop>')
    steps.append('  <label id="keys_done"/>')
    return "\n".join(steps)


def citizen_keys(keys: str, workdir: Path, *, as_info: bool = False) -> str:
    """SIPp steps of a caller (the INVITE's sender) pressing `keys` (see `call`)."""
    steps = []
    for n, part in enumerate(re.findall(r"\.+|[^.]", keys)):
        if part.startswith("."):
            steps.append(f'  <pause milliseconds="{1000 * len(part)}"/>')
            continue
        steps.append('  <pause milliseconds="400"/>')
        if as_info:
            steps.append(_caller_info(part, 10 + n))
        else:
            steps.append(_rtp_event(part, n, workdir))
    if keys:
        steps.append(
            f'  <nop><action><log message="[$num][call_number] pressed {keys}"/></action></nop>'
        )
    return "\n".join(steps)


# The citizen scenarios' own From (citizen.xml).
_CALLER_FROM = (
    '"[$name]" <sip:[$num][call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]'
)


def _caller_info(key: str, cseq: int) -> str:
    return _info(key, cseq, uri="[next_url]", from_=_CALLER_FROM, to="[$to_hdr]")


def refer(target: str, after_ms: int) -> str:
    """SIPp steps of a phone's own blind transfer: REFER to `target` (an
    extension of the phone's context), as a softphone's transfer button does,
    on the phone's first call only. Asterisk's NOTIFYs about its progress are
    answered by -aa."""
    if not target:
        return ""
    return (
        _first_call_only("refer_done")
        + f"""
  <pause milliseconds="{after_ms}"/>
  <send retrans="500">
    <![CDATA[
      REFER [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$to_hdr];tag=[pid]SIPpTag01[call_number]
      To: [$from_hdr]
      Call-ID: [call_id]
      CSeq: 50 REFER
      Max-Forwards: 70
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Refer-To: <sip:{target}@127.0.0.1:5060>
      Referred-By: <sip:[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <recv response="202"/>
  <nop><action><log message="[call_id] referred to {target}"/></action></nop>
  <label id="refer_done"/>"""
    )


def _first_call_only(skip_to: str) -> str:
    # A global (per phone process) rather than [call_number]: a stray BYE from
    # an earlier test also counts as a "call" to SIPp.
    return f"""  <nop><action>
    <test assign_to="again" variable="pressed" compare="equal" value="1"/>
  </action></nop>
  <nop next="{skip_to}" test="again"/>
  <nop><action><assign assign_to="pressed" value="1"/></action></nop>"""


def _answering_reinvites(label: str, wait_ms: int) -> str:
    if wait_ms <= 0:
        return ""
    # An optional recv carries the group's timeout; a BYE meanwhile ends the call.
    return f"""  <label id="{label}"/>
  <recv request="INVITE" optional="true" timeout="{wait_ms}"
        ontimeout="{label}go" next="{label}re"/>
  <recv request="BYE" next="bye_received"/>
  <label id="{label}re"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 53655765 2353687639 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16

    ]]>
  </send>
  <recv request="ACK" next="{label}"/>
  <label id="{label}go"/>"""


def _rtp_event(key: str, index: int, workdir: Path) -> str:
    capture = rtp_keys.key_pcap(key, index, workdir)
    # play_pcap_audio returns at once; the key lasts about 180 ms.
    return f'''  <nop><action><exec play_pcap_audio="{capture}"/></action></nop>
  <pause milliseconds="250"/>'''


def _info(
    key: str,
    cseq: int,
    *,
    uri: str = "[$contact]",
    from_: str = "[$to_hdr];tag=[pid]SIPpTag01[call_number]",
    to: str = "[$from_hdr]",
) -> str:
    """An in-dialog SIP INFO carrying one key; by default from a phone that
    answered (its From is the INVITE's To), else as `uri`, `from_`, `to` say."""
    return f"""  <send retrans="500">
    <![CDATA[
      INFO {uri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: {from_}
      To: {to}
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>"""


def _unattended(workdir: Path, tag: str) -> list[str]:
    """No terminal; the scenario's outcome lines, errors and every SIP message
    go to <tag>.log / .err / .msg in workdir (read them when a test fails)."""
    return [
        "-nostdin",
        "-trace_logs",
        "-log_file",
        str(workdir / f"{tag}.log"),
        "-trace_err",
        "-error_file",
        str(workdir / f"{tag}.err"),
        "-trace_msg",
        "-message_file",
        str(workdir / f"{tag}.msg"),
    ]


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]
