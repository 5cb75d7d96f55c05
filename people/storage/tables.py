"""People's accounts and their sign-ins. A password is kept only as its
Argon2id hash, a sign-in's cookie only as its SHA-256 (as API tokens are)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from common.vocabulary import TOKEN_ROLES, Role
from database.base import Base, str_enum
from database.types import UtcDateTime
from people.core.sign_ins import Ended


class User(Base):
    """A person who signs in to the pages."""

    __tablename__ = "users"
    __table_args__ = (
        # A unit's staff act for exactly one unit; nobody else acts for one.
        CheckConstraint("(role = 'unit') = (unit IS NOT NULL)", name="unit_for_unit_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String)  # shown on case timelines
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role", only=TOKEN_ROLES))
    phone: Mapped[str | None] = mapped_column(String)
    unit: Mapped[str | None] = mapped_column(String)
    password_hash: Mapped[str] = mapped_column(String(255))  # Argon2id, PHC string
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(32))  # "cli", or "user <id>" (the admin)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Wrong passwords in the current window, and the lock they led to.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SignIn(Base):
    """A browser signed in as a user: the cookie it holds, until it ends."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Sent back by the page on every change (X-CSRF-Token): another site's form
    # carries the cookie at most, never this.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_why: Mapped[Ended | None] = mapped_column(str_enum(Ended, "sign_in_end"))
    remote: Mapped[str | None] = mapped_column(String(64))  # the browser's address, for the audit
