"""Reading a JSON body before its shape is checked: it must be JSON, an
object, and not nested deeper than any request of ours needs. The parsed
body stays cached on the request for the view's validation."""

from __future__ import annotations

import json

from flask import request

from handlers.errors import BadRequest, Unsupported

MAX_DEPTH = 32
# Endpoints whose body is a file upload, not JSON.
MULTIPART = {"photos.upload", "admin_places.import_"}


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def check_json_body() -> None:
    """Before every POST, PUT or PATCH under /api/v1 that takes JSON."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/v1/"):
        return
    if request.endpoint in MULTIPART or request.endpoint is None:
        return
    if request.mimetype != "application/json":
        raise Unsupported("请以 JSON 格式提交（Content-Type: application/json）", "bad_content_type")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("请求内容为空", "empty_body")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("请求内容不是有效的 JSON", "bad_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "bad_json")
    if _depth(data) > MAX_DEPTH:
        raise BadRequest("请求内容嵌套过深", "too_deep")
    request._cached_json = (data, data)  # type: ignore[attr-defined]  # what get_json() returns from now on
