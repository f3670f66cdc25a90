"""Departments and townships, communities, property companies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

DEPARTMENT = "department"
TOWNSHIP = "township"


class Department(Base):
    """A county department or a township (乡镇/街道) office.

    Townships handle cases too (属地), have staff and appear in rankings, so both
    live in one table told apart by ``kind``.
    """

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16), default=DEPARTMENT)
    hotline: Mapped[str] = mapped_column(String(32), default="")

    @property
    def is_township(self) -> bool:
        return self.kind == TOWNSHIP


class PropertyCompany(Base):
    __tablename__ = "property_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]
    # Set while the nine-prohibitions ladder has the company on the blacklist.
    blacklisted_at: Mapped[datetime | None] = mapped_column(default=None)


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(default=None)
    lng: Mapped[float | None] = mapped_column(default=None)
    township_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    star_rating: Mapped[int | None] = mapped_column(default=None)
    below_standard: Mapped[bool] = mapped_column(default=False)

    township: Mapped[Department] = relationship(lazy="joined")
    property_company: Mapped[PropertyCompany | None] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("township_id", "name", name="uq_community_township_name"),)


class CommunityCompany(Base):
    """Which company served a community when: one at a time, with history."""

    __tablename__ = "community_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class StarRating(Base):
    """A star rating round (星级化评定) of a community's property service."""

    __tablename__ = "star_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    stars: Mapped[int | None]
    below_standard: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="round")  # round | ladder | seed
    reason: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime]

    __table_args__ = (Index("ix_star_ratings_community_rated", "community_id", "rated_at"),)


class Disclosure(Base):
    """One of the six disclosures (六个公开) a company keeps for a community."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    item: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("community_id", "item", name="uq_disclosure_item"),)
