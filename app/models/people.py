"""Users (residents and staff), staff invites, subscription quotas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.places import Department

RESIDENT = "resident"
HANDLER = "handler"
HEAD = "head"
SUPERVISOR = "supervisor"
ADMIN = "admin"
STAFF_ROLES = (HANDLER, HEAD, SUPERVISOR, ADMIN)
ROLES = (RESIDENT, *STAFF_ROLES)
# The leading group office's powers: supervisors, and admins above them.
SUPERVISORS = (SUPERVISOR, ADMIN)
# Who the PC console serves (residents and plain handlers work in the mini-program).
CONSOLE_ROLES = (HEAD, SUPERVISOR, ADMIN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), default=None)
    role: Mapped[str] = mapped_column(String(16), default=RESIDENT)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    wecom_userid: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # The last authenticated request, written at most every few minutes.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    department: Mapped[Department | None] = relationship(lazy="joined")

    __table_args__ = (
        # Whom a case's departments notify: staff rows only, so the lookup
        # keeps this index whatever ANALYZE finds of the residents (0008).
        Index(
            "ix_users_staff_department",
            "department_id",
            sqlite_where=text("department_id IS NOT NULL"),
            postgresql_where=text("department_id IS NOT NULL"),
        ),
        # The supervisors, whom every sweep batch and supervision notice
        # tells: their rows only, not a scan of the residents (0012).
        Index(
            "ix_users_supervisors",
            "id",
            sqlite_where=text("role = 'supervisor'"),
            postgresql_where=text("role = 'supervisor'"),
        ),
    )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class StaffInvite(Base):
    """A one-time, expiring code that makes its holder staff of a department."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Subscription(Base):
    """What a user allowed for one subscribe-message template.

    A one-time subscription gives one message per accept, so ``quota`` counts
    the messages left; a long-term template needs no count while ``status`` is
    accept.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    template_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="accept")
    quota: Mapped[int] = mapped_column(default=0)
    long_term: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("user_id", "template_id", name="uq_subscription"),)
