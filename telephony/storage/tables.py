"""Tables of call records: calls, their legs, and the legs' stays in bridges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.vocabulary import Desk
from database.base import Base, BigId, str_enum
from database.types import UtcDateTime
from telephony.core.events import Direction, LegRole


class Call(Base):
    """One call: everything sharing an Asterisk Linkedid."""

    __tablename__ = "calls"
    # The screen pop reads a caller's earlier calls on every ring.
    __table_args__ = (Index("ix_calls_caller_number_started_at", "caller_number", "started_at"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    trunk: Mapped[Desk | None] = mapped_column(str_enum(Desk, "trunk"))
    caller_number: Mapped[str | None] = mapped_column(String)
    caller_name: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set when Asterisk folded this call into another; the row stays so that an
    # old call id still resolves to the survivor.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("calls.id"), index=True)

    legs: Mapped[list[Leg]] = relationship(
        order_by="(Leg.created_at, Leg.uniqueid)", lazy="raise", viewonly=True
    )


class Leg(Base):
    """One channel (Asterisk Uniqueid) taking part in a call."""

    __tablename__ = "legs"

    uniqueid: Mapped[str] = mapped_column(String, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    channel: Mapped[str] = mapped_column(String)
    endpoint: Mapped[str | None] = mapped_column(String)
    role: Mapped[LegRole] = mapped_column(str_enum(LegRole, "leg_role"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    trunk: Mapped[Desk | None] = mapped_column(str_enum(Desk, "trunk"))
    caller_number: Mapped[str | None] = mapped_column(String)
    caller_name: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ringing_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String)
    reconciled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The time above is a bound, not an observation: nobody saw the answer / the
    # end (AMI link down, no CEL row). See README, "legs".
    answered_at_bound: Mapped[bool] = mapped_column(Boolean, server_default=false())
    ended_at_bound: Mapped[bool] = mapped_column(Boolean, server_default=false())

    bridges: Mapped[list[BridgeMembership]] = relationship(
        order_by="(BridgeMembership.joined_at, BridgeMembership.bridge_id)",
        lazy="raise",
        viewonly=True,
    )

    __table_args__ = (
        # Reconciliation asks "which legs are still open?" after every reconnect.
        Index(
            "ix_legs_open",
            "created_at",
            sqlite_where=ended_at.is_(None),
            postgresql_where=ended_at.is_(None),
        ),
    )


class BridgeMembership(Base):
    """A leg's stay in an Asterisk bridge, from join to leave."""

    __tablename__ = "bridge_memberships"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bridge_id: Mapped[str] = mapped_column(String)
    uniqueid: Mapped[str] = mapped_column(ForeignKey("legs.uniqueid"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    # A replayed join is the same stay, not a second one.
    __table_args__ = (UniqueConstraint("bridge_id", "uniqueid", "joined_at"),)
