"""The database or Redis away: honest 503s with Retry-After, never a 500;
health naming what is down; a restart that is over costs nothing; Redis away
costs users nothing (the database stands in for it); the worker's jobs and
its wake-up listener ride it out, logging the outage once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.api.security import issue_token
from app.dependencies import DATABASE, REDIS, redis_client
from app.services import Services
from app.wakeup import CHANNEL, listen
from app.worker import Jobs
from handlers.notifications.sender import send_due
from handlers.seed import seed_reference
from tests.helpers import community_id, file_case, login, make_staff
from tests.ownservers import OwnRedis, free_port

NOBODY_DB = "postgresql+psycopg://nobody@127.0.0.1:1/none"
NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def test_every_request_is_an_honest_503_while_the_database_is_away(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.but(database_url=NOBODY_DB))
    client = app.test_client()
    with app.test_request_context():
        auth = {"Authorization": f"Bearer {issue_token(1)}"}
    filing = {"category": "dog_unleashed", "community_id": 1, "description": "数据库不在时提交的工单"}
    with caplog.at_level(logging.WARNING):
        answers = [
            client.post("/api/v1/auth/wechat-login", json={"code": "user-away:1"}),
            client.get("/api/v1/cases/mine", headers=auth),
            client.post("/api/v1/cases", json=filing, headers=auth | {"Idempotency-Key": "k-1"}),
            client.get("/api/v1/staff/cases", headers=auth),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.get_json()
        assert answer.headers["Retry-After"] == "2"
        error = answer.get_json()["error"]
        assert error["code"] == "unavailable" and "稍后重试" in error["message"]
    assert not _tracebacks(caplog)
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_lines) == 1  # once, however many requests met it
    app.extensions["services"].close()


def test_a_redis_error_is_a_503_and_a_bug_stays_a_500(app: Any) -> None:
    def redis_away() -> None:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def bug() -> None:
        raise OperationalError("SELECT * FROM nowhere", {}, Exception("no such table: nowhere"))

    app.add_url_rule("/test/redis-away", view_func=redis_away)
    app.add_url_rule("/test/bug", view_func=bug)
    client = app.test_client()
    away = client.get("/test/redis-away")
    assert away.status_code == 503 and away.get_json()["error"]["code"] == "unavailable"
    assert away.headers["Retry-After"] == "2"
    broken = client.get("/test/bug")
    assert broken.status_code == 500 and broken.get_json()["error"]["code"] == "internal_error"


def _drop_pooled_connections(services: Any) -> None:
    """What a database restart does to the pool: every idle connection dies."""
    engine = services.db.engine
    if engine.dialect.name == "postgresql":
        from sqlalchemy import create_engine

        other = create_engine(services.settings.database_url)
        with other.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        other.dispose()
        assert killed and killed >= 1
    else:
        idle = list(engine.pool._pool.queue)  # type: ignore[attr-defined]
        assert idle
        for record in idle:
            record.dbapi_connection.close()


def test_a_restart_that_is_over_costs_the_next_request_nothing(client: Any, services: Any) -> None:
    resident = login(client, "after-restart")
    file_case(client, resident)
    _drop_pooled_connections(services)
    mine = client.get("/api/v1/cases/mine", headers=resident)
    assert mine.status_code == 200 and mine.get_json()["total"] == 1
    assert client.get("/healthz").status_code == 200


def test_health_names_redis_down_but_stays_200_without_it(settings: Any) -> None:
    app = create_app(settings.but(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "up", "redis": "down"}
    app.extensions["services"].close()


def test_health_names_redis_up(settings: Any, own_redis: OwnRedis) -> None:
    app = create_app(settings.but(redis_url=own_redis.url))
    answer = app.test_client().get("/healthz")
    assert answer.get_json() == {"status": "ok", "database": "up", "redis": "up"}
    app.extensions["services"].close()


@pytest.fixture
def app_without_redis(settings: Any) -> Iterator[Any]:
    """REDIS_URL names a Redis nobody answers at."""
    app = create_app(settings.but(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    seed_reference(app.extensions["services"].context())
    yield app
    app.extensions["services"].close()


def test_with_redis_away_residents_and_staff_notice_nothing(
    app_without_redis: Any, fake_wechat: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_without_redis.test_client()
    services = app_without_redis.extensions["services"]
    with caplog.at_level(logging.WARNING):
        handler = make_staff(client, services, "综合执法局", "handler", "no-redis-staff")
        client.post("/api/v1/staff/subscriptions", json={NEW_CASE: "accept"}, headers=handler)
        resident = login(client, "no-redis-resident")
        filed = client.post(
            "/api/v1/cases",
            json={
                "category": "dog_unleashed",
                "community_id": community_id(client),
                "description": "没有Redis也能提交",
            },
            headers=resident,
        )
        assert filed.status_code == 201, filed.get_json()
        assert send_due(services.context(), "test") >= 1
    assert [m["body"]["data"]["character_string1"]["value"] for m in fake_wechat.sent] == [
        filed.get_json()["number"]
    ]
    # The token lives in the database meanwhile: fetched once for everything.
    assert fake_wechat.token_fetches == 1
    assert not _tracebacks(caplog)
    assert len([r for r in caplog.records if "redis unavailable" in r.getMessage()]) == 1
    assert services.outages[REDIS].down


def test_a_redis_restarted_empty_costs_no_token_fetch(
    settings: Any, fake_wechat: Any, own_redis: OwnRedis
) -> None:
    configured = settings.but(redis_url=own_redis.url)
    first = Services(configured)
    first.wechat.check_text("小区门口有车辆乱停", "o" + "x" * 27)
    assert fake_wechat.token_fetches == 1
    own_redis.stop()
    own_redis.start()
    assert redis.Redis.from_url(own_redis.url).dbsize() == 0
    second = Services(configured)  # another process: nothing cached in memory
    second.wechat.check_text("小区门口有车辆乱停", "o" + "x" * 27)
    assert fake_wechat.token_fetches == 1
    assert redis.Redis.from_url(own_redis.url).dbsize() == 1  # copied back from the database
    first.close()
    second.close()


def test_a_job_meeting_the_database_away_logs_once_backs_off_and_comes_back(
    services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = Jobs(services)
    tries: list[float] = []

    def job() -> None:
        tries.append(time.monotonic())
        if len(tries) <= 3:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        with services.db.uow() as uow:  # the database answers again
            uow.session.execute(text("SELECT 1"))

    with caplog.at_level(logging.INFO, logger="app"):
        deadline = time.monotonic() + 10
        while len(tries) < 4 and time.monotonic() < deadline:
            jobs._safely(job)  # a timer ticking every 10 ms
            time.sleep(0.01)
    assert len(tries) == 4  # backed off: three failures, then the success, not a thousand tries
    assert tries[1] - tries[0] >= 0.2 and tries[3] - tries[2] >= 0.8  # 0.25 s, 0.5 s, 1 s (±20 %)
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "database unavailable" in m]) == 1
    assert len([m for m in messages if "database available again" in m]) == 1
    assert not _tracebacks(caplog)
    assert not services.outages[DATABASE].down


def test_the_redis_listener_reconnects_after_a_restart(
    own_redis: OwnRedis, services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_client(own_redis.url)
    sends: list[float] = []
    stop = threading.Event()
    outage = services.outages[REDIS]
    with caplog.at_level(logging.INFO, logger="app"):
        thread = threading.Thread(
            target=listen, args=(client, services.db.engine, outage, 0.5, lambda: sends.append(1), stop)
        )
        thread.start()
        try:
            assert _woken(client, sends)
            own_redis.stop()
            time.sleep(1.5)
            own_redis.start()
            back = time.monotonic()
            assert _woken(client, sends)
            reconnected_in = time.monotonic() - back
        finally:
            stop.set()
            thread.join(10)
    assert reconnected_in < 8
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "redis unavailable" in m]) == 1
    assert len([m for m in messages if "redis available again" in m]) == 1
    assert not _tracebacks(caplog)


def _woken(client: Any, sends: list[float]) -> bool:
    """Publish until the listener runs the sender (the connection may still be coming back)."""
    before = len(sends)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.publish(CHANNEL, b"1")
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
        if len(sends) > before:
            return True
    return False
