"""Public case numbers such as YN20260603-0042: prefix, county date, daily sequence."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import CaseNumberCounter


@cache
def _next_of_day(dialect: str) -> Any:
    """The day's next sequence number, in one statement, so concurrent
    submissions never share a number (built once per dialect: a filing
    does not pay for building it again)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(CaseNumberCounter)
        .values(day=bindparam("day", type_=CaseNumberCounter.__table__.c.day.type), last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": CaseNumberCounter.last + 1})
        .returning(CaseNumberCounter.last)
    )


def next_case_number(db: Session | Connection, prefix: str, day: date) -> str:
    """The next number of ``day``; ``db``: the command's session, or its connection."""
    dialect = (db.get_bind() if isinstance(db, Session) else db).dialect.name
    seq = db.execute(_next_of_day(dialect), {"day": day}).scalar_one()
    return f"{prefix}{day:%Y%m%d}-{seq:04d}"
