"""The notification outbox: channels, quotas, retries, failures, over the fake WeChat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.clock import FixedClock
from app.models import Notification, Subscription
from handlers.accounts import set_wecom_id
from handlers.notifications.sender import backoff, send_due
from tests.helpers import file_case, login, make_staff, user_id

START = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
NEW_CASE = "TPL_NEW_CASE_PLACEHOLDER"
UPDATE = "TPL_CASE_UPDATE_PLACEHOLDER"


@pytest.fixture
def clock(services: Any) -> FixedClock:
    services.clock = FixedClock(START)
    return services.clock


def _rows(services: Any) -> list[Notification]:
    with services.db.uow() as uow:
        return list(uow.session.scalars(select(Notification).order_by(Notification.id)))


def _subscribe(client: Any, headers: dict[str, str], template: str, times: int = 1) -> None:
    for _ in range(times):
        answer = client.post("/api/v1/staff/subscriptions", json={template: "accept"}, headers=headers)
        assert answer.status_code == 200, answer.get_json()


def test_a_subscribed_staff_member_gets_one_message_and_spends_one_quota(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h1")
    _subscribe(client, handler, NEW_CASE, times=2)
    resident = login(client, "r1")
    case = file_case(client, resident)
    assert send_due(services.context(), "test") >= 1
    sent = [m for m in fake_wechat.sent if m["channel"] == "subscribe"]
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body["template_id"] == NEW_CASE
    assert body["data"]["character_string1"]["value"] == case["number"]
    assert body["data"]["thing2"]["value"] == "遛狗不拴绳"
    with services.db.uow() as uow:
        sub = uow.session.scalar(select(Subscription).where(Subscription.user_id == user_id(client, handler)))
        assert sub is not None and sub.quota == 1
    # Nothing is sent twice.
    assert send_due(services.context(), "test") == 0
    assert len([m for m in fake_wechat.sent if m["channel"] == "subscribe"]) == 1


def test_without_quota_a_staff_member_is_reached_on_wecom(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h2")
    set_wecom_id(services.context(), user_id(client, handler), "zhangsan")
    file_case(client, login(client, "r2"))
    send_due(services.context(), "test")
    wecom = [m for m in fake_wechat.sent if m["channel"] == "wecom"]
    assert [m["touser"] for m in wecom] == ["zhangsan"]
    assert wecom[0]["body"]["msgtype"] == "textcard"
    rows = [r for r in _rows(services) if r.user_id == user_id(client, handler)]
    assert [(r.status, r.channel) for r in rows] == [("sent", "wecom")]


def test_43101_falls_through_to_wecom_and_zeroes_the_quota(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h3")
    uid = user_id(client, handler)
    set_wecom_id(services.context(), uid, "lisi")
    _subscribe(client, handler, NEW_CASE)
    with services.db.uow() as uow:
        from app.models import User

        openid = uow.session.get(User, uid).openid
    fake_wechat.set_mode(no_quota=[openid])
    file_case(client, login(client, "r3"))
    send_due(services.context(), "test")
    assert [m["channel"] for m in fake_wechat.sent] == ["wecom"]
    with services.db.uow() as uow:
        sub = uow.session.scalar(select(Subscription).where(Subscription.user_id == uid))
        assert sub is not None and sub.quota == 0


def test_a_permanent_error_fails_the_row_and_supervisors_see_it(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h4")
    supervisor = make_staff(client, services, "住建局", "supervisor", "s4")
    _subscribe(client, handler, NEW_CASE)
    fake_wechat.set_mode(fail_next={"path": "cgi-bin/message/subscribe/send", "errcode": 47003, "times": 1})
    case = file_case(client, login(client, "r4"))
    send_due(services.context(), "test")
    failed = client.get("/api/v1/supervision/failed-notifications", headers=supervisor).get_json()
    mine = [i for i in failed["items"] if i["status"] == "failed"]
    assert len(mine) == 1
    assert mine[0]["case"]["number"] == case["number"]
    assert "47003" in mine[0]["error"]
    assert client.get("/api/v1/supervision/failed-notifications", headers=handler).status_code == 403


def test_wechat_down_delays_but_loses_nothing_and_sends_once(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h5")
    _subscribe(client, handler, NEW_CASE, times=3)
    resident = login(client, "r5")
    _subscribe(client, resident, UPDATE, times=3)
    fake_wechat.set_mode(down=True)
    case = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
    send_due(services.context(), "test")
    assert fake_wechat.sent == []
    pending = [r for r in _rows(services) if r.status == "pending"]
    assert len(pending) == 2 and all(r.attempts == 1 for r in pending)
    assert all((r.next_attempt_at - clock.now()).total_seconds() <= 30 for r in pending)
    fake_wechat.set_mode(down=False)
    send_due(services.context(), "test")
    assert fake_wechat.sent == []  # not yet due again
    clock.advance(seconds=30)
    send_due(services.context(), "test")
    clock.advance(seconds=3600)
    send_due(services.context(), "test")
    assert sorted(m["body"]["template_id"] for m in fake_wechat.sent) == sorted([NEW_CASE, UPDATE])
    assert all(
        r.status == "sent"
        for r in _rows(services)
        if r.user_id in (user_id(client, handler), user_id(client, resident))
    )


def test_busy_and_rate_limits_retry_with_capped_backoff() -> None:
    import random

    rng = random.Random(1)
    delays = [backoff(n, rng) for n in range(1, 15)]
    assert delays[0] <= 30
    assert all(d <= 3600 for d in delays)
    assert delays[8] > delays[2]


def test_an_expired_token_is_refreshed_once_and_the_send_succeeds(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    handler = make_staff(client, services, "综合执法局", "handler", "h6")
    _subscribe(client, handler, NEW_CASE)
    file_case(client, login(client, "r6"))
    fetches = fake_wechat.token_fetches
    fake_wechat.set_mode(expire_tokens=True)
    send_due(services.context(), "test")
    assert len(fake_wechat.sent) == 1
    assert fake_wechat.token_fetches == fetches + 1


def test_subscribe_templates_and_unknown_ids_are_ignored(client: Any, services: Any) -> None:
    resident = login(client, "r7")
    assert client.get("/api/v1/subscribe-templates").status_code == 401
    templates = client.get("/api/v1/subscribe-templates", headers=resident).get_json()
    assert templates == {
        "new_case": NEW_CASE,
        "escalation": "TPL_ESCALATION_PLACEHOLDER",
        "case_update": UPDATE,
    }
    answer = client.post(
        "/api/v1/staff/subscriptions", json={UPDATE: "accept", "unknown-template": "accept"}, headers=resident
    )
    assert answer.status_code == 200
    assert answer.get_json()["quota"] == {UPDATE: 1}


def test_unreachable_staff_are_listed_but_residents_who_did_not_subscribe_are_not(
    client: Any, services: Any, fake_wechat: Any, clock: FixedClock
) -> None:
    make_staff(client, services, "综合执法局", "handler", "h-none")  # no subscription, no WeCom id
    supervisor = make_staff(client, services, "住建局", "supervisor", "s-none")
    resident = login(client, "r-none")
    handler = make_staff(client, services, "综合执法局", "handler", "h-acc")
    _subscribe(client, handler, NEW_CASE)
    case = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)  # tells the resident
    send_due(services.context(), "test")
    listed = client.get("/api/v1/supervision/failed-notifications", headers=supervisor).get_json()["items"]
    assert [(i["status"], i["recipient"]["role"], i["purpose"]) for i in listed] == [
        ("no_channel", "handler", "new_case")
    ]
