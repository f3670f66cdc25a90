"""Blueprints by audience, the error handler, health and the OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from handlers.context import Context
from handlers.errors import DomainError

log = logging.getLogger(__name__)

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


def ctx() -> Context:
    """The handler context for this request."""
    return current_app.extensions["services"].context()  # type: ignore[no-any-return]


def error(code: str, message: str, status: int) -> Any:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_api(app: Flask) -> None:
    from app.api import auth, reference

    for module in (auth, reference):
        app.register_blueprint(module.bp)
    for name in (
        "resident",
        "photos",
        "staff",
        "supervision",
        "supervision_reports",
        "property",
        "subscriptions",
        "wechat_callback",
    ):
        try:
            module = __import__(f"app.api.{name}", fromlist=["bp"])
        except ModuleNotFoundError as exc:
            if exc.name != f"app.api.{name}":
                raise
            continue
        app.register_blueprint(module.bp)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        return error(exc.code, exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        return error(exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, "请求失败"), status)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return error("internal_error", "系统繁忙，请稍后再试", 500)

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            with app.extensions["services"].db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            log.exception("health check failed")
            return jsonify({"status": "unavailable"}), 503
        return jsonify({"status": "ok"})

    @app.get("/api/v1/openapi.json")
    def openapi_document() -> Any:
        from app.api.schema import openapi

        return jsonify(openapi(app))
