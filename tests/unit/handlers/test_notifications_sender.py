"""handlers/notifications/sender.py: the subscribe message when the user
holds quota, else WeCom; quota spent only on a send; retries with backoff;
FAILED for what can never succeed; NO_CHANNEL; leases."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from app.models import Notification, Subscription, User
from handlers.accounts import set_wecom_id
from handlers.context import Context
from handlers.notifications import sender
from handlers.notifications.failures import failed_notifications
from handlers.notifications.subscriptions import quotas, record_answers
from handlers.ports import SendFailed
from tests.unit.handlers.conftest import World, county_with

NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"
PAYLOAD = {"number": "YN20260602-0001", "category": "遛狗不拴绳", "community": "幸福里小区"}


def _row(world: World, user_id: int, purpose: str = "new_case", **payload: Any) -> int:
    with world.db.uow() as uow:
        row = Notification(
            user_id=user_id,
            purpose=purpose,
            payload=PAYLOAD | {"deadline": "2026-06-03T02:00:00+00:00", "page": "pages/x?id=1"} | payload,
            next_attempt_at=world.clock.now(),
            created_at=world.clock.now(),
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def _get(world: World, row_id: int) -> Notification:
    row = world.one(Notification, Notification.id == row_id)
    assert row is not None
    return row


def _staff(world: World, wecom: str = "") -> User:
    user = world.user("handler", "住建局")
    if wecom:
        set_wecom_id(world.ctx, user.id, wecom)
    return user


def _subscribe(world: World, user_id: int, times: int = 1, template: str = NEW_CASE) -> None:
    for _ in range(times):
        record_answers(world.ctx, user_id, {template: "accept"})


# -- choosing the channel ---------------------------------------------------------------


def test_a_user_holding_quota_gets_the_subscribe_message_and_spends_one(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    _subscribe(world, user.id, times=2)
    row_id = _row(world, user.id)
    assert sender.send_due(world.ctx, "w1") == 1
    [message] = world.wechat.sent
    assert (message["touser"], message["template_id"], message["page"]) == (
        "o-handler",
        NEW_CASE,
        "pages/x?id=1",
    )
    assert message["data"] == {
        "character_string1": {"value": "YN20260602-0001"},
        "thing2": {"value": "遛狗不拴绳"},
        "thing3": {"value": "幸福里小区"},
        "time4": {"value": "2026年6月3日 10:00"},
    }
    row = _get(world, row_id)
    assert (row.status, row.channel, row.remote_id, row.attempts) == ("sent", "subscribe", "msg-1", 1)
    assert row.sent_at == world.clock.now() and row.claimed_by == "" and row.claimed_until is None
    assert quotas(world.ctx, user.id) == {NEW_CASE: 1}
    assert world.wecom.cards == []


def test_without_quota_staff_get_a_wecom_card_and_no_quota_is_touched(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    row_id = _row(world, user.id, purpose="escalation", step="督办", note="已超期 1 天")
    sender.send_due(world.ctx, "w1")
    [card] = world.wecom.cards
    assert card["to"] == ["wecom-staff"] and card["title"] == "【督办】YN20260602-0001"
    assert card["description"] == f"遛狗不拴绳｜幸福里小区\n已超期 1 天\n消息编号 {row_id}"
    row = _get(world, row_id)
    assert (row.status, row.channel) == ("sent", "wecom")
    assert world.wechat.sent == [] and quotas(world.ctx, user.id) == {}


def test_quota_runs_out_one_message_per_accept_then_wecom_takes_over(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    _subscribe(world, user.id)
    first, second = _row(world, user.id), _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    assert (_get(world, first).channel, _get(world, second).channel) == ("subscribe", "wecom")
    assert quotas(world.ctx, user.id) == {NEW_CASE: 0}


def test_nobody_reachable_is_no_channel_and_is_not_tried_again(world: World) -> None:
    user = _staff(world)
    row_id = _row(world, user.id)
    assert sender.send_due(world.ctx, "w1") == 1
    row = _get(world, row_id)
    assert (row.status, row.last_error) == ("no_channel", "用户未订阅该消息且没有企业微信账号")
    world.clock.advance(hours=2)
    assert sender.send_due(world.ctx, "w1") == 0


def test_a_user_who_later_refused_the_template_gets_no_subscribe_message(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    _subscribe(world, user.id)
    record_answers(world.ctx, user.id, {NEW_CASE: "reject"})
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    assert _get(world, row_id).channel == "wecom" and world.wechat.sent == []


def test_a_long_term_template_needs_no_quota_and_spends_none(world: World) -> None:
    templates = county_with().subscribe_templates
    raw = {
        p: {"id": t.id, "long_term": p == "new_case", "fields": dict(t.fields)} for p, t in templates.items()
    }
    world.ctx.county = county_with(subscribe_templates=raw)
    user = _staff(world)
    _subscribe(world, user.id)
    assert quotas(world.ctx, user.id) == {NEW_CASE: 0}
    rows = [_row(world, user.id) for _ in range(3)]
    sender.send_due(world.ctx, "w1")
    assert [_get(world, r).channel for r in rows] == ["subscribe"] * 3
    assert len(world.wechat.sent) == 3 and quotas(world.ctx, user.id) == {NEW_CASE: 0}


def test_wechat_saying_the_quota_is_gone_zeroes_it_and_falls_back_to_wecom(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    _subscribe(world, user.id, times=3)
    world.wechat.send_failures.append(SendFailed.of(43101, "user refuse to accept the msg"))
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    assert _get(world, row_id).channel == "wecom"
    assert quotas(world.ctx, user.id) == {NEW_CASE: 0}


def test_wechat_saying_the_quota_is_gone_with_no_wecom_is_no_channel(world: World) -> None:
    user = _staff(world)
    _subscribe(world, user.id)
    world.wechat.send_failures.append(SendFailed.of(43101, "user refuse to accept the msg"))
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    assert _get(world, row_id).status == "no_channel"


# -- retries and failures ---------------------------------------------------------------


def test_a_passing_outage_is_retried_within_thirty_seconds_and_quota_waits_for_the_send(world: World) -> None:
    user = _staff(world)
    _subscribe(world, user.id)
    world.wechat.send_failures.append(SendFailed.of(-1, "system busy"))
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    row = _get(world, row_id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "-1: system busy")
    assert timedelta(seconds=12) <= row.next_attempt_at - world.clock.now() <= timedelta(seconds=18)
    assert quotas(world.ctx, user.id) == {NEW_CASE: 1}
    assert sender.send_due(world.ctx, "w1") == 0  # not due yet
    world.clock.advance(seconds=30)
    assert sender.send_due(world.ctx, "w1") == 1
    row = _get(world, row_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert quotas(world.ctx, user.id) == {NEW_CASE: 0}


@pytest.mark.parametrize("errcode", [40003, 47003, 40037, 41030])
def test_a_send_that_can_never_succeed_fails_at_once_and_is_listed(world: World, errcode: int) -> None:
    user = _staff(world)
    _subscribe(world, user.id)
    world.wechat.send_failures.append(SendFailed.of(errcode, "invalid"))
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    row = _get(world, row_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, f"{errcode}: invalid")
    assert quotas(world.ctx, user.id) == {NEW_CASE: 1}
    failures, total = failed_notifications(world.ctx, 1, 20)
    assert total == 1 and failures[0].notification.id == row_id


def test_after_the_last_allowed_attempt_a_row_fails_for_good(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    world.wecom.failures.extend(
        SendFailed.of(45009, "api freq out of limit") for _ in range(sender.MAX_ATTEMPTS)
    )
    row_id = _row(world, user.id)
    for attempt in range(1, sender.MAX_ATTEMPTS + 1):
        assert sender.send_due(world.ctx, "w1") == 1
        row = _get(world, row_id)
        assert row.attempts == attempt
        assert row.status == ("failed" if attempt == sender.MAX_ATTEMPTS else "pending")
        world.clock.advance(hours=1, seconds=1)
    assert sender.send_due(world.ctx, "w1") == 0
    assert world.wecom.cards == []


def test_a_wecom_id_wecom_does_not_know_fails_for_good(world: World) -> None:
    user = _staff(world, wecom="left-the-county")
    row_id = _row(world, user.id)
    sender.send_due(world.ctx, "w1")
    row = _get(world, row_id)
    assert row.status == "failed" and row.last_error.startswith("81013:")


def test_backoff_doubles_from_fifteen_seconds_and_stops_at_an_hour() -> None:
    class Extreme(random.Random):
        def __init__(self, pick: float) -> None:
            super().__init__(0)
            self.pick = pick

        def uniform(self, a: float, b: float) -> float:
            return a if self.pick < 0 else b

    low, high = Extreme(-1), Extreme(1)
    assert [sender.backoff(n, low) for n in (1, 2, 3)] == [12.0, 24.0, 48.0]
    assert [sender.backoff(n, high) for n in (1, 2, 3)] == [18.0, 36.0, 72.0]
    assert sender.backoff(0, high) == 18.0
    assert sender.backoff(9, high) == sender.backoff(40, high) == 3600.0
    assert sender.backoff(9, low) == 2880.0
    seeded = [sender.backoff(4, random.Random(seed)) for seed in range(50)]
    assert all(96 <= s <= 144 for s in seeded) and len(set(seeded)) > 1


# -- claims and leases ------------------------------------------------------------------


def _claimed_by(world: World, row_id: int, holder: str, seconds: int) -> None:
    with world.db.uow() as uow:
        row = uow.session.get(Notification, row_id)
        assert row is not None
        row.claimed_by, row.claimed_until = holder, world.clock.now() + timedelta(seconds=seconds)
        uow.commit()


def test_a_row_another_worker_holds_is_left_to_it_until_its_lease_ends(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    row_id = _row(world, user.id)
    _claimed_by(world, row_id, "other-worker/1", seconds=60)
    assert sender.send_due(world.ctx, "w1") == 0
    world.clock.advance(seconds=61)
    assert sender.send_due(world.ctx, "w1") == 1
    assert len(world.wecom.cards) == 1 and _get(world, row_id).status == "sent"


def test_a_row_re_claimed_by_another_worker_is_not_sent_by_the_first(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    row_id = _row(world, user.id)
    # Worker A's lease ran out while it sent earlier rows; B took the row.
    _claimed_by(world, row_id, "B", seconds=60)
    sender.send_one(world.ctx, row_id, "A")
    assert world.wecom.cards == [] and _get(world, row_id).claimed_by == "B"
    sender.send_one(world.ctx, row_id, "B")
    assert len(world.wecom.cards) == 1 and _get(world, row_id).status == "sent"
    sender.send_one(world.ctx, row_id, "B")
    assert len(world.wecom.cards) == 1


def test_a_worker_whose_lease_ran_out_still_sends_a_row_nobody_took(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    row_id = _row(world, user.id)
    _claimed_by(world, row_id, "A", seconds=1)
    world.clock.advance(seconds=30)  # A's batch lease has run out while it sent earlier rows
    sender.send_one(world.ctx, row_id, "A")
    row = _get(world, row_id)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, "")
    assert len(world.wecom.cards) == 1


def test_rows_not_yet_due_wait_and_sent_rows_are_not_sent_again(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    now_row = _row(world, user.id)
    later_row = _row(world, user.id)
    with world.db.uow() as uow:
        later = uow.session.get(Notification, later_row)
        assert later is not None
        later.next_attempt_at = world.clock.now() + timedelta(minutes=5)
        uow.commit()
    assert sender.send_due(world.ctx, "w1") == 1
    assert sender.send_due(world.ctx, "w1") == 0
    world.clock.advance(minutes=5)
    assert sender.send_due(world.ctx, "w1") == 1
    assert {_get(world, r).status for r in (now_row, later_row)} == {"sent"}
    assert len(world.wecom.cards) == 2


def test_a_row_no_template_can_carry_fails_at_once_and_the_others_go(world: World) -> None:
    user = _staff(world, wecom="wecom-staff")
    bad = _row(world, user.id, purpose="no_such_purpose")
    good = _row(world, user.id)
    assert sender.send_due(world.ctx, "w1") == 2
    assert _get(world, good).status == "sent"
    assert _get(world, bad).status == "failed" and "no_such_purpose" in _get(world, bad).last_error


def test_one_row_that_breaks_does_not_stop_the_others(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _staff(world, wecom="wecom-staff")
    bad = _row(world, user.id)
    good = _row(world, user.id)
    real = sender._deliver

    def breaks_once(ctx: Context, d: sender.Delivery) -> sender.Outcome:
        if d.row_id == bad:
            raise RuntimeError("boom")
        return real(ctx, d)

    monkeypatch.setattr(sender, "_deliver", breaks_once)
    assert sender.send_due(world.ctx, "w1") == 2
    assert _get(world, good).status == "sent"
    assert _get(world, bad).status == "pending"  # its lease runs out and it is tried again
    assert f"notification {bad} could not be sent" in caplog.text


def test_many_rows_are_sent_batch_after_batch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender, "BATCH", 2)
    user = _staff(world, wecom="wecom-staff")
    rows = [_row(world, user.id) for _ in range(5)]
    assert sender.send_due(world.ctx, "w1") == 5
    assert {_get(world, r).status for r in rows} == {"sent"}
    assert world.count(Subscription) == 0
