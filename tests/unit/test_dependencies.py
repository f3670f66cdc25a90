"""Which errors mean a dependency is away, the reconnect backoff, and an
outage logged once when it starts and once when it ends."""

from __future__ import annotations

import logging
import random
import sqlite3

import psycopg
import pytest
import redis
from sqlalchemy import exc as sa_exc

from app.dependencies import DATABASE, MAX_RETRY_SECONDS, REDIS, Outage, dependency_away
from handlers.retry import backoff_seconds


def _wrapped(orig: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.OperationalError) -> Exception:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "exc",
    [
        _wrapped(psycopg.OperationalError("connection failed: Connection refused")),
        _wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
        _wrapped(psycopg.InterfaceError("the connection is closed"), sa_exc.InterfaceError),
        _wrapped(sqlite3.OperationalError("database is locked")),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        sa_exc.DisconnectionError("connection invalidated"),
        psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
    ],
    ids=["refused", "admin-shutdown", "closed", "sqlite-locked", "pool-timeout", "disconnect", "raw-psycopg"],
)
def test_an_unreachable_database_is_named(exc: Exception) -> None:
    assert dependency_away(exc) == DATABASE


@pytest.mark.parametrize(
    "exc",
    [
        redis.ConnectionError("Connection refused"),
        redis.TimeoutError("Timeout reading"),
        redis.BusyLoadingError(),
    ],
    ids=["refused", "timeout", "loading"],
)
def test_an_unreachable_redis_is_named(exc: Exception) -> None:
    assert dependency_away(exc) == REDIS


@pytest.mark.parametrize(
    "exc",
    [
        _wrapped(sqlite3.OperationalError("no such table: cases")),
        _wrapped(psycopg.errors.UndefinedTable("relation does not exist"), sa_exc.ProgrammingError),
        _wrapped(psycopg.errors.UniqueViolation("duplicate key"), sa_exc.IntegrityError),
        ValueError("a bug"),
        redis.ResponseError("WRONGTYPE"),
    ],
    ids=["sqlite-schema", "pg-schema", "integrity", "bug", "redis-usage"],
)
def test_a_mistake_of_ours_is_not_an_outage(exc: Exception) -> None:
    assert dependency_away(exc) is None


def test_an_outage_behind_another_error_is_found() -> None:
    try:
        try:
            raise redis.ConnectionError("refused")
        except redis.ConnectionError as inner:
            raise RuntimeError("token store failed") from inner
    except RuntimeError as outer:
        assert dependency_away(outer) == REDIS


def test_reconnect_waits_double_up_to_a_cap_with_jitter() -> None:
    rng = random.Random(7)
    waits = [backoff_seconds(n, 0.25, MAX_RETRY_SECONDS, rng=rng) for n in range(1, 12)]
    assert 0.2 <= waits[0] <= 0.3
    assert waits[2] > waits[0]
    assert all(w <= MAX_RETRY_SECONDS for w in waits)
    assert waits[-1] >= MAX_RETRY_SECONDS * 0.8
    assert len({round(w, 6) for w in waits[-4:]}) > 1  # jittered, not lock-step


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    outage = Outage(DATABASE, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="app.dependencies"):
        waits = [outage.failed(psycopg.OperationalError("refused")) for _ in range(20)]
        assert outage.down and not outage.should_try()
        now[0] += max(waits[-1], MAX_RETRY_SECONDS) + 0.01
        assert outage.should_try()
        now[0] += 3
        outage.recovered()
        outage.recovered()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0][0] == logging.WARNING and "database unavailable" in lines[0][1]
    assert lines[1][0] == logging.INFO and "available again" in lines[1][1]
    assert not any(r.exc_info for r in caplog.records)
    assert not outage.down and outage.should_try()
