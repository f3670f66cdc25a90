"""A send WeChat accepted while the database went away: the sender holds the
outcome and records it once the database answers (extending its claim
meanwhile), so the message is never sent a second time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.db import UnitOfWork
from app.models import Notification, Subscription
from handlers.notifications.sender import send_due
from handlers.notifications.subscriptions import record_answers
from handlers.ports import JSONDict
from tests.fakes import FakeMiniProgram
from tests.unit.handlers.conftest import World

NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"


@dataclass
class FlakyDatabase:
    """Stands in for ``ctx.uow``: opening a unit of work follows ``script``
    (False: the server refuses, as a stopped one does) and then answers; each
    refusal lets ``seconds_per_refusal`` pass on the clock."""

    uow: Callable[[], UnitOfWork]
    world: World
    seconds_per_refusal: float = 1.0
    script: list[bool] = field(default_factory=list)
    refused: int = 0

    def __call__(self) -> UnitOfWork:
        if self.script and not self.script.pop(0):
            self.refused += 1
            self.world.clock.advance(seconds=self.seconds_per_refusal)
            raise OperationalError("BEGIN", {}, ConnectionRefusedError("connection refused"))
        return self.uow()


@dataclass
class DropsTheDatabaseOnSend(FakeMiniProgram):
    """WeChat takes the message; at that moment the database goes away."""

    then: Callable[[], None] = lambda: None

    def send_subscribe(self, openid: str, template_id: str, data: JSONDict, page: str | None = None) -> str:
        msgid = super().send_subscribe(openid, template_id, data, page)
        self.then()
        return msgid


def _one_pending_message(world: World) -> tuple[FlakyDatabase, DropsTheDatabaseOnSend]:
    from handlers.cases.submit import NewCase, submit_case

    staff = world.user("outage-staff", "综合执法局")
    record_answers(world.ctx, staff.id, {NEW_CASE: "accept"})
    record_answers(world.ctx, staff.id, {NEW_CASE: "accept"})
    resident = world.user("outage-resident")
    community = 1
    submit_case(
        world.ctx,
        resident.id,
        NewCase(category="dog_unleashed", community_id=community, description="数据库重启时的工单"),
    )
    flaky = FlakyDatabase(world.ctx.uow, world)
    wechat = DropsTheDatabaseOnSend()
    world.ctx.uow, world.ctx.wechat = flaky, wechat
    return flaky, wechat


def _rows(world: World) -> list[Any]:
    with world.db.uow() as uow:
        return [(n.status, n.channel, n.claimed_by) for n in uow.session.scalars(select(Notification))]


def _quota(world: World) -> int:
    with world.db.uow() as uow:
        return int(
            uow.session.scalar(select(Subscription.quota).where(Subscription.template_id == NEW_CASE)) or 0
        )


def test_a_delivered_send_is_recorded_once_the_database_answers(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, wechat = _one_pending_message(world)
    # The record and the lease extension are refused twice each, then it answers.
    wechat.then = lambda: flaky.script.extend([False, False, False, False])
    with caplog.at_level(logging.INFO, logger="handlers"):
        send_due(world.ctx, "w1")
    assert flaky.refused == 4
    assert [r[:2] for r in _rows(world) if r[0] == "sent"] == [("sent", "subscribe")]
    assert len(wechat.sent) == 1
    assert _quota(world) == 1  # two accepts, one message: one spent, once
    send_due(world.ctx, "w2")
    world.clock.advance(seconds=3600)
    send_due(world.ctx, "w3")
    assert len(wechat.sent) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("holding its record" in m for m in messages)
    assert any("recorded as sent" in m for m in messages)


def test_the_claim_is_extended_while_the_record_waits(world: World) -> None:
    flaky, wechat = _one_pending_message(world)
    world.ctx.outbox_lease_seconds = 5
    flaky.seconds_per_refusal = 3
    # Record refused, extension lands; three times over: 9 s, past the first 5 s lease.
    wechat.then = lambda: flaky.script.extend([False, True, False, True, False, True])
    send_due(world.ctx, "w1")
    assert flaky.refused == 3
    assert [r[:2] for r in _rows(world) if r[0] == "sent"] == [("sent", "subscribe")]
    world.clock.advance(seconds=3600)
    send_due(world.ctx, "w2")
    assert len(wechat.sent) == 1


def test_past_its_claim_the_sender_gives_up_and_says_so(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, wechat = _one_pending_message(world)
    world.ctx.outbox_lease_seconds = 4
    flaky.seconds_per_refusal = 1
    wechat.then = lambda: flaky.script.extend([False] * 50)
    with caplog.at_level(logging.WARNING, logger="handlers"), pytest.raises(OperationalError):
        send_due(world.ctx, "w1")
    assert any("not recorded within its lease" in r.getMessage() for r in caplog.records)
    flaky.script.clear()
    assert all(status == "pending" for status, _, _ in _rows(world))
