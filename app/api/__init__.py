"""Blueprints by audience, the error handler, health and the OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from app.api.errors import HTTP_MESSAGES, domain_error, error
from handlers.context import Context
from handlers.errors import DomainError

log = logging.getLogger(__name__)


def ctx() -> Context:
    """The handler context for this request."""
    return current_app.extensions["services"].context()  # type: ignore[no-any-return]


def register_api(app: Flask) -> None:
    from app.api import (
        auth,
        photos,
        property,
        reference,
        resident,
        staff,
        subscriptions,
        supervision,
        supervision_reports,
        wechat_callback,
    )

    for module in (
        auth,
        reference,
        resident,
        photos,
        staff,
        supervision,
        supervision_reports,
        property,
        subscriptions,
        wechat_callback,
    ):
        app.register_blueprint(module.bp)

    app.register_error_handler(DomainError, domain_error)

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
