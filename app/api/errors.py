"""The one table from a domain error's kind to its HTTP status, and the
answer every error gets: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from flask import Response, jsonify

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
}


def status_of(exc: DomainError) -> int:
    return next((status for kind, status in STATUS.items() if isinstance(exc, kind)), 400)


def error(code: str, message: str, status: int, problems: list[str] | None = None) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    response = jsonify({"error": body})
    response.status_code = status
    return response


def domain_error(exc: DomainError) -> Response:
    return error(exc.code, exc.message, status_of(exc), exc.problems)
