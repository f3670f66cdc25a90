"""WeChat's message push at /wechat/callback: the server check (GET) and
subscription events (POST), XML or JSON, plain or safe mode."""

from __future__ import annotations

import json
import logging
from typing import Any

import xmltodict
from flask import Response, current_app, request
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from app.api.web import blueprint, ctx
from handlers.notifications.subscriptions import record_push

bp = blueprint("wechat_callback", "", "微信消息推送", public=True)
TEXT = {
    "description": "纯文本（success 或 echostr）",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}
REFUSED = {
    "description": "签名不对（invalid signature）",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}
log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}


def _settings() -> Any:
    return current_app.extensions["settings"]


def _signed() -> bool:
    args = request.args
    try:
        check_signature(
            _settings().wechat_token,
            args.get("signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )
    except InvalidSignatureException:
        return False
    return True


def _forbidden() -> Response:
    return Response("invalid signature", status=403, mimetype="text/plain")


def _parse(raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        data = json.loads(text)
        return data if isinstance(data, dict) else {}
    parsed = xmltodict.parse(text)
    return dict(parsed.get("xml") or {})


def _decrypt(message: dict[str, Any]) -> dict[str, Any]:
    from wechatpy.crypto import WeChatCrypto

    s = _settings()
    crypto = WeChatCrypto(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_appid)
    args = request.args
    plain = crypto.decrypt_message(
        {"Encrypt": message["Encrypt"]},
        args.get("msg_signature", ""),
        args.get("timestamp", ""),
        args.get("nonce", ""),
    )
    return _parse(plain.encode() if isinstance(plain, str) else plain)


def _as_list(value: Any) -> list[dict[str, Any]]:
    # One template: an object; several: an array (JSON); XML gives the same shapes.
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


@bp.get("/wechat/callback", responses={200: TEXT, 403: REFUSED})
def verify() -> Any:
    """微信服务器验证：签名正确时原样返回 echostr"""
    if not _signed():
        return _forbidden()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat/callback", responses={200: TEXT, 403: REFUSED})
def push() -> Any:
    """微信消息推送（订阅消息事件等），尽快回答 success，同一推送只处理一次"""
    if not _signed():
        return _forbidden()
    try:
        message = _parse(request.get_data())
        if "Encrypt" in message:
            message = _decrypt(message)
    except InvalidSignatureException:
        return _forbidden()
    except Exception:  # noqa: BLE001 - a push we cannot read is logged, not retried forever
        log.warning("unreadable WeChat push", exc_info=True)
        return Response("success", mimetype="text/plain")
    event = str(message.get("Event") or "")
    if event in SUBSCRIPTION_EVENTS:
        block = message.get(SUBSCRIPTION_EVENTS[event]) or message
        items = _as_list(block.get("List") if isinstance(block, dict) else None)
        answers = [
            (str(i.get("TemplateId", "")), str(i.get("SubscribeStatusString", "")))
            for i in items
            if i.get("TemplateId") and i.get("SubscribeStatusString")
        ]
        key = str(
            message.get("MsgId") or f"{message.get('FromUserName')}:{message.get('CreateTime')}:{event}"
        )
        if event != "subscribe_msg_sent_event":
            record_push(ctx(), str(message.get("FromUserName") or ""), key[:200], answers, event)
    return Response("success", mimetype="text/plain")
