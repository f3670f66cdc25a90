"""How the read-only connections and the outbox announcement talk to the
database: on PostgreSQL a read holds no transaction (no BEGIN, no ROLLBACK
around it) and the connection goes back to the pool transactional again, so
a write that takes it next is still all or nothing; the announcement is one
NOTIFY outside any transaction and reaches a listener. On SQLite a read is
a transaction of its own (the writer gate's BEGIN) and there is nothing to
announce with."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.pool import QueuePool

from app.db import Database
from app.dependencies import DATABASE, REDIS, Outage
from app.models import Department
from app.wakeup import Listener, make_announcer
from tests.helpers import community_id, login


@pytest.fixture
def one_connection(database_url: str) -> Any:
    """A database whose pool holds one connection, so the write below takes
    the very connection the read gave back."""
    db = Database(database_url, poolclass=QueuePool, pool_size=1, max_overflow=0)
    yield db
    db.dispose()


def _in_transaction(conn: Any) -> bool:
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        import psycopg

        return bool(dbapi.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
    return bool(dbapi.in_transaction)


def test_a_read_holds_a_transaction_only_on_sqlite_and_a_write_after_it_is_atomic(
    one_connection: Database,
) -> None:
    db = one_connection
    postgres = db.engine.dialect.name == "postgresql"
    with db.reading() as conn:
        assert conn.execute(select(Department.id).limit(1)).all() is not None
        assert _in_transaction(conn) is not postgres
    with db.engine.connect() as conn:
        conn.execute(insert(Department).values(name="读后写入局"))
        assert _in_transaction(conn)
        conn.rollback()
    with db.reading() as conn:
        assert conn.execute(select(Department.id).where(Department.name == "读后写入局")).all() == []
    with db.uow() as uow:
        uow.session.add(Department(name="读后写入局二"))
        uow.session.flush()
        assert _in_transaction(uow.session.connection())
        uow.session.rollback()
    with db.reading() as conn:
        assert conn.execute(select(Department.id).where(Department.name == "读后写入局二")).all() == []


def test_the_announcement_reaches_a_listener_on_postgresql(database_url: str) -> None:
    db = Database(database_url)
    try:
        outages = {DATABASE: Outage(DATABASE), REDIS: Outage(REDIS)}
        announce = make_announcer(None, db.engine, outages)
        if db.engine.dialect.name != "postgresql":
            assert announce is None  # the worker's timer finds the rows
            return
        assert announce is not None
        listener = Listener(None, db.engine)
        try:
            assert not listener.wait(0.05)
            announce()
            assert listener.wait(5)
            assert not outages[DATABASE].down
            with db.engine.connect() as conn:  # the announcing connection went back idle
                assert not _in_transaction(conn)
        finally:
            listener.close()
    finally:
        db.dispose()


def test_a_requests_reads_share_one_connection_on_postgresql_and_it_is_given_back(
    client: Any, services: Any
) -> None:
    """A filing reads the caller, then what the filing needs: one checkout for
    both on PostgreSQL (each checkout is a ping there), one each on SQLite;
    every connection is back in the pool when the answer is out."""
    headers = login(client, "共用读连接")
    body = {
        "category": "dog_unleashed",
        "community_id": community_id(client),
        "description": "楼下遛狗不拴绳",
    }
    assert client.get("/api/v1/cases/mine", headers=headers).status_code == 200  # seen today: noted once
    checkouts: list[bool] = []

    def checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
        checkouts.append(True)

    event.listen(services.db.engine, "checkout", checked_out)
    try:
        answer = client.post(
            "/api/v1/cases", json=body, headers=headers | {"Idempotency-Key": "shared-read-1"}
        )
    finally:
        event.remove(services.db.engine, "checkout", checked_out)
    assert answer.status_code == 201, answer.get_json()
    # PostgreSQL: the reads, the write, the NOTIFY that wakes the sender.
    # SQLite: the caller's read, the filing's read, the write (no NOTIFY).
    assert len(checkouts) == 3
    assert services.db.engine.pool.checkedout() == 0
    # A request that fails after its first read gives its connection back too.
    missing = client.post(
        "/api/v1/cases",
        json=body | {"community_id": 10**6},
        headers=headers | {"Idempotency-Key": "shared-read-2"},
    )
    assert missing.status_code == 404
    assert services.db.engine.pool.checkedout() == 0
