"""Tables of transfers: each transfer as it stands now, and its timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, str_enum
from database.types import UtcDateTime
from transfer.core.states import By, TransferMode, TransferState


class TransferRecord(Base):
    """One transfer (`transfer.core.machine.Transfer`) as it stands now.

    Its steps are in `transfer_steps`; `transfer.storage.repository` writes and reads both.
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
    """One entry of a transfer's timeline (`transfer.core.machine.Step`), `seq` from 0."""

    __tablename__ = "transfer_steps"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[TransferState | None] = mapped_column(str_enum(TransferState, "from_state"))
    to_state: Mapped[TransferState] = mapped_column(str_enum(TransferState, "to_state"))
    event: Mapped[str] = mapped_column(String)  # the event's type name
    # A `transfer.core.states.Reason` value; plain text, some are longer than 16.
    reason: Mapped[str] = mapped_column(String)
    mode: Mapped[TransferMode] = mapped_column(str_enum(TransferMode, "step_mode"))
    by: Mapped[By | None] = mapped_column(str_enum(By, "step_by"))
