"""The PC console's ways in: login codes and links not yet spent, sessions,
and wrong codes typed in the mini-program (to slow down guessing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

QR = "qr"  # a short code shown on the PC, confirmed from the mini-program
LINK = "link"  # a one-time URL printed by `flask --app app console link`


class ConsoleLogin(Base):
    """A login waiting to be spent. Only hashes are stored: the code (or the
    link's token), and for a QR login the secret of the PC browser that shows
    it, so only that browser gets the session once someone confirms."""

    __tablename__ = "console_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # A link: whom it logs in. A QR code: who confirmed it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ConsoleSession(Base):
    """A browser logged in to the console; the cookie holds the token, the
    table its hash. The user's role is read on every request."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # logout | idle | expired | role
    end_reason: Mapped[str] = mapped_column(String(16), default="")


class ConsoleLoginFailure(Base):
    """A code typed in the mini-program that named no login."""

    __tablename__ = "console_login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_console_login_failures_user_at", "user_id", "at"),)
