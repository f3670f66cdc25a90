"""WeChat's message push over HTTP, as the fake WeChat sends it (signed and,
in safe mode, encrypted the real way): signatures, the five-minute window on
the one clock, replays, both body formats, WeChat's own retries."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from app.clock import Clock
from app.models import PushStamp, Subscription, User
from tests.conftest import Live
from tests.fakewechat.pushes import deliver, sha1_signature, signed_request
from tests.helpers import login, user_id

TOKEN = "test-push-token"
TEMPLATE = "TPL_NEW_CASE_PLACEHOLDER"


def _signed(timestamp: int | None = None, nonce: str = "n1") -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"signature": sha1_signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}


def _quota(services: Any, uid: int) -> int | None:
    with services.db.uow() as uow:
        sub = uow.session.scalar(select(Subscription).where(Subscription.user_id == uid))
        return sub.quota if sub else None


def _openid(services: Any, uid: int) -> str:
    with services.db.uow() as uow:
        return uow.session.get(User, uid).openid  # type: ignore[union-attr]


def _popup(openid: str, *templates: tuple[str, str], msg_id: int = 1) -> dict[str, Any]:
    items = [{"TemplateId": t, "SubscribeStatusString": s, "PopupScene": "0"} for t, s in templates]
    return {
        "ToUserName": "gh_x",
        "FromUserName": openid,
        "CreateTime": 1700000000 + msg_id,
        "MsgType": "event",
        "Event": "subscribe_msg_popup_event",
        "List": items[0] if len(items) == 1 else items,
    }


def test_the_server_check_echoes_only_with_a_good_fresh_first_signature(client: Any) -> None:
    good = client.get("/wechat/callback", query_string=_signed(nonce="check-1") | {"echostr": "hello"})
    assert good.status_code == 200 and good.get_data(as_text=True) == "hello"
    bad = client.get("/wechat/callback", query_string=_signed() | {"signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403
    assert (
        client.post("/wechat/callback", data="<xml/>", query_string={"signature": "bad"}).status_code == 403
    )
    # The same signed check again is a replay.
    again = client.get("/wechat/callback", query_string=_signed(nonce="check-1") | {"echostr": "hello"})
    assert again.status_code == 403
    assert again.get_json()["error"]["code"] == "push_replayed"


@pytest.mark.parametrize("seconds", [-301, 301, -3600, 10**9])
def test_a_push_signed_more_than_five_minutes_from_now_is_refused(client: Any, seconds: int) -> None:
    stale = client.get(
        "/wechat/callback",
        query_string=_signed(int(time.time()) + seconds, nonce=f"s{seconds}") | {"echostr": "x"},
    )
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "push_stale"


def test_the_window_is_read_on_the_one_clock(client: Any, services: Any, live: Live) -> None:
    """CLOCK_OFFSET_SECONDS moves the window: a push signed at the real time
    is stale to a clock two days ahead, and one signed two days ahead is fresh."""
    services.clock = Clock(offset_seconds=2 * 86400)
    message = _popup("o-nobody", (TEMPLATE, "accept"))
    status, _ = live.fake.push(message)
    assert status == 403
    live.fake.configure_push(live.callback, TOKEN, clock_offset=2 * 86400)
    status, answer = live.fake.push(message)
    assert (status, answer) == (200, "success")


def test_a_json_popup_event_grants_quota_once_and_a_replay_is_refused(
    client: Any, services: Any, live: Live
) -> None:
    uid = user_id(client, login(client, "push1"))
    message = _popup(_openid(services, uid), (TEMPLATE, "accept"))
    url, body, content_type = signed_request(live.fake.state.push_target, message)  # type: ignore[arg-type]
    assert deliver(url, body, content_type) == (200, "success")
    assert _quota(services, uid) == 1
    # The same signed request again (from an access log, say), even with another body.
    assert deliver(url, body, content_type)[0] == 403
    forged = body.replace(b"accept", b"reject")
    assert deliver(url, forged, content_type)[0] == 403
    # WeChat's own retries are signed anew: taken, and counted once (by the message).
    for _ in range(3):
        assert live.fake.push(message) == (200, "success")
    assert _quota(services, uid) == 1


@pytest.mark.parametrize(
    ("fmt", "encrypt"),
    [("xml", False), ("xml", True), ("json", True)],
    ids=["xml", "xml safe mode", "json safe mode"],
)
def test_a_popup_event_with_several_templates(
    client: Any, services: Any, live: Live, settings: Any, fmt: str, encrypt: bool
) -> None:
    uid = user_id(client, login(client, f"push-{fmt}-{encrypt}"))
    live.fake.configure_push(
        live.callback,
        TOKEN,
        aes_key=settings.wechat_encoding_aes_key,
        appid=settings.wechat_appid,
        format=fmt,
        encrypt=encrypt,
    )
    message = _popup(_openid(services, uid), (TEMPLATE, "accept"), ("unknown", "reject"))
    message["SubscribeMsgPopupEvent"] = {"List": message.pop("List")}
    assert live.fake.push(message) == (200, "success")
    assert _quota(services, uid) == 1


def test_a_safe_mode_push_with_a_wrong_message_signature_is_refused(
    client: Any, services: Any, live: Live, settings: Any
) -> None:
    uid = user_id(client, login(client, "push-forged"))
    live.fake.configure_push(
        live.callback,
        TOKEN,
        aes_key=settings.wechat_encoding_aes_key,
        appid=settings.wechat_appid,
        encrypt=True,
    )
    message = _popup(_openid(services, uid), (TEMPLATE, "accept"))
    url, body, content_type = signed_request(live.fake.state.push_target, message)  # type: ignore[arg-type]
    forged_url = url.replace("msg_signature=", "msg_signature=0")
    assert deliver(forged_url, body, content_type)[0] == 403
    assert _quota(services, uid) is None


def test_an_accepted_push_is_remembered_by_every_process_in_the_database(
    client: Any, services: Any, settings: Any
) -> None:
    """Another process of the deployment (another app on the same database)
    refuses a push this one accepted; stamps past their window are pruned."""
    from app import create_app

    query = _signed(nonce="shared-1") | {"echostr": "e"}
    assert client.get("/wechat/callback", query_string=query).status_code == 200
    other = create_app(settings)
    try:
        assert other.test_client().get("/wechat/callback", query_string=query).status_code == 403
        assert (
            other.test_client().get("/wechat/callback", query_string=_signed(nonce="shared-2")).status_code
            == 200
        )
    finally:
        other.extensions["services"].close()
    with services.db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PushStamp)) == 2
    # Eleven minutes on, a new push prunes the two stamps past their window.
    services.clock = Clock(offset_seconds=660)
    later = _signed(int(time.time()) + 660, nonce="shared-3")
    assert client.get("/wechat/callback", query_string=later).status_code == 200
    with services.db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PushStamp)) == 1


def test_with_redis_an_accepted_push_is_remembered_there(client: Any, settings: Any) -> None:
    import redis

    from app import create_app

    store = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    with_redis = settings.but(redis_url="redis://127.0.0.1:6379/12")
    first, second = create_app(with_redis), create_app(with_redis)
    try:
        # Only this push's key: those of earlier runs expire meanwhile (a TTL of -2).
        before = set(store.keys("wechat-push:*"))
        query = _signed(nonce=f"redis-{time.time_ns()}") | {"echostr": "e"}
        assert first.test_client().get("/wechat/callback", query_string=query).status_code == 200
        assert second.test_client().get("/wechat/callback", query_string=query).status_code == 403
        keys = set(store.keys("wechat-push:*")) - before
        assert keys and all(0 < store.ttl(k) <= int(timedelta(minutes=10).total_seconds()) for k in keys)
    finally:
        for application in (first, second):
            application.extensions["services"].close()


def test_a_push_is_answered_without_a_stack_trace_whatever_its_body(client: Any, live: Live) -> None:
    for body in (b"", b"{not json", b"<xml><unclosed>", b"\xff\xfe", b"[" * 100000):
        query = _signed(nonce=f"junk-{len(body)}-{body[:2].hex()}")
        answer = requests.post(live.callback, params=query, data=body, timeout=10)
        assert answer.status_code == 200 and answer.text == "success"
