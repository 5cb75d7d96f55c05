"""The case lifecycle as one explicit table: which command moves a case from
which state to which, and who may give it.

Everything else about a move (the desk holding the case, whose unit it is,
a pending extension) is checked in `records.core.case_file`; this module is
only the table, so that it can be read — and tested — as the county's rules.
"""

from __future__ import annotations

from enum import StrEnum

from common.vocabulary import DESK_ROLES, Role


class CaseState(StrEnum):
    RECEIVED = "received"  # 已受理: a desk has the matter, not yet classified
    CLASSIFIED = "classified"  # 已分类: type, category, route decided
    POLICE_HANDLING = "police_handling"  # 转110/警方处置
    DISPATCHED = "dispatched"  # 已派发 to a member unit; clocks run from here
    SIGNED = "signed"  # 已签收
    ON_SCENE = "on_scene"  # 已到场
    FED_BACK = "fed_back"  # 已反馈 (measures, progress)
    REPLIED = "replied"  # 已回复 the e-reply (电子交办单)
    REVIEWED = "reviewed"  # 已审核 by 12345
    CLOSED = "closed"  # 已办结
    ARCHIVED = "archived"  # 已归档: immutable
    RETURN_REQUESTED = "return_requested"  # 退单申请
    REOPENED = "reopened"  # 重办
    MERGED = "merged"  # 已并单 into another case
    CANCELLED = "cancelled"  # 已撤销

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    CaseState.RECEIVED: "已受理",
    CaseState.CLASSIFIED: "已分类",
    CaseState.POLICE_HANDLING: "警方处置",
    CaseState.DISPATCHED: "已派发",
    CaseState.SIGNED: "已签收",
    CaseState.ON_SCENE: "已到场",
    CaseState.FED_BACK: "已反馈",
    CaseState.REPLIED: "已回复",
    CaseState.REVIEWED: "已审核",
    CaseState.CLOSED: "已办结",
    CaseState.ARCHIVED: "已归档",
    CaseState.RETURN_REQUESTED: "退单申请",
    CaseState.REOPENED: "重办",
    CaseState.MERGED: "已并单",
    CaseState.CANCELLED: "已撤销",
}


class Command(StrEnum):
    CLASSIFY = "classify"  # 分类定性
    REFER_TO_110 = "refer_to_110"  # 12345 → 110: urgent police matter or ambiguous
    ACCEPT_POLICE = "accept_police"  # 110 takes a police matter it received itself
    REFER_TO_12345 = "refer_to_12345"  # 110 → 12345: non-police matter
    POLICE_FEEDBACK = "police_feedback"  # 警情反馈: not police business, back to 12345
    SEND_BACK = "send_back"  # 退回: the receiving desk bounces a wrong transfer
    POLICE_CLOSE = "police_close"  # 110 finished a police matter
    DISPATCH = "dispatch"  # 派发 to a lead unit (and co-units)
    SIGN = "sign"  # 签收
    ARRIVE = "arrive"  # 到场
    FEED_BACK = "feed_back"  # 反馈
    REPLY = "reply"  # 回复电子交办单
    APPROVE_REPLY = "approve_reply"  # 审核通过
    REJECT_REPLY = "reject_reply"  # 审核不通过: the unit goes on
    CLOSE = "close"  # 办结
    ANSWER_DIRECTLY = "answer_directly"  # 直接答复办结 at the desk
    REQUEST_RETURN = "request_return"  # 申请退单
    REDISPATCH = "redispatch"  # 改派 (return approved)
    REJECT_RETURN = "reject_return"  # 退单驳回
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    FOLLOW_UP = "follow_up"  # 回访 with a satisfaction rating
    REOPEN = "reopen"  # 重办
    ARCHIVE = "archive"  # 归档
    MERGE = "merge"  # 并单
    CANCEL = "cancel"  # 撤销
    REMIND = "remind"  # 提醒 before a deadline
    NOTICE = "notice"  # 催办 after a deadline
    BULLETIN = "bulletin"  # 通报 when still overdue
    # Recorded on a case for a move made elsewhere; nobody gives them.
    ABSORB = "absorb"  # 并入: another case was merged into this one
    LINK_CALL = "link_call"  # 关联来电: an operator attached a call to this case


S = CaseState
# The unit's working states: where feedback, replies and extensions happen.
_WORKING = (S.SIGNED, S.ON_SCENE, S.FED_BACK)
# Open and on a unit's clock: where the supervisor ladder applies.
ON_THE_CLOCK = (S.DISPATCHED, *_WORKING, S.RETURN_REQUESTED)


# No command leaves these.
FINAL_STATES = frozenset({S.ARCHIVED, S.MERGED, S.CANCELLED})
# Open: somebody still owes the citizen something.
OPEN_STATES = frozenset(CaseState) - FINAL_STATES - {S.CLOSED}


def _stay(*states: CaseState) -> dict[CaseState, CaseState]:
    """A command that records something without moving the case."""
    return {state: state for state in states}


TRANSITIONS: dict[Command, dict[CaseState, CaseState]] = {
    Command.CLASSIFY: {S.RECEIVED: S.CLASSIFIED, S.CLASSIFIED: S.CLASSIFIED},
    Command.REFER_TO_110: {S.RECEIVED: S.POLICE_HANDLING, S.CLASSIFIED: S.POLICE_HANDLING},
    Command.ACCEPT_POLICE: {S.RECEIVED: S.POLICE_HANDLING, S.CLASSIFIED: S.POLICE_HANDLING},
    Command.REFER_TO_12345: {S.RECEIVED: S.RECEIVED, S.CLASSIFIED: S.RECEIVED},
    Command.POLICE_FEEDBACK: {S.POLICE_HANDLING: S.CLASSIFIED},
    Command.SEND_BACK: {
        S.RECEIVED: S.RECEIVED,  # 12345 bounces what 110 handed over
        S.POLICE_HANDLING: S.CLASSIFIED,  # 110 bounces what 12345 referred
    },
    Command.POLICE_CLOSE: {S.POLICE_HANDLING: S.CLOSED},
    Command.DISPATCH: {S.CLASSIFIED: S.DISPATCHED, S.REOPENED: S.DISPATCHED},
    Command.SIGN: {S.DISPATCHED: S.SIGNED},
    Command.ARRIVE: {S.SIGNED: S.ON_SCENE},
    Command.FEED_BACK: {state: S.FED_BACK for state in _WORKING},
    Command.REPLY: {state: S.REPLIED for state in _WORKING},
    Command.APPROVE_REPLY: {S.REPLIED: S.REVIEWED},
    Command.REJECT_REPLY: {S.REPLIED: S.FED_BACK},
    Command.CLOSE: {S.REVIEWED: S.CLOSED},
    Command.ANSWER_DIRECTLY: {S.CLASSIFIED: S.CLOSED},
    Command.REQUEST_RETURN: {S.DISPATCHED: S.RETURN_REQUESTED, S.SIGNED: S.RETURN_REQUESTED},
    Command.REDISPATCH: {S.RETURN_REQUESTED: S.DISPATCHED},
    # Back to the unit; one that had signed goes on signed (`next_state`'s `signed`).
    Command.REJECT_RETURN: {S.RETURN_REQUESTED: S.DISPATCHED},
    Command.REQUEST_EXTENSION: _stay(*_WORKING),
    Command.APPROVE_EXTENSION: _stay(*_WORKING, S.REPLIED),
    Command.REFUSE_EXTENSION: _stay(*_WORKING, S.REPLIED),
    Command.FOLLOW_UP: _stay(S.CLOSED),
    Command.REOPEN: {S.CLOSED: S.REOPENED},
    Command.ARCHIVE: {S.CLOSED: S.ARCHIVED},
    Command.MERGE: {S.RECEIVED: S.MERGED, S.CLASSIFIED: S.MERGED},
    Command.CANCEL: {S.RECEIVED: S.CANCELLED, S.CLASSIFIED: S.CANCELLED},
    Command.REMIND: _stay(*ON_THE_CLOCK),
    Command.NOTICE: _stay(*ON_THE_CLOCK),
    Command.BULLETIN: _stay(*ON_THE_CLOCK),
    Command.ABSORB: _stay(*OPEN_STATES),
    Command.LINK_CALL: _stay(*OPEN_STATES),
}
# The entries `case_file.record` writes for a move on another case or a call.
RECORDED = frozenset({Command.ABSORB, Command.LINK_CALL})
# The commands somebody gives (the API's), in table order.
GIVEN = tuple(c for c in Command if c not in RECORDED)


# Who gives a command: `common.vocabulary.Role`, the API's roles and the server itself.
R = Role
_DESKS = frozenset(DESK_ROLES)
_HOTLINE = frozenset({R.OPERATOR_12345})
_POLICE = frozenset({R.OPERATOR_110})
_UNIT = frozenset({R.UNIT})
_LADDER = frozenset({R.SUPERVISOR, R.SYSTEM})

ROLES: dict[Command, frozenset[Role]] = {
    Command.CLASSIFY: _DESKS,
    Command.REFER_TO_110: _HOTLINE,
    Command.ACCEPT_POLICE: _POLICE,
    Command.REFER_TO_12345: _POLICE,
    Command.POLICE_FEEDBACK: _POLICE,
    Command.SEND_BACK: _DESKS,
    Command.POLICE_CLOSE: _POLICE,
    Command.DISPATCH: _HOTLINE,
    Command.SIGN: _UNIT,
    Command.ARRIVE: _UNIT,
    Command.FEED_BACK: _UNIT,
    Command.REPLY: _UNIT,
    Command.APPROVE_REPLY: _HOTLINE,
    Command.REJECT_REPLY: _HOTLINE,
    Command.CLOSE: _HOTLINE,
    Command.ANSWER_DIRECTLY: _DESKS,
    Command.REQUEST_RETURN: _UNIT,
    Command.REDISPATCH: _HOTLINE,
    Command.REJECT_RETURN: _HOTLINE,
    Command.REQUEST_EXTENSION: _UNIT,
    Command.APPROVE_EXTENSION: _HOTLINE | {R.SUPERVISOR},
    Command.REFUSE_EXTENSION: _HOTLINE | {R.SUPERVISOR},
    # SYSTEM: the server's follow-up calls record the rating a citizen keyed
    # in, and re-open the case when the county's rules say so.
    Command.FOLLOW_UP: _HOTLINE | {R.SYSTEM},
    Command.REOPEN: _HOTLINE | {R.SUPERVISOR, R.SYSTEM},
    Command.ARCHIVE: _HOTLINE | {R.ADMIN, R.SYSTEM},
    Command.MERGE: _DESKS,
    Command.CANCEL: _DESKS | {R.ADMIN, R.SYSTEM},
    Command.REMIND: _LADDER,
    Command.NOTICE: _LADDER,
    Command.BULLETIN: _LADDER,
    Command.ABSORB: frozenset(),
    Command.LINK_CALL: frozenset(),
}


def next_state(command: Command, state: CaseState, *, signed: bool = False) -> CaseState | None:
    """Where `command` takes a case in `state`, or None if the table refuses it.
    `signed`: the lead unit had signed for the case before asking to return it."""
    to_state = TRANSITIONS[command].get(state)
    if command is Command.REJECT_RETURN and to_state is S.DISPATCHED and signed:
        return S.SIGNED
    return to_state


def allowed_commands(state: CaseState) -> list[Command]:
    """The commands the table lets somebody give in `state`, in table order."""
    return [c for c, moves in TRANSITIONS.items() if state in moves and c not in RECORDED]
