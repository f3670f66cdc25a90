"""Public case numbers such as YN20260603-0042: prefix, county date, daily sequence."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, Integer, bindparam, text
from sqlalchemy.orm import Session

from app.db import fetch

# The day's next sequence number in one statement, so concurrent submissions
# never share a number. The same SQL on SQLite and PostgreSQL, written out:
# SQLAlchemy's dialect upsert constructs have no cache key, so they would be
# compiled again on every filing.
NEXT_OF_DAY = (
    text(
        "INSERT INTO case_number_counters (day, last) VALUES (:day, 1) "
        "ON CONFLICT (day) DO UPDATE SET last = case_number_counters.last + 1 "
        "RETURNING last"
    )
    .bindparams(bindparam("day", type_=Date()))
    .columns(last=Integer())
)


def next_case_number(db: Session | Connection, prefix: str, day: date) -> str:
    """The next number of ``day``; ``db``: the command's session, or its connection."""
    conn = db.connection() if isinstance(db, Session) else db
    seq = fetch(conn, NEXT_OF_DAY, {"day": day})[0][0]
    return f"{prefix}{day:%Y%m%d}-{seq:04d}"
