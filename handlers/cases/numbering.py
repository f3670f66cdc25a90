"""Public case numbers such as YN20260603-0042: prefix, county date, daily sequence."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import CaseNumberCounter


def next_case_number(session: Session, prefix: str, day: date) -> str:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # One statement, so concurrent submissions never share a number.
    stmt = (
        insert(CaseNumberCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": CaseNumberCounter.last + 1})
        .returning(CaseNumberCounter.last)
    )
    seq = session.execute(stmt).scalar_one()
    return f"{prefix}{day:%Y%m%d}-{seq:04d}"
