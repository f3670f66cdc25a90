"""The notification outbox, shared WeChat tokens, worker locks, push receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.logs import current_request_id

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # can never succeed; shown to supervisors
NO_CHANNEL = "no_channel"  # the user can be reached by no channel


class Notification(Base):
    """A message to one user, written in the transaction that caused it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    purpose: Mapped[str] = mapped_column(String(32))  # new_case | escalation | case_update
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    channel: Mapped[str | None] = mapped_column(String(16), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    remote_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    # The request (or worker job) that wrote the row, so its send is logged
    # under the same id; filled in from the one in progress.
    request_id: Mapped[str | None] = mapped_column(String(64), default=lambda: current_request_id())

    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_case", "case_id"),
    )


class WeChatTokenCache(Base):
    """Access tokens shared by every process (see app/wechat.py)."""

    __tablename__ = "wechat_token_cache"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class JobLock(Base):
    """A lease one worker holds so idle workers do no duplicate work."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class CallbackReceipt(Base):
    """A WeChat push already handled; WeChat retries a push three times."""

    __tablename__ = "callback_receipts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class PushStamp(Base):
    """A (timestamp, nonce, signature) of a WeChat push already accepted, kept
    for the acceptance window so the same signed request is never taken twice
    (the database's copy when there is no Redis)."""

    __tablename__ = "push_stamps"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
