"""Dependencies restart under load, and the product rides it out.

gunicorn (two workers), one worker process and the fake WeChat run against a
PostgreSQL and a Redis of the test's own; four residents file cases
continuously (every fifth with a photo), retrying a 503 or a lost connection
with the same Idempotency-Key. PostgreSQL is stopped for two seconds while a
message is on its way to WeChat, then Redis is restarted (empty), then WeChat
goes away for three seconds. Afterwards: no 500, every case a resident saw
accepted is in the database complete and once, every push arrived exactly
once, the wake-up path came back within seconds of each restart, the worker
logged no error, and every process is the one that started.

The PostgreSQL pass of the suite runs it with Redis carrying the wake-ups and
again without Redis (LISTEN/NOTIFY); the SQLite pass restarts Redis and WeChat.
Run with ``-s`` to see the measured recovery times.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.migrate import upgrade
from app.models import Case, JobLock, Notification, Photo
from app.services import Services
from app.settings import Settings
from handlers.accounts import bind_staff, invite_staff, login_with_wechat, set_wecom_id
from handlers.notifications.subscriptions import record_answers
from handlers.seed import seed_reference
from tests.e2e.procs import gunicorn, wait_until, worker_env, workers
from tests.e2e.restarts import (
    Residents,
    children,
    fast_path_since,
    first_pushes,
    log_problems,
    restart_config,
)
from tests.fakewechat import FakeWeChat
from tests.ownservers import OwnPostgres, OwnRedis

pytestmark = pytest.mark.slow

VARIANTS = ["postgres-redis", "postgres-notify"] if os.environ.get("TEST_DATABASE") else ["sqlite-redis"]
NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"
SUBSCRIBE = "cgi-bin/message/subscribe/send"


@dataclass
class Stack:
    variant: str
    fake: FakeWeChat
    redis: OwnRedis | None
    pg: OwnPostgres | None
    services: Services
    env: dict[str, str]
    tmp: Path
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    moments: list[str] = field(default_factory=list)


def _settings(url: str, fake: FakeWeChat, redis: OwnRedis | None, tmp: Path) -> Settings:
    return Settings.from_env(
        {
            "APP_ENV": "development",
            "DATABASE_URL": url,
            "SECRET_KEY": "restart-test-secret",
            "WECHAT_API_BASE": fake.base_url,
            "WECOM_API_BASE": fake.base_url,
            "WECOM_CORP_ID": "ww-restart",
            "WECOM_SECRET": "wecom-secret",
            "WECOM_AGENT_ID": "1000002",
            "CASES_CONFIG": str(restart_config(tmp)),
            "PHOTO_DIR": str(tmp / "photos"),
            "REDIS_URL": redis.url if redis else "",
        }
    )


@pytest.fixture(params=VARIANTS)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    variant = str(request.param)
    fake = FakeWeChat()
    fake.start()
    redis = OwnRedis() if variant.endswith("redis") else None
    pg = OwnPostgres() if variant.startswith("postgres") else None
    services: Services | None = None
    try:
        if redis:
            redis.start()
        if pg:
            pg.init()
            pg.start()
        url = pg.create_database("cases") if pg else f"sqlite:///{tmp_path / 'cases.db'}"
        upgrade(url)
        settings = _settings(url, fake, redis, tmp_path)
        env = worker_env(
            settings,
            Path(settings.cases_config),
            REDIS_URL=settings.redis_url,
            # The timer's default: a push within a second of each filing over
            # two seconds came by the wake-ups (see restarts.fast_path_since).
            OUTBOX_INTERVAL_SECONDS="5",
            OUTBOX_LEASE_SECONDS="60",
            ESCALATION_INTERVAL_SECONDS="2",
        )
        services = Services(settings)
        seed_reference(services.context())
        yield Stack(variant, fake, redis, pg, services, env, tmp_path)
    finally:
        if services is not None:
            services.close()
        if redis:
            redis.stop()
        if pg:
            pg.remove()
        fake.stop()


def _staff(services: Services) -> None:
    """One handler reached by subscribe message (long-term), one by WeCom."""
    ctx = services.context()
    by_message = login_with_wechat(ctx, "user-restart-staff:1")
    bind_staff(ctx, by_message.id, invite_staff(ctx, "综合执法局", "handler")[0])
    record_answers(ctx, by_message.id, {NEW_CASE: "accept"})
    by_wecom = login_with_wechat(ctx, "user-restart-wecom:1")
    bind_staff(ctx, by_wecom.id, invite_staff(ctx, "住建局", "handler")[0])
    set_wecom_id(ctx, by_wecom.id, "restart-wecom")


def _residents(base: str, count: int, pause: float) -> Residents:
    http = requests.Session()
    tokens = [
        http.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": f"user-restart-r{i}:1"}, timeout=10
        ).json()["token"]
        for i in range(count)
    ]
    community = http.get(f"{base}/api/v1/communities?q=幸福里", timeout=10).json()["items"][0]["id"]
    return Residents(base, tokens, int(community), pause)


# -- the restarts: each answers (when it went away, when it was back) -------------


def _restart_postgres(stack: Stack) -> tuple[float, float]:
    """Stop PostgreSQL while a message is on its way to WeChat: the send is
    accepted, and its record meets a database that is gone."""
    assert stack.pg is not None
    stack.fake.set_mode(latency_ms=400, latency_path=SUBSCRIBE)
    assert wait_until(lambda: stack.fake.state.in_flight >= 1, timeout=15, interval=0.005)
    stack.pg.stop("fast")
    down = time.time()
    stack.fake.set_mode(latency_ms=0, latency_path=None)
    time.sleep(2.0)
    stack.pg.start()
    return down, time.time()


def _restart_redis(stack: Stack) -> tuple[float, float]:
    assert stack.redis is not None
    stack.redis.stop()
    down = time.time()
    time.sleep(1.0)
    stack.redis.start()
    return down, time.time()


def _wechat_away(stack: Stack) -> tuple[float, float]:
    stack.fake.go_down()
    down = time.time()
    time.sleep(3.0)
    stack.fake.come_back()
    return down, time.time()


def _phases(variant: str) -> list[tuple[str, Callable[[Stack], tuple[float, float]]]]:
    phases: list[tuple[str, Callable[[Stack], tuple[float, float]]]] = []
    if variant.startswith("postgres"):
        phases.append(("postgresql", _restart_postgres))
    if variant.endswith("redis"):
        phases.append(("redis", _restart_redis))
    return [*phases, ("wechat", _wechat_away)]


def _fast_path(stack: Stack, residents: Residents, since: float, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        fast = fast_path_since(residents.snapshot(), first_pushes(stack.fake.sent), since)
        if fast is not None:
            return fast
    return None


def _ride_out(
    stack: Stack, residents: Residents, name: str, restart: Callable[[Stack], tuple[float, float]]
) -> None:
    down, back = restart(stack)
    stack.moments.append(f"# {name}: away at {down:.3f}, back at {back:.3f}")
    fast = _fast_path(stack, residents, back, timeout=40)
    assert fast is not None, f"{name}: the wake-up path did not come back within 40 s"
    # Still fast once any backlog is gone: the wake-ups, not a sender draining it.
    assert _fast_path(stack, residents, fast + 3, timeout=30) is not None, f"{name}: fast only while draining"
    first_ok = residents.first_2xx_after(back)
    stack.figures[name] = {
        "away_s": round(back - down, 2),
        "first_2xx_s": round(first_ok - back, 2) if first_ok else None,
        "first_fast_push_s": round(fast - back, 2),
        "answers_503": sum(1 for at, status in residents.answered if status == "503" and down <= at),
    }


# -- what must hold afterwards ------------------------------------------------------


def _pending(services: Services) -> int:
    with services.db.uow() as uow:
        query = select(func.count(Notification.id)).where(Notification.status == "pending")
        return int(uow.session.scalar(query) or 0)


def _sweep_ran_since(services: Services, moment: float) -> bool:
    """The escalation sweep took its lease (5 s, renewed every run) after ``moment``."""
    with services.db.uow() as uow:
        lease = uow.session.get(JobLock, "escalation")
    return lease is not None and lease.expires_at.timestamp() - 5 >= moment


def _check_cases(stack: Stack, residents: Residents) -> None:
    """Every accepted case is there once, complete; nothing else is."""
    with stack.services.db.uow() as uow:
        s = uow.session
        found = list(
            s.scalars(select(Case).options(selectinload(Case.assignments), selectinload(Case.events)))
        )
        rows = Counter((n.case_id, n.status) for n in s.scalars(select(Notification)))
        photos = {p.id: p.case_id for p in s.scalars(select(Photo).where(Photo.case_id.is_not(None)))}
    accepted = residents.snapshot()
    # No duplicate from retries, none lost, none filed that nobody saw accepted.
    assert sorted(c.idempotency_key or "" for c in found) == sorted(f.key for f in accepted)
    cases = {c.idempotency_key: c for c in found}
    for filing in accepted:
        case = cases[filing.key]
        assert (case.id, case.number) == (filing.case_id, filing.number)
        assert len(case.assignments) == 3, filing.key  # 主办, 协办, 属地
        assert {"submitted", "dispatched"} <= {e.kind for e in case.events}, filing.key
        assert rows[(case.id, "sent")] == 2, filing.key  # both departments' staff, sent
        if filing.photo_id:
            assert photos.get(filing.photo_id) == case.id, filing.key


def _check_pushes(stack: Stack, residents: Residents) -> None:
    sent = stack.fake.sent
    by_message = Counter(
        m["body"]["data"]["character_string1"]["value"] for m in sent if m["channel"] == "subscribe"
    )
    by_wecom = Counter(
        m["body"]["textcard"]["title"].split("】", 1)[1] for m in sent if m["channel"] == "wecom"
    )
    numbers = Counter(f.number for f in residents.snapshot())
    assert by_message == numbers, "every case's message once (subscribe)"
    assert by_wecom == numbers, "every case's message once (WeCom)"
    assert stack.fake.state.duplicates_dropped == 0  # not even one for WeCom's check to catch


def _write_timeline(stack: Stack, residents: Residents) -> None:
    """Each case's answer and first push, for a person reading a failure."""
    pushes = first_pushes(stack.fake.sent)
    lines = [
        f"{f.answered_at:.3f}\t{f.number}\t{pushes.get(f.number, 0) - f.answered_at:.3f}"
        for f in sorted(residents.snapshot(), key=lambda f: f.answered_at)
    ]
    (stack.tmp / "timeline.tsv").write_text("\n".join(stack.moments + lines), encoding="utf-8")


def test_restarts_under_load_lose_no_report_and_push_nothing_twice(stack: Stack) -> None:
    _staff(stack.services)
    web_log, worker_log = stack.tmp / "web.log", stack.tmp / "worker.log"
    with (
        web_log.open("wb") as web_err,
        worker_log.open("wb") as worker_err,
        gunicorn(stack.env, stderr=web_err) as (base, server),
        workers(stack.env, 1, stderr=worker_err) as (worker,),
    ):
        processes = {server.pid, worker.pid, *children(server.pid)}
        assert wait_until(lambda: "started" in worker_log.read_text(encoding="utf-8"), timeout=60)
        # SQLite writes one transaction at a time: a gentler pace keeps the
        # sender ahead of the filings on a busy machine.
        residents = _residents(base, 4, pause=0.25 if stack.pg else 0.75)
        residents.start()
        try:
            _ride_out(stack, residents, "warm-up", lambda _: (time.time(), time.time()))
            for name, restart in _phases(stack.variant):
                _ride_out(stack, residents, name, restart)
        finally:
            residents.stop()
            _write_timeline(stack, residents)
        restarts_over = time.time()
        # What failed while WeChat was away is retried (after 15 s, by the timer).
        assert wait_until(lambda: _pending(stack.services) == 0, timeout=60)
        assert wait_until(lambda: _sweep_ran_since(stack.services, restarts_over), timeout=10)
        assert {server.pid, worker.pid, *children(server.pid)} == processes
        assert server.poll() is None and worker.poll() is None
    replayed = sum(1 for f in residents.accepted if not f.created)
    print(
        json.dumps(
            {
                "variant": stack.variant,
                "filed": len(residents.accepted),
                "replayed": replayed,
                **stack.figures,
            }
        )
    )
    assert residents.answers["500"] == 0 and not any(
        s.startswith("5") and s != "503" for s in residents.answers
    )
    assert not residents.gave_up
    assert len(residents.accepted) > 50
    _check_cases(stack, residents)
    _check_pushes(stack, residents)
    assert log_problems(worker_log) == []
    assert log_problems(web_log) == []
    if stack.pg is not None:
        worker_lines = worker_log.read_text(encoding="utf-8")
        assert "holding its record" in worker_lines and "recorded as sent" in worker_lines
