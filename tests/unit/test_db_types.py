"""app/db.py's UTCDateTime: SQLite's quick writer stores what SQLAlchemy's
own two processors would, refuses naive times, and a stored time reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from app.db import UTCDateTime

CHINA = timezone(timedelta(hours=8))
TIMES = [
    datetime(2026, 11, 27, 3, 0, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 123, tzinfo=CHINA),  # the day before in UTC
    datetime(999, 5, 6, 7, 8, 9, 999999, tzinfo=UTC),
    datetime(2026, 6, 3, 8, 0, 0, 500000, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
]


def test_sqlite_gets_the_text_sqlalchemys_processors_would_write() -> None:
    dialect = sqlite.dialect()
    typed = UTCDateTime().dialect_impl(dialect)
    quick = typed.bind_processor(dialect)
    generic = TypeDecorator.bind_processor(typed, dialect)
    assert quick is not None and generic is not None
    for value in [*TIMES, None]:
        assert quick(value) == generic(value)
    # Each time again, twice in a row (the last one is kept), then each other one.
    for value in [t for t in TIMES for _ in range(2)] + [TIMES[0].astimezone(CHINA), *TIMES[::-1]]:
        assert quick(value) == generic(value)
    with pytest.raises(ValueError, match="naive"):
        quick(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time refused
    quick(TIMES[0])
    with pytest.raises(ValueError, match="naive"):  # after the same wall time, aware
        quick(TIMES[0].replace(tzinfo=None))


def test_postgresql_keeps_the_generic_processor() -> None:
    dialect = postgresql.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None and process(TIMES[1]) == TIMES[1]
    assert process(TIMES[1]).tzinfo == UTC  # type: ignore[union-attr]


def test_a_time_written_to_sqlite_reads_back_the_same_instant() -> None:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": at} for at in TIMES])
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == TIMES and all(at.tzinfo == UTC for at in read)
