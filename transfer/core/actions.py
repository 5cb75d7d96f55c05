"""How each command of the transfer core is carried out through the AMI.

From the commands, the transfer and its parties: the AMI actions to send, in
order. Nothing is sent here; the plan only notes on `parties` what it sets up
(which channel dials the target, the three-way room). The dialplan side is
`asterisk-config/extensions.conf` (contexts `ld-xfer-*`): the server moves
channels there with Redirect, and Asterisk only rings, holds or waits until
the server's next move.

Two Asterisk facts shape the plan:
- Redirecting one party out of a two-party bridge hangs the other up, so the
  caller and the operator leave together (Redirect with ExtraChannel) whenever
  the operator must stay on.
- The ringing is done by a Dial on a channel of the call (the caller for a
  blind transfer, the operator for an attended one) so that the target's leg
  inherits the call's Linkedid and LD_* variables. A three-way target is rung
  from a Local channel the server originates, tied to the call by LD_CALL;
  once it answers, its own channel is moved into the room.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from telephony.core.legs import CALL_VARIABLE
from transfer.core import commands as c
from transfer.core.machine import Transfer
from transfer.core.parties import Parties
from transfer.core.states import By, TransferMode
from transfer.core.target import Target

HOLD = "ld-xfer-hold"
WAIT = "ld-xfer-wait"
BLIND = "ld-xfer-blind"
CONSULT = "ld-xfer-consult"
CONF = "ld-xfer-conf"
CONF_RING = "ld-xfer-conf-ring"

Action = dict[str, str | list[str]]

# How long a caller may wait on hold (ld-xfer-hold) before the dialplan sends
# them back to their desk by itself, should the server not move them: set on
# the caller as a transfer starts. A hold lasts at most a ring (of the target,
# or of the operator rung back) plus the server's reaction, so a ring timeout
# and a margin; a consultation under way (an attended target answered) may
# take longer, as long as the operator's own wait (ld-xfer-wait).
HOLD_MARGIN_S = 15
CONSULT_HOLD_S = 600


@dataclass(frozen=True)
class AmiStep:
    action: Action
    # The channel may be gone already (it hung up, or Asterisk ended it with a
    # bridge): "No such channel" is then the expected answer, not a failure.
    may_be_gone: bool = False
    # Uniqueids that must be waiting on hold music before this is sent. The
    # Bridge action pulls a channel out of the dialplan it is running; pulled
    # half way through a few dialplan steps (an operator whose consultation
    # just ended) both sides can fall out of the new bridge into silence.
    after_hold: tuple[str, ...] = ()
    # A step that gives the caller back: if it fails, the caller must not be
    # left on hold music; the shell sends them to ring their desk again.
    gives_back: bool = False


def new_transfer_id() -> str:
    return f"xfer-{uuid.uuid4().hex[:16]}"


def exten_for(target: Target) -> str:
    """The dialplan's name for a target: 110, 12345, or u<unit code>."""
    return target.desk.value if target.desk is not None else f"u{target.unit}"


def caller_id(parties: Parties) -> str:
    number = parties.caller_number or ""
    return f'"{parties.caller_name}" <{number}>' if parties.caller_name else number


def recall_id(transfer: Transfer) -> str:
    """The Uniqueid the server gives the call that rings the operator back."""
    return f"{transfer.id}-recall"


def conference_ids(transfer: Transfer) -> tuple[str, str]:
    """Uniqueids of the Local pair that rings a three-way target: (answers, dials)."""
    return f"{transfer.id}-conf", f"{transfer.id}-ring"


def plan(
    commands: list[c.Command], transfer: Transfer, parties: Parties, ring_s: int
) -> list[AmiStep]:
    """The AMI steps for `commands` (NotifyOperator is not an AMI step: skipped).

    `ring_s` is how long a dial started now may ring (the rest of the ring time).
    """
    dials = any(isinstance(command, c.DialTarget) for command in commands)
    dialled = False
    steps = _redial_from_caller(transfer, parties, ring_s)
    for command in commands:
        if isinstance(command, c.HoldCaller) and dials:
            # The dial holds the caller (music) and must move them before the
            # operator is hung up, or Asterisk ends the caller with the bridge.
            steps += _dial(transfer, parties, ring_s)
            dialled = True
        elif isinstance(command, c.HoldCaller):
            steps += _hold_caller(parties)
        elif isinstance(command, c.DialTarget):
            steps += [] if dialled else _dial(transfer, parties, ring_s)
        elif isinstance(command, c.StartConference):
            steps += _start_conference(transfer, parties)
        elif isinstance(command, c.HangupOperatorLeg):
            if not (dialled and transfer.mode is TransferMode.BLIND):
                # (Moving the caller out of their two-party bridge already ended
                # the operator's leg; were the move refused, the two keep talking.)
                steps.append(_hangup(parties.operator_channel))
        elif isinstance(command, c.HangupTargetLeg):
            steps += _stop_target(parties)
        elif isinstance(command, c.BridgeCallerWithTarget):
            steps += _bridge_caller_with_target(transfer, parties)
        elif isinstance(command, c.ReturnCallerToOperator):
            back = _bridge(parties.caller_channel, parties.operator_channel)
            hold = (parties.caller_uniqueid, parties.operator_uniqueid)
            steps.append(AmiStep(back.action, after_hold=hold, gives_back=True))
        elif isinstance(command, c.RecallOperator):
            steps += _recall_operator(transfer, parties)
        elif isinstance(command, c.AddTargetToConference):
            steps += _target_into_room(parties)
        elif isinstance(command, c.EndConference):
            pass  # the room's members are the shell's to know: see transfer.service.three_way
        elif isinstance(command, c.ConnectOperatorWithTarget):
            # The operator's Dial already joined them; the caller may now wait
            # through the whole consultation.
            steps.append(hold_limit(parties.caller_channel, CONSULT_HOLD_S))
    return steps


# ---------------------------------------------------------------- the steps


def _setvars(channel: str, transfer: Transfer, ring_s: int) -> list[AmiStep]:
    return [
        AmiStep(
            {"Action": "Setvar", "Channel": channel, "Variable": "LD_XFER", "Value": transfer.id}
        ),
        AmiStep(
            {
                "Action": "Setvar",
                "Channel": channel,
                "Variable": "LD_XFER_TIMEOUT",
                "Value": str(ring_s),
            }
        ),
    ]


def hold_limit(channel: str, seconds: int) -> AmiStep:
    """The longest this caller may wait on hold, counted from when the hold began."""
    return AmiStep(
        {"Action": "Setvar", "Channel": channel, "Variable": "LD_HOLD_S", "Value": str(seconds)},
        may_be_gone=True,
    )


def _redirect(channel: str, context: str, exten: str = "s") -> AmiStep:
    return AmiStep(
        {
            "Action": "Redirect",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": "1",
        },
        may_be_gone=True,
    )


def _hangup(channel: str) -> AmiStep:
    return AmiStep({"Action": "Hangup", "Channel": channel, "Cause": "16"}, may_be_gone=True)


def _bridge(one: str, other: str) -> AmiStep:
    return AmiStep(
        {"Action": "Bridge", "Channel1": one, "Channel2": other, "Tone": "no"}, may_be_gone=True
    )


def _hold_caller(parties: Parties) -> list[AmiStep]:
    if parties.room is not None:
        return []  # in a three-way room the caller hears music when alone
    return [_redirect(parties.caller_channel, HOLD)]


def _dial(transfer: Transfer, parties: Parties, ring_s: int) -> list[AmiStep]:
    exten = exten_for(transfer.request.target)
    mode = transfer.mode
    limit = hold_limit(parties.caller_channel, transfer.request.ring_timeout_s + HOLD_MARGIN_S)
    if mode is TransferMode.BLIND:
        parties.dialer_uniqueid = parties.caller_uniqueid
        return [
            *_setvars(parties.caller_channel, transfer, ring_s),
            limit,
            _redirect(parties.caller_channel, BLIND, exten),
        ]
    if mode is TransferMode.ATTENDED:
        parties.dialer_uniqueid = parties.operator_uniqueid
        both = _redirect(parties.caller_channel, HOLD)
        both.action.update(
            ExtraChannel=parties.operator_channel,
            ExtraContext=CONSULT,
            ExtraExten=exten,
            ExtraPriority="1",
        )
        return [*_setvars(parties.operator_channel, transfer, ring_s), limit, both]
    answers, dials = conference_ids(transfer)
    parties.dialer_uniqueid = dials
    originate: Action = {
        "Action": "Originate",
        "Channel": f"Local/{exten}@{CONF_RING}/n",
        # Once the target answers, the Local half waits; the server then moves
        # the target's own channel into the room (AddTargetToConference).
        "Context": WAIT,
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": str((ring_s + 5) * 1000),
        "CallerID": caller_id(parties),
        "ChannelId": answers,
        "OtherChannelId": dials,
        "Variable": [
            f"LD_XFER={transfer.id}",
            f"LD_XFER_TIMEOUT={ring_s}",
            f"__{CALL_VARIABLE}={transfer.call_id}",
        ],
    }
    return [AmiStep(originate)]


def _start_conference(transfer: Transfer, parties: Parties) -> list[AmiStep]:
    parties.room = room_number(transfer)
    both = _redirect(parties.caller_channel, CONF, parties.room)
    both.action.update(
        ExtraChannel=parties.operator_channel,
        ExtraContext=CONF,
        ExtraExten=parties.room,
        ExtraPriority="1",
    )
    return [both]


def room_number(transfer: Transfer) -> str:
    """Digits only (the room is an extension); stable for the transfer."""
    return str(int(transfer.id.rsplit("-", 1)[-1], 16) % 10**9).zfill(9)


def _redial_from_caller(transfer: Transfer, parties: Parties, ring_s: int) -> list[AmiStep]:
    """An attended transfer became blind while the operator's Dial was ringing
    the target (the operator completed early or hung up): that Dial ends with
    the operator's leg, so the caller rings the target itself from now on."""
    if not (
        transfer.mode is TransferMode.BLIND
        and transfer.running
        and parties.dialer_uniqueid == parties.operator_uniqueid
    ):
        return []
    parties.dialer_uniqueid = parties.caller_uniqueid
    exten = exten_for(transfer.request.target)
    return [
        *_setvars(parties.caller_channel, transfer, ring_s),
        _redirect(parties.caller_channel, BLIND, exten),
    ]


def _stop_target(parties: Parties) -> list[AmiStep]:
    if parties.target_channel is not None:  # it answered: end its leg
        return [_hangup(parties.target_channel)]
    # Still ringing: end the Dial that rings it (its phones stop ringing).
    if parties.dialer_uniqueid == parties.caller_uniqueid:
        return [_redirect(parties.caller_channel, HOLD)]
    if parties.dialer_uniqueid == parties.operator_uniqueid:
        return [_redirect(parties.operator_channel, WAIT)]
    if parties.dialer_uniqueid is not None:  # three-way: the Local pair (by Uniqueid)
        return [_hangup(parties.dialer_uniqueid)]
    return []


def _bridge_caller_with_target(transfer: Transfer, parties: Parties) -> list[AmiStep]:
    if parties.dialer_uniqueid == parties.caller_uniqueid or parties.target_channel is None:
        return []  # the caller's own Dial already joined them
    if parties.room is not None:  # a three-way call turned blind: the caller waits in the room
        return _target_into_room(parties)
    bridge = _bridge(parties.caller_channel, parties.target_channel)
    if transfer.timeline[-1].by is By.HANGUP:
        # The operator hung up mid-consultation: Dial's F option is moving the
        # target to wait on music right now; bridge it once it is there.
        hold = (parties.caller_uniqueid, parties.target_uniqueid or "")
        return [AmiStep(bridge.action, may_be_gone=True, after_hold=hold, gives_back=True)]
    return [AmiStep(bridge.action, may_be_gone=True, gives_back=True)]


def _target_into_room(parties: Parties) -> list[AmiStep]:
    """The answered target's own channel joins the room (its Local pair ends):
    its leg is then in the room's bridge with the caller, as the records show."""
    if parties.target_channel is None or parties.room is None:
        return []
    parties.target_room_uniqueid = parties.target_uniqueid
    return [_redirect(parties.target_channel, CONF, parties.room)]


def _recall_operator(transfer: Transfer, parties: Parties) -> list[AmiStep]:
    """Ring the operator's phone back; on answer Asterisk's Bridge application
    joins it with the caller, who waits on music meanwhile."""
    if parties.operator_endpoint is None:  # not known (a restart): the desk takes the caller
        return back_to_desk(parties)
    return [
        AmiStep(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{parties.operator_endpoint}",
                "Application": "Bridge",
                "Data": parties.caller_channel,
                "Async": "true",
                # A full ring: the target's ring time is used up by now.
                "Timeout": str(transfer.request.ring_timeout_s * 1000),
                "CallerID": caller_id(parties),
                "ChannelId": recall_id(transfer),
                "Variable": [f"__{CALL_VARIABLE}={transfer.call_id}", f"LD_XFER={transfer.id}"],
            },
            gives_back=True,
        )
    ]


def back_to_desk(parties: Parties) -> list[AmiStep]:
    """The last resort when the operator cannot be rung back: the caller rings
    their desk again, as when they first called."""
    if parties.desk is None:
        return []
    return [_redirect(parties.caller_channel, f"from-trunk-{parties.desk}", parties.desk)]


def end_room(channels: list[str]) -> list[AmiStep]:
    return [_hangup(channel) for channel in channels]
