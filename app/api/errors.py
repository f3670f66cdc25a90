"""The one table from a domain error's kind to its HTTP status, and the
answer every error gets: ``{"error": {"code", "message"}}``.

A dependency that is away (the database or Redis refusing, shut down, a dead
connection, a timeout) is a 503 ``unavailable``, like every 503 with a
``Retry-After``: the client tries again with the same ``Idempotency-Key``."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from app.dependencies import dependency_away
from handlers.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooLarge,
    TooMany,
    Unauthorized,
    Unavailable,
    Unsupported,
)

STATUS = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Unsupported: 415,
    Invalid: 422,
    TooMany: 429,
    Unavailable: 503,
}

# What a bare HTTP error (no domain error behind it) says.
HTTP_MESSAGES = {
    400: "请求格式不正确",
    401: "请先登录",
    403: "您没有权限进行此操作",
    404: "找不到该资源",
    405: "不支持该请求方法",
    409: "当前状态不允许该操作",
    413: "上传的内容太大",
    415: "不支持的内容类型",
    429: "操作太频繁，请稍后再试",
    503: "服务暂时不可用，请稍后重试",
}
# Seconds a client should wait before trying again after a 503: about the
# time a database or Redis takes to restart or fail over.
RETRY_AFTER_SECONDS = 2


def status_of(exc: DomainError) -> int:
    return next((status for kind, status in STATUS.items() if isinstance(exc, kind)), 400)


def error(code: str, message: str, status: int, problems: list[str] | None = None) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    response = jsonify({"error": body})
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def domain_error(exc: DomainError) -> Response:
    return error(exc.code, exc.message, status_of(exc), exc.problems)


def dependency_error(exc: BaseException) -> Response | None:
    """503 ``unavailable`` when ``exc`` says the database or Redis is away
    (the outage is logged once per process, without a traceback); None for
    any other error."""
    away = dependency_away(exc)
    if away is None:
        return None
    current_app.extensions["services"].outages[away].failed(exc)
    return error("unavailable", HTTP_MESSAGES[503], 503)
