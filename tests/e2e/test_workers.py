"""Three real worker processes on one database: every escalation step and
every notification exactly once, even when one worker is killed mid-run."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app
from app.models import CaseEvent, Escalation, Notification
from handlers.accounts import set_wecom_id
from handlers.seed import seed_reference
from tests.e2e.procs import fast_config, wait_until, worker_env, workers
from tests.helpers import file_case, login, make_staff, user_id

pytestmark = pytest.mark.slow
CASES = 6
STEPS_PER_CASE = 7  # accept: overdue, supervision, leader; resolve: warning, overdue, supervision, leader


@pytest.fixture
def fast_app(settings: Any, tmp_path: Path) -> Any:
    config = fast_config(tmp_path)
    app = create_app(settings.but(cases_config=str(config)))
    seed_reference(app.extensions["services"].context())
    app.config["fast_config"] = config
    yield app
    app.extensions["services"].close()


def _count(services: Any, stmt: Any) -> int:
    with services.db.uow() as uow:
        return int(uow.session.scalar(stmt) or 0)


def test_three_workers_fire_each_step_once_and_a_killed_worker_loses_nothing(
    fast_app: Any, settings: Any, fake_wechat: Any
) -> None:
    services = fast_app.extensions["services"]
    client = fast_app.test_client()
    staff = [
        make_staff(client, services, "综合执法局", "handler", "w-handler"),
        make_staff(client, services, "综合执法局", "head", "w-head"),
        make_staff(client, services, "杨和镇", "handler", "w-town"),
        make_staff(client, services, "住建局", "supervisor", "w-sup"),
    ]
    for index, headers in enumerate(staff):
        set_wecom_id(services.context(), user_id(client, headers), f"staff{index}")
    resident = login(client, "w-resident")
    cases = [file_case(client, resident, description=f"第{i}号楼遛狗不拴绳") for i in range(CASES)]

    env = worker_env(
        settings.but(cases_config=str(fast_app.config["fast_config"])), fast_app.config["fast_config"]
    )
    with workers(env, 3) as procs:
        time.sleep(3.0)  # some steps have fired; more are due
        procs[0].send_signal(signal.SIGKILL)
        expected = CASES * STEPS_PER_CASE
        done = wait_until(lambda: _count(services, select(func.count(Escalation.id))) >= expected, timeout=30)
        assert done, _count(services, select(func.count(Escalation.id)))
        sent = wait_until(
            lambda: _count(
                services, select(func.count(Notification.id)).where(Notification.status == "pending")
            )
            == 0,
            timeout=30,
        )
        assert sent
        time.sleep(1.5)  # one more round of sweeps: nothing new may appear

    assert _count(services, select(func.count(Escalation.id))) == CASES * STEPS_PER_CASE
    with services.db.uow() as uow:
        events = uow.session.execute(
            select(CaseEvent.case_id, CaseEvent.step, CaseEvent.data).where(CaseEvent.kind == "escalated")
        ).all()
        rows = uow.session.scalars(select(Notification)).all()
    keys = Counter((case_id, data["deadline"], step) for case_id, step, data in events)
    assert len(keys) == CASES * STEPS_PER_CASE and set(keys.values()) == {1}
    assert {c["id"] for c in cases} == {k[0] for k in keys}
    # Each notification row delivered exactly once.
    assert all(r.status == "sent" for r in rows)
    wecom = [m for m in fake_wechat.sent if m["channel"] == "wecom"]
    assert len(wecom) == len([r for r in rows if r.channel == "wecom"])
