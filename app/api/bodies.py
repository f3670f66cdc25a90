"""Reading a JSON body before its shape is checked: it must be JSON, an
object, and not nested deeper than any request of ours needs. The parsed
body stays cached on the request for the view's validation."""

from __future__ import annotations

import json
import time

from flask import Response, current_app, request

from handlers.errors import BadRequest, TooLarge, Unsupported

MAX_DEPTH = 32
# Endpoints whose body is a file upload, not JSON.
MULTIPART = {"photos.upload", "admin_places.import_"}
# What we read and drop of a refused body at most, so that a client still
# sending (a phone sends the whole file before it reads) gets our 413
# instead of a connection reset; beyond it, the connection is closed.
DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0


def drain() -> None:
    """Read and drop what is left of the request body, bounded in bytes and time."""
    stream = request.environ.get("wsgi.input")
    length = request.content_length
    if stream is None or (length is None and not request.environ.get("wsgi.input_terminated")):
        return  # no end we could wait for
    left = min(length if length is not None else DRAIN_BYTES, DRAIN_BYTES)
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while left > 0 and time.monotonic() < deadline:
            chunk = stream.read(min(64 * 1024, left))
            if not chunk:
                return
            left -= len(chunk)
    except (OSError, ValueError):
        return  # the client went away


def closing(response: Response) -> Response:
    """After a refused body, this connection is done with."""
    response.headers["Connection"] = "close"
    return response


def refuse_oversized() -> None:
    """Before everything: a body declared larger than we take is a 413, read
    to its end first so the client can read the answer."""
    if not request.environ.get("CONTENT_LENGTH"):
        return  # no declared length (most requests): nothing to refuse up front
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or request.content_length is None or request.content_length <= limit:
        return
    drain()
    if request.endpoint in MULTIPART:
        raise TooLarge("图片超过 10MB，请压缩后重试", "photo_too_large")
    raise TooLarge("请求内容太大", "body_too_large")


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
