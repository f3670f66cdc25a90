"""app/db.py's ``fetch``: a statement run on the DB-API cursor (SQLite) or
through ``exec_driver_sql`` (PostgreSQL, or when cursor events are
listened to) answers what ``Connection.execute`` answers, converted the
same way, begins as ``execute`` begins, and raises SQLAlchemy's errors."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, create_engine, event, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db import PIPELINE, database_away, executemany, fetch, pipelined
from app.models import Case, CaseNumberCounter, Department
from handlers.cases.numbering import NEXT_OF_DAY
from handlers.cases.submit import EARLIER, PLACE
from tests.helpers import community_id, file_case, login

CASES = cast(Table, Case.__table__)
DEPARTMENTS = cast(Table, Department.__table__)
COUNTERS = cast(Table, CaseNumberCounter.__table__)
# Every kind of column a case has: integers, text, datetimes, booleans, dates in text.
A_CASE = select(
    CASES.c.id,
    CASES.c.number,
    CASES.c.created_at,
    CASES.c.accept_due_at,
    CASES.c.accepted_at,
    CASES.c.needs_review,
    CASES.c.description,
).where(CASES.c.id == bindparam("id"))


def _as_execute(conn: Any, stmt: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [row._asdict() for row in conn.execute(stmt, params).all()]


def test_fetch_answers_what_execute_answers(client: Any, services: Any) -> None:
    resident = login(client, "fetch-res")
    case = file_case(client, resident, extra_headers={"Idempotency-Key": "fetch-1"})
    community, now = community_id(client), services.clock.now()
    with services.db.reading() as conn:
        reporter_id = conn.execute(select(CASES.c.reporter_id).where(CASES.c.id == case["id"])).scalar_one()
        for stmt, params in (
            (A_CASE, {"id": case["id"]}),
            (EARLIER, {"reporter": reporter_id, "key": "fetch-1"}),
            (EARLIER, {"reporter": reporter_id, "key": "no-such-key"}),
            (PLACE, {"community": community, "reporter": reporter_id, "since": now.replace(hour=0)}),
        ):
            rows = fetch(conn, stmt, params)
            assert [row._asdict() for row in rows] == _as_execute(conn, stmt, params)
        row = fetch(conn, A_CASE, {"id": case["id"]})[0]
    assert row.number == case["number"] and row.created_at.tzinfo is not None
    assert row.needs_review is False  # converted, not the driver's 0


def test_an_insert_returning_takes_the_columns_defaults(services: Any) -> None:
    with services.db.engine.connect() as conn:
        returning = insert(DEPARTMENTS).returning(DEPARTMENTS.c.id, DEPARTMENTS.c.kind, DEPARTMENTS.c.hotline)
        row = fetch(conn, returning, {"name": "取数测试局"})[0]
        assert (row.kind, row.hotline) == ("department", "")
        assert (
            conn.execute(select(DEPARTMENTS.c.name).where(DEPARTMENTS.c.id == row.id)).scalar_one()
            == "取数测试局"
        )
        # A text statement with typed parameters and columns: the day's counter.
        day = date(2031, 5, 6)
        assert [fetch(conn, NEXT_OF_DAY, {"day": day})[0].last for _ in range(3)] == [1, 2, 3]
        conn.rollback()


def test_a_driver_error_is_sqlalchemys_and_the_connection_goes_on(services: Any) -> None:
    with services.db.engine.connect() as conn:
        stmt = insert(COUNTERS).returning(COUNTERS.c.day)
        fetch(conn, stmt, {"day": date(2031, 6, 7), "last": 1})
        with pytest.raises(IntegrityError):
            fetch(conn, stmt, {"day": date(2031, 6, 7), "last": 2})
        conn.rollback()
        assert fetch(conn, stmt, {"day": date(2031, 6, 7), "last": 3})[0].day == date(2031, 6, 7)
        conn.rollback()


def test_fetch_begins_as_execute_begins(services: Any) -> None:
    with services.db.reading() as conn:
        engine = conn.engine
    begun: list[object] = []
    listener = event.listens_for(engine, "begin")(lambda conn: begun.append(conn))
    try:
        with services.db.reading() as conn:
            assert not conn.in_transaction()
            fetch(conn, A_CASE, {"id": -1})
            assert conn.in_transaction() and begun == [conn]
    finally:
        event.remove(engine, "begin", listener)


def test_listened_statements_go_through_sqlalchemy(services: Any) -> None:
    engine = services.db.engine
    seen: list[str] = []

    def statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        with engine.connect() as conn:
            rows = fetch(conn, select(DEPARTMENTS.c.id, DEPARTMENTS.c.name).order_by(DEPARTMENTS.c.id), {})
            assert rows and [sql for sql in seen if "FROM departments" in sql]
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    with services.db.reading() as conn:
        assert [r._asdict() for r in rows] == _as_execute(
            conn, select(DEPARTMENTS.c.id, DEPARTMENTS.c.name).order_by(DEPARTMENTS.c.id), {}
        )


def test_an_in_list_is_not_planned(services: Any) -> None:
    with services.db.reading() as conn, pytest.raises(ValueError, match="IN"):
        fetch(
            conn,
            select(DEPARTMENTS.c.id).where(DEPARTMENTS.c.name.in_(bindparam("names", expanding=True))),
            {"names": ["综合执法局"]},
        )


def test_a_pipelined_block_writes_in_order_and_fails_as_sqlalchemy_fails(services: Any) -> None:
    """On PostgreSQL the block's statements go out without waiting for each
    other (psycopg's pipeline); on SQLite the block changes nothing."""
    many = insert(DEPARTMENTS)
    one = insert(DEPARTMENTS).returning(DEPARTMENTS.c.id)
    names = ["管道一局", "管道二局", "管道三局"]
    mine = select(DEPARTMENTS.c.name).where(DEPARTMENTS.c.name.in_(names)).order_by(DEPARTMENTS.c.id)
    with services.db.engine.connect() as conn:
        with pipelined(conn):
            assert (PIPELINE in conn.info) == (conn.dialect.name == "postgresql")
            executemany(conn, many, [{"name": names[0]}])
            # A read inside waits for what went before it.
            assert fetch(
                conn, select(DEPARTMENTS.c.kind).where(DEPARTMENTS.c.name == bindparam("n")), {"n": names[0]}
            )
            assert fetch(conn, one, {"name": names[1]})[0].id > 0
            executemany(conn, many, [{"name": names[2]}])
        assert conn.execute(mine).scalars().all() == names
        conn.rollback()
        with pytest.raises(IntegrityError), pipelined(conn):
            executemany(conn, many, [{"name": names[0]}])
            executemany(conn, many, [{"name": names[0]}])  # the same name again
        conn.rollback()
        assert conn.execute(mine).scalars().all() == []  # nothing of the failed block was kept


def test_executemany_writes_dates(services: Any) -> None:
    """A date column (the day's counters) on both databases: PostgreSQL's
    rows go as one JSON document, where a date is its ISO text."""
    days = [date(2033, 2, 1), date(2033, 2, 2)]
    with services.db.engine.connect() as conn:
        executemany(conn, insert(COUNTERS), [{"day": days[0], "last": 4}, {"day": days[1], "last": 9}])
        written = conn.execute(
            select(COUNTERS.c.day, COUNTERS.c.last).where(COUNTERS.c.day.in_(days)).order_by(COUNTERS.c.day)
        )
        assert [tuple(r) for r in written] == [(days[0], 4), (days[1], 9)]
        conn.rollback()


def test_a_connection_lost_inside_a_pipelined_block_is_raised_as_lost(
    services: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The database gone mid-block (a restart, an admin's kill) is the error
    that says so, which the web edge answers with a 503, and not the pending
    rollback that the block's own cleanup would meet on the lost connection
    (a 500). The connection is usable again after the rollback, and the
    pool logs no error about it (a traceback per lost connection)."""
    with caplog.at_level(logging.WARNING), services.db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() if postgres else None
        with pytest.raises(DBAPIError) as raised, pipelined(conn):
            if postgres:
                admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as killer:
                    killer.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                admin.dispose()
            else:
                conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
            executemany(conn, insert(DEPARTMENTS), [{"name": "断线局"}])
            fetch(conn, select(DEPARTMENTS.c.id).where(DEPARTMENTS.c.name == bindparam("n")), {"n": "断线局"})
        assert database_away(raised.value)
        conn.rollback()
        assert PIPELINE not in conn.info
        assert conn.execute(select(DEPARTMENTS.c.id).where(DEPARTMENTS.c.name == "断线局")).all() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
