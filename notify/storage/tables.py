"""Tables of the server's own calls: the linkage notices' outbox (one row per
notice, its state and next try) and every try made (whom, how it ended, the
call); the follow-up calls (one row per closing of a case)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, str_enum
from database.types import UtcDateTime
from notify.core.follow_ups import CallResult, FollowUpState
from notify.core.notices import NoticeState, TryResult


class NoticeRecord(Base):
    """One linkage notice (`notify.core.notices.Notice`)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Not a foreign key, like the other features' references to cases: the
    # notice is kept even if the case's rows are rewritten (a merge).
    case_number: Mapped[str] = mapped_column(String, index=True)
    unit: Mapped[str] = mapped_column(String)
    dispatch_seq: Mapped[int] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean)
    rungs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[NoticeState] = mapped_column(str_enum(NoticeState, "notice_state"))
    tries: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reached: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    co_unit: Mapped[bool] = mapped_column(Boolean, server_default=false())

    __table_args__ = (
        # One notice per dispatch of a case to a unit: none made twice.
        UniqueConstraint("case_number", "dispatch_seq", "unit"),
        Index("ix_notices_state", "state"),
    )


class NoticeTryRecord(Base):
    """One call of a notice (`notify.core.notices.Try`)."""

    __tablename__ = "notice_tries"

    notice_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String)
    phone: Mapped[str] = mapped_column(String)
    dial: Mapped[str] = mapped_column(String)
    trunk: Mapped[str] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    result: Mapped[TryResult | None] = mapped_column(str_enum(TryResult, "notice_try_result"))
    reason: Mapped[str | None] = mapped_column(String)
    recording: Mapped[str | None] = mapped_column(String)
    call_id: Mapped[str | None] = mapped_column(String, index=True)


class FollowUpRecord(Base):
    """One follow-up call to a case's caller (`notify.core.follow_ups.FollowUp`)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String, index=True)
    closed_seq: Mapped[int] = mapped_column(Integer)
    caller_number: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[FollowUpState] = mapped_column(str_enum(FollowUpState, "follow_up_state"))
    tries: Mapped[int] = mapped_column(Integer)
    last_result: Mapped[CallResult | None] = mapped_column(str_enum(CallResult, "follow_up_result"))
    rating: Mapped[int | None] = mapped_column(Integer)
    recording: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # One follow-up per closing of a case: none made twice.
        UniqueConstraint("case_number", "closed_seq"),
        Index("ix_follow_ups_state", "state"),
    )
