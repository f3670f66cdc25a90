"""The Metrics port: the handlers tell it what committed, once, and nothing
that rolled back (cases filed, notifications sent and failed, ladder steps,
sweep times); the backlog the gauges read."""

from __future__ import annotations

import pytest

from app.models import Case, Notification
from handlers.cases import submit
from handlers.cases.submit import NewCase, submit_case
from handlers.errors import TooMany
from handlers.notifications import sender
from handlers.notifications.subscriptions import record_answers
from handlers.ports import SendFailed
from handlers.supervision.backlog import backlog
from handlers.supervision.escalation import sweep
from tests.unit.handlers.conftest import World

NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"


def test_a_filing_is_counted_once_by_category_and_its_repeat_by_key_is_not(world: World) -> None:
    reporter = world.user("m-reporter").id
    world.file(reporter, key="k-1")
    world.file(reporter, key="k-1")
    world.file(reporter, category="dog_unleashed")
    assert world.count(Case) == 2
    assert world.metrics.of("cases_filed") == {"dog_unleashed": 2}


def test_a_filing_that_rolls_back_is_not_counted(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    reporter = world.user("m-rollback").id

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outbox write failed")

    monkeypatch.setattr(submit, "tell_departments", broken)
    cmd = NewCase(category="dog_unleashed", community_id=world.community().id, description="遛狗不拴绳五个字")
    with pytest.raises(RuntimeError):
        submit_case(world.ctx, reporter, cmd)
    assert world.count(Case) == 0
    assert world.metrics.of("cases_filed") == {}


def test_a_filing_over_the_daily_limit_is_not_counted(world: World) -> None:
    reporter = world.user("m-limit").id
    for _ in range(world.ctx.county.daily_case_limit):
        world.file(reporter)
    with pytest.raises(TooMany):
        world.file(reporter)
    assert world.metrics.of("cases_filed") == {"dog_unleashed": world.ctx.county.daily_case_limit}


def _staff_rows(world: World, name: str, wecom: bool, rows: int) -> int:
    from handlers.accounts import set_wecom_id

    user = world.user(name, "住建局")
    if wecom:
        set_wecom_id(world.ctx, user.id, "wecom-staff")
    with world.db.uow() as uow:
        for _ in range(rows):
            uow.session.add(
                Notification(
                    user_id=user.id,
                    purpose="new_case",
                    payload={
                        "number": "YN20260602-0001",
                        "category": "遛狗不拴绳",
                        "community": "幸福里小区",
                    },
                    next_attempt_at=world.clock.now(),
                    created_at=world.clock.now(),
                )
            )
        uow.commit()
    return user.id


def test_each_recorded_send_is_counted_by_its_channel(world: World) -> None:
    user = _staff_rows(world, "m-sent", wecom=True, rows=3)
    record_answers(world.ctx, user, {NEW_CASE: "accept"})
    assert sender.send_due(world.ctx, "w1") == 3
    assert world.metrics.of("notifications_sent") == {"subscribe": 1, "wecom": 2}
    assert world.metrics.of("notifications_failed") == {}


def test_failures_are_counted_by_reason(world: World) -> None:
    user = _staff_rows(world, "m-failed", wecom=False, rows=3)
    record_answers(world.ctx, user, {NEW_CASE: "accept"})
    record_answers(world.ctx, user, {NEW_CASE: "accept"})
    world.wechat.send_failures += [SendFailed.of(-1, "system busy"), SendFailed.of(40003, "bad openid")]
    _staff_rows(world, "m-unreachable", wecom=False, rows=1)
    with world.db.uow() as uow:
        row = uow.session.get(Notification, 1)
        assert row is not None
        row.purpose = "no_such_purpose"
        uow.commit()
    sender.send_due(world.ctx, "w1")
    assert world.metrics.of("notifications_failed") == {
        "no_template": 1,
        "retry": 1,
        "permanent": 1,
        "no_channel": 1,
    }
    world.clock.advance(minutes=1)
    sender.send_due(world.ctx, "w1")
    assert world.metrics.of("notifications_sent") == {"subscribe": 1}
    assert world.metrics.of("notifications_failed")["retry"] == 1


def test_ladder_steps_are_counted_once_and_every_finished_sweep_is_timed(world: World) -> None:
    reporter = world.user("m-ladder").id
    world.file(reporter)
    world.user("m-head", "综合执法局", "head")
    world.clock.advance(days=2)  # past the accept deadline (1 working day) and its warning
    fired = sweep(world.ctx)
    assert fired >= 1
    assert sum(world.metrics.of("escalations").values()) == fired
    assert "overdue" in world.metrics.of("escalations")
    assert sweep(world.ctx) == 0
    assert sum(world.metrics.of("escalations").values()) == fired
    assert len(world.metrics.sweeps) == 2 and all(s >= 0 for s in world.metrics.sweeps)


def test_the_backlog_counts_pending_notifications_and_overdue_cases(world: World) -> None:
    world.user("m-backlog-staff", "综合执法局")
    reporter = world.user("m-backlog").id
    world.file(reporter)
    before = backlog(world.ctx)
    assert before.cases_overdue == 0
    assert before.outbox_pending == len([n for n in world.outbox() if n.status == "pending"]) >= 1
    world.clock.advance(days=3)
    assert backlog(world.ctx).cases_overdue == 1
    sender.send_due(world.ctx, "w1")
    assert backlog(world.ctx).outbox_pending == 0
