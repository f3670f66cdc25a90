"""WeChat's message pushes to /wechat/callback, once their signature is
checked at the web edge: accepted only within five minutes of the one
clock's now and only once (a signed request seen in an access log cannot
be replayed), then handled by event: subscription choices and the image
check's verdict."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers.cases.photo_checks import record_media_verdict
from handlers.context import Context
from handlers.errors import Forbidden, Unavailable
from handlers.notifications.subscriptions import record_push
from handlers.ports import JSONDict, StorageUnavailable

WINDOW_SECONDS = 300
_DIGITS = re.compile(r"[0-9]{1,10}")

SUBSCRIPTION_EVENTS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}


@dataclass(frozen=True)
class PushStamp:
    """What makes a signed push unique: its query's timestamp, nonce and signature."""

    timestamp: str
    nonce: str
    signature: str

    def key(self) -> str:
        return hashlib.sha256(f"{self.timestamp}:{self.nonce}:{self.signature}".encode()).hexdigest()


def _sent_at(stamp: PushStamp) -> datetime:
    if not _DIGITS.fullmatch(stamp.timestamp):
        raise Forbidden("推送时间戳无效", "push_stale")
    return datetime.fromtimestamp(int(stamp.timestamp), UTC)


def admit_push(ctx: Context, stamp: PushStamp) -> str:
    """403 for a push signed more than five minutes from now, or already
    accepted; otherwise remembers it (for the window) and answers its key."""
    now = ctx.now()
    if abs((now - _sent_at(stamp)).total_seconds()) > WINDOW_SECONDS:
        raise Forbidden("推送已过期（时间戳与当前时间相差超过 5 分钟）", "push_stale")
    key = stamp.key()
    try:
        fresh = ctx.seen_stamps.first_seen(key, now, now + timedelta(seconds=2 * WINDOW_SECONDS))
    except StorageUnavailable as exc:
        raise Unavailable("服务暂时不可用，请稍后重试", "unavailable") from exc
    if not fresh:
        raise Forbidden("重复的推送", "push_replayed")
    return key


def _as_list(value: object) -> list[JSONDict]:
    # One template: an object; several: an array (JSON); XML gives the same shapes.
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _subscription_push(ctx: Context, event: str, message: JSONDict) -> None:
    block = message.get(SUBSCRIPTION_EVENTS[event]) or message
    items = _as_list(block.get("List") if isinstance(block, dict) else None)
    answers = [
        (str(i.get("TemplateId", "")), str(i.get("SubscribeStatusString", "")))
        for i in items
        if i.get("TemplateId") and i.get("SubscribeStatusString")
    ]
    key = str(message.get("MsgId") or f"{message.get('FromUserName')}:{message.get('CreateTime')}:{event}")
    if event != "subscribe_msg_sent_event":
        record_push(ctx, str(message.get("FromUserName") or ""), key[:200], answers, event)


def _media_verdict(ctx: Context, message: JSONDict) -> None:
    result = message.get("result")
    suggest = result.get("suggest") if isinstance(result, dict) else None
    trace_id = str(message.get("trace_id") or "")
    if trace_id:
        record_media_verdict(ctx, trace_id[:64], str(suggest or ""))


def receive_push(ctx: Context, stamp: PushStamp, message: JSONDict) -> None:
    """A signed message push (already decrypted): admitted once, then handled
    by its event. A push that could not be handled may come again."""
    key = admit_push(ctx, stamp)
    event = str(message.get("Event") or "")
    try:
        if event in SUBSCRIPTION_EVENTS:
            _subscription_push(ctx, event, message)
        elif event == "wxa_media_check":
            _media_verdict(ctx, message)
    except Exception:
        ctx.seen_stamps.forget(key)
        raise
