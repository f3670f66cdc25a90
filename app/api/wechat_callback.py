"""WeChat's message push at /wechat/callback: the server check (GET) and
pushes (POST), XML or JSON, plain or safe mode. The signature is checked
here (wechatpy); the time window, replays and the events are the
handlers' (handlers/notifications/pushes.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import xmltodict
from flask import Response, current_app, request
from pydantic import Field
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from app.api.errors import error
from app.api.web import blueprint, ctx, errors
from handlers.commands import Query
from handlers.notifications.pushes import PushStamp, admit_push, receive_push

bp = blueprint("wechat_callback", "", "微信消息推送", public=True)
TEXT = {
    "description": "纯文本（success 或 echostr）",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}
log = logging.getLogger(__name__)


class Signed(Query):
    signature: str = Field(default="", max_length=64, title="签名")
    timestamp: str = Field(default="", max_length=16, title="时间戳")
    nonce: str = Field(default="", max_length=64, title="随机数")
    echostr: str = Field(default="", max_length=256, title="回显字符串")
    msg_signature: str = Field(default="", max_length=64, title="消息签名（安全模式）")
    encrypt_type: str = Field(default="", max_length=16, title="加密方式")

    def stamp(self) -> PushStamp:
        return PushStamp(self.timestamp, self.nonce, self.signature)


def _settings() -> Any:
    return current_app.extensions["settings"]


def _signed(query: Signed) -> bool:
    try:
        check_signature(_settings().wechat_token, query.signature, query.timestamp, query.nonce)
    except InvalidSignatureException:
        return False
    return True


def _forbidden() -> Response:
    return error("invalid_signature", "签名无效", 403)


def _parse(raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        data = json.loads(text)
        return data if isinstance(data, dict) else {}
    parsed = xmltodict.parse(text, disable_entities=True)
    return dict(parsed.get("xml") or {})


def _decrypt(message: dict[str, Any], query: Signed) -> dict[str, Any]:
    from wechatpy.crypto import WeChatCrypto

    s = _settings()
    crypto = WeChatCrypto(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_appid)
    plain = crypto.decrypt_message(
        {"Encrypt": message["Encrypt"]}, query.msg_signature, query.timestamp, query.nonce
    )
    return _parse(plain.encode() if isinstance(plain, str) else plain)


def _message(query: Signed) -> dict[str, Any] | None:
    """The push, decrypted in safe mode; None when its message signature is wrong."""
    try:
        message = _parse(request.get_data())
        if "Encrypt" in message:
            message = _decrypt(message, query)
    except InvalidSignatureException:
        return None
    except Exception:  # noqa: BLE001 - a push we cannot read is logged, not retried forever
        log.warning("unreadable WeChat push", exc_info=True)
        return {}
    return message


@bp.get("/wechat/callback", responses={200: TEXT} | errors(403))
def verify(query: Signed) -> Any:
    """微信服务器验证：签名正确且时间戳新鲜时原样返回 echostr"""
    if not _signed(query):
        return _forbidden()
    admit_push(ctx(), query.stamp())
    return Response(query.echostr, mimetype="text/plain")


@bp.post("/wechat/callback", responses={200: TEXT} | errors(403))
def push(query: Signed) -> Any:
    """微信消息推送（订阅消息事件、图片检测结果等），尽快回答 success，同一推送只处理一次"""
    if not _signed(query):
        return _forbidden()
    message = _message(query)
    if message is None:
        return _forbidden()
    receive_push(ctx(), query.stamp(), message)
    return Response("success", mimetype="text/plain")
