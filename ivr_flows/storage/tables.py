"""Tables of the desks: each wait in a desk's queue, and each period an
operator spent in one state (for the supervision figures: talk time, pause
time by reason)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, str_enum
from database.types import UtcDateTime
from ivr_flows.core.callbacks import CallbackState
from ivr_flows.core.operators import OperatorState
from ivr_flows.core.waits import WaitOutcome


class QueueWait(Base):
    """One wait of a caller in a desk's queue (`ivr_flows.core.waits.Wait`)."""

    __tablename__ = "queue_waits"

    id: Mapped[str] = mapped_column(String, primary_key=True)  # "<uniqueid>#<n>"
    # Not a foreign key: calls get merged (the id moves on) and waits are
    # written apart from the call records.
    call_id: Mapped[str] = mapped_column(String, index=True)
    uniqueid: Mapped[str] = mapped_column(String)
    desk: Mapped[str] = mapped_column(String(8))
    via: Mapped[str] = mapped_column(String(16))  # citizen, menu, emergency, transfer, desk
    priority: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # in line when the caller joined
    outcome: Mapped[WaitOutcome] = mapped_column(str_enum(WaitOutcome, "wait_outcome"))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    operator: Mapped[str | None] = mapped_column(String)  # the desk phone that took the call
    talk_s: Mapped[int | None] = mapped_column(Integer)
    ended_by: Mapped[str | None] = mapped_column(String(16))  # caller, agent, transfer

    __table_args__ = (Index("ix_queue_waits_desk_joined", "desk", "joined_at"),)


class OperatorPeriod(Base):
    """An operator's phone in one state from `started_at` to `ended_at`
    (None: still in it)."""

    __tablename__ = "operator_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String)
    desk: Mapped[str] = mapped_column(String(8))
    state: Mapped[OperatorState] = mapped_column(str_enum(OperatorState, "operator_state"))
    reason: Mapped[str] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_operator_periods_phone_started", "phone", "started_at"),)


class MenuStepRecord(Base):
    """A node a caller entered, or a key they pressed, in a voice menu."""

    __tablename__ = "menu_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String, index=True)
    uniqueid: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    menu: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(32))  # empty: the node was entered
    mark: Mapped[str] = mapped_column(String(64))  # hint=<code>, emergency, or empty


class CallbackRecord(Base):
    """A caller who hung up keeping their place, to be called back
    (`ivr_flows.core.callbacks.Callback`)."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String, index=True)  # the call they hung up
    desk: Mapped[str] = mapped_column(String(8))
    caller_number: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[CallbackState] = mapped_column(str_enum(CallbackState, "callback_state"))
    attempts: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    operator: Mapped[str | None] = mapped_column(String)
    last_status: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_callbacks_state", "state"),)
