"""Nine-prohibitions (九不准) violations and the credit ladder they drive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Violation(Base):
    """A confirmed (查实) violation, recorded once per case against the
    company serving the community when it was confirmed."""

    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    clause: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_violations_company", "company_id", "confirmed_at"),)


class LadderRecord(Base):
    """A ladder step a company reached, with the violations behind it."""

    __tablename__ = "ladder_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"))
    step: Mapped[int]
    reached_at: Mapped[datetime]
    violation_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    measures: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_ladder_company", "company_id", "step"),)
