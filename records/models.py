"""Tables of call records, transfers and API tokens.

The schema is created and changed only by the Alembic revisions in
`records/migrations/`; a test checks that they match these models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from records.types import UtcDateTime
from telephony.events import Direction, LegRole, Trunk
from transfer.states import By, TransferMode, TransferState

# Deterministic constraint names, so migrations can address them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class TokenRole(StrEnum):
    ADMIN = "admin"
    OPERATOR_110 = "operator_110"
    OPERATOR_12345 = "operator_12345"
    SUPERVISOR = "supervisor"
    UNIT = "unit"


def str_enum(enum: type[StrEnum], name: str, length: int = 16) -> Enum:
    # VARCHAR + CHECK rather than a native PostgreSQL ENUM: adding a value later
    # is then the same small migration on both databases. Values, not member
    # names, are stored ("110", not "T110").
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Autoincrement needs INTEGER PRIMARY KEY on SQLite; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Call(Base):
    """One call: everything sharing an Asterisk Linkedid."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    trunk: Mapped[Trunk | None] = mapped_column(str_enum(Trunk, "trunk"))
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
    trunk: Mapped[Trunk | None] = mapped_column(str_enum(Trunk, "trunk"))
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


class ApiToken(Base):
    """A bearer token for the REST/WebSocket API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String)
    role: Mapped[TokenRole] = mapped_column(str_enum(TokenRole, "token_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The desk phone (PJSIP endpoint, e.g. "op110-1") an operator acts from: an
    # operator may transfer only calls that phone is on.
    phone: Mapped[str | None] = mapped_column(String)
    # The member unit (roster code) a unit token acts for: it sees that unit's cases only.
    unit: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TransferRecord(Base):
    """One transfer (`transfer.machine.Transfer`) as it stands now.

    Its steps are in `transfer_steps`; `records.transfers` writes and reads both.
    """

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    # Not a foreign key: calls get merged (the id moves on) and transfers are
    # written apart from the call records.
    call_id: Mapped[str] = mapped_column(String, index=True)
    caller_uniqueid: Mapped[str] = mapped_column(String)
    operator_uniqueid: Mapped[str] = mapped_column(String)
    target_uniqueid: Mapped[str | None] = mapped_column(String)
    requested_mode: Mapped[TransferMode] = mapped_column(str_enum(TransferMode, "requested_mode"))
    mode: Mapped[TransferMode] = mapped_column(str_enum(TransferMode, "transfer_mode"))
    target: Mapped[str] = mapped_column(String)  # "110", "12345" or "unit:<code>"
    state: Mapped[TransferState] = mapped_column(str_enum(TransferState, "transfer_state"))
    requested_by: Mapped[By] = mapped_column(str_enum(By, "requested_by"))
    ring_timeout_s: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # Restart reconciliation asks "which transfers were still going?".
        Index(
            "ix_transfers_running",
            "requested_at",
            sqlite_where=ended_at.is_(None),
            postgresql_where=ended_at.is_(None),
        ),
    )


class TransferStep(Base):
    """One entry of a transfer's timeline (`transfer.machine.Step`), `seq` from 0."""

    __tablename__ = "transfer_steps"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[TransferState | None] = mapped_column(str_enum(TransferState, "from_state"))
    to_state: Mapped[TransferState] = mapped_column(str_enum(TransferState, "to_state"))
    event: Mapped[str] = mapped_column(String)  # the event's type name
    # A `transfer.states.Reason` value; plain text, some are longer than 16.
    reason: Mapped[str] = mapped_column(String)
    mode: Mapped[TransferMode] = mapped_column(str_enum(TransferMode, "step_mode"))
    by: Mapped[By | None] = mapped_column(str_enum(By, "step_by"))


# The case tables live in records/cases/models.py; importing it here puts them
# on Base.metadata wherever the schema is used (migrations, their test).
from records.cases import models as _case_models  # noqa: E402, F401
