"""Open311 GeoReport v2: the API keys other civic tools file cases with, and
what a filing through it brought beside the case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Open311Key(Base):
    """An API key (only its SHA-256 is kept). Each key files as its own
    reporter user, so routing, content security and the daily limit apply to
    it like to any resident, the limit counting per key."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime]


class Open311Filing(Base):
    """A case filed through Open311: by which key, and the client's media link
    (kept as given and never fetched by the server)."""

    __tablename__ = "open311_filings"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("open311_keys.id"), index=True)
    media_url: Mapped[str | None] = mapped_column(String(2000), default=None)
