"""A worker killed in the middle of sending: every notification still
arrives, and once."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Notification
from tests.e2e.procs import ROOT, wait_until, worker_env, workers
from tests.helpers import file_case, login, make_staff

pytestmark = pytest.mark.slow
TEMPLATE = "TPL_NEW_CASE_PLACEHOLDER"
SUBSCRIBE = "cgi-bin/message/subscribe/send"


def _sent_rows(services: Any) -> int:
    with services.db.uow() as uow:
        return int(
            uow.session.scalar(select(func.count(Notification.id)).where(Notification.status == "sent"))
        )


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    app: Any, client: Any, services: Any, settings: Any, fake_wechat: Any
) -> None:
    staff = [make_staff(client, services, "综合执法局", "handler", f"k{i}") for i in range(3)]
    for headers in staff:
        for _ in range(10):
            client.post("/api/v1/staff/subscriptions", json={TEMPLATE: "accept"}, headers=headers)
    resident = login(client, "k-resident")
    for i in range(4):
        file_case(client, resident, description=f"第{i}件：遛狗不拴绳")
    total = 4 * 3
    # WeChat holds the third send; the first worker is killed while it is in
    # flight (and every send WeChat answered is on record: a process killed
    # between WeChat's answer and its record is a second push no protocol
    # prevents), and a second worker takes over its claimed rows once their
    # lease runs out.
    fake_wechat.set_mode(hold_paths=[SUBSCRIBE], hold_after=2)
    env = worker_env(settings, ROOT / "config" / "county.yaml")
    with workers(env, 1) as first:
        assert wait_until(
            lambda: len(fake_wechat.sent) >= 2
            and fake_wechat.state.in_flight >= 1
            and _sent_rows(services) == len(fake_wechat.sent),
            timeout=20,
            interval=0.005,
        )
        first[0].send_signal(signal.SIGKILL)
        first[0].wait()
    fake_wechat.set_mode(hold_paths=None)
    killed_at = time.monotonic()
    sent_before = len(fake_wechat.sent)
    assert sent_before < total
    with workers(env, 1):
        assert wait_until(lambda: len(fake_wechat.sent) >= total, timeout=40), len(fake_wechat.sent)
        time.sleep(2.5)  # past any lease: nothing more may be sent
    assert fake_wechat.state.dropped >= 1  # the killed worker's request never took effect
    with services.db.uow() as uow:
        pending = uow.session.scalar(select(func.count(Notification.id)).where(Notification.status != "sent"))
    assert pending == 0
    messages = [m for m in fake_wechat.sent if m["channel"] == "subscribe"]
    assert len(messages) == total
    keys = [(m["touser"], m["body"]["data"]["character_string1"]["value"]) for m in messages]
    assert len(set(keys)) == total
    assert time.monotonic() - killed_at < 60
