"""County data changed at runtime: the responsibility list's versions and
the record of every change an administrator makes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class RoutingVersion(Base):
    """A published version of the responsibility list: the document exactly as
    published, never edited. The version in effect is the latest whose
    ``effective_from`` has come, on the one clock."""

    __tablename__ = "routing_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Who published it, as shown (a department and user, 命令行, 系统).
    created_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_routing_versions_effective", "effective_from", "id"),)


class Change(Base):
    """One change to county data (a community, an assignment, a staff member,
    a version of the list): who, when, what, before and after. Append-only."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor: Mapped[str] = mapped_column(String(64), default="")
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_changes_at", "at"),
        Index("ix_changes_entity", "entity", "entity_id"),
    )
