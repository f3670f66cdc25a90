"""The fake WeChat's message pushes to a product's /wechat/callback, signed
and (in safe mode) encrypted the way WeChat does it, written from WeChat's
documentation rather than with wechatpy, so the product's checks are tested
against an independent implementation:

- ``signature`` = sha1 of the sorted, concatenated ``[token, timestamp, nonce]``;
- safe mode: ``Encrypt`` = base64(AES-256-CBC(key = base64(EncodingAESKey + "="),
  iv = key[:16]) of random(16) + len(msg) as 4 bytes big-endian + msg + appid,
  padded PKCS#7 to 32 bytes)), and ``msg_signature`` = sha1 of the sorted
  ``[token, timestamp, nonce, Encrypt]``, with ``encrypt_type=aes``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class PushTarget:
    url: str
    token: str
    aes_key: str = ""
    appid: str = ""
    format: str = "json"  # json | xml
    encrypt: bool = False
    delay: float = 0.2  # seconds between a media check and its verdict
    clock_offset: int = 0  # seconds added to the push's timestamp


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(aes_key: str, appid: str, text: str) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(aes_key + "=")
    body = text.encode()
    raw = os.urandom(16) + struct.pack(">I", len(body)) + body + appid.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def _xml_value(value: Any) -> str:
    if isinstance(value, dict):
        return _xml_items(value)
    if isinstance(value, int | float):
        return str(value)
    return f"<![CDATA[{value}]]>"


def _xml_items(message: dict[str, Any]) -> str:
    """Each key an element; a list repeats its element (WeChat's XML for arrays)."""
    out = []
    for key, value in message.items():
        items = value if isinstance(value, list) else [value]
        out += [f"<{key}>{_xml_value(item)}</{key}>" for item in items]
    return "".join(out)


def to_xml(message: dict[str, Any]) -> str:
    return f"<xml>{_xml_items(message)}</xml>"


def media_check_message(appid: str, openid: str, trace_id: str, suggest: str) -> dict[str, Any]:
    """A ``wxa_media_check`` event as WeChat pushes it (v2)."""
    label = {"pass": 100, "review": 21000, "risky": 20002}.get(suggest, 100)
    return {
        "ToUserName": "gh_fake0000000",
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "wxa_media_check",
        "appid": appid,
        "trace_id": trace_id,
        "version": 2,
        "detail": [
            {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}
        ],
        "errcode": 0,
        "errmsg": "ok",
        "result": {"suggest": suggest, "label": label},
    }


def signed_request(target: PushTarget, message: dict[str, Any]) -> tuple[str, bytes, str]:
    """(URL with its signed query, body, content type) of one push."""
    timestamp = str(int(time.time()) + target.clock_offset)
    nonce = secrets.token_hex(8)
    query = {
        "signature": sha1_signature(target.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    text = json.dumps(message, ensure_ascii=False) if target.format == "json" else to_xml(message)
    if target.encrypt:
        cipher = encrypt(target.aes_key, target.appid, text)
        query |= {
            "encrypt_type": "aes",
            "msg_signature": sha1_signature(target.token, timestamp, nonce, cipher),
        }
        envelope = {"ToUserName": message.get("ToUserName", ""), "Encrypt": cipher}
        text = json.dumps(envelope) if target.format == "json" else to_xml(envelope)
    content_type = "application/json" if target.format == "json" else "text/xml"
    return f"{target.url}?{urllib.parse.urlencode(query)}", text.encode(), content_type


def deliver(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    """POST a push; (status, answer) as WeChat would see them (0: unreachable)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback test server
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, str(exc)


def fetch(url: str) -> tuple[int, int]:
    """GET a media URL as WeChat's image check does: (status, bytes read)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback test server
            return answer.status, len(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0
    except OSError:
        return 0, 0
