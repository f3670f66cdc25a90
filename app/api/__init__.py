"""The HTTP API: blueprints by audience, one error answer for everything,
health, and the OpenAPI document with its browsable page."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, redirect
from flask_openapi3 import OpenAPI
from flask_openapi3.models import SecurityScheme
from pydantic import ValidationError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from app.api.bodies import check_json_body
from app.api.errors import HTTP_MESSAGES, domain_error, error
from handlers.commands import invalid
from handlers.errors import DomainError

log = logging.getLogger(__name__)

SECURITY_SCHEMES: dict[str, SecurityScheme | dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "POST /api/v1/auth/wechat-login 得到的 token",
    }
}


def validation_error(exc: ValidationError) -> Response:
    """A request that breaks its declared shape: 422 naming the field in Chinese."""
    return domain_error(invalid(exc))


def register_api(app: OpenAPI) -> None:
    from app.api import (
        admin_places,
        admin_routing,
        admin_staff,
        auth,
        photos,
        property,
        reference,
        reports,
        resident,
        staff,
        subscriptions,
        supervision,
        wechat_callback,
    )

    for module in (
        auth,
        reference,
        resident,
        photos,
        staff,
        supervision,
        reports,
        property,
        subscriptions,
        wechat_callback,
        admin_routing,
        admin_places,
        admin_staff,
    ):
        app.register_api(module.bp)
    app.register_error_handler(DomainError, domain_error)
    app.before_request(check_json_body)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        return error(exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, "请求失败"), status)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error("internal_error", "系统繁忙，请稍后再试", 500)

    @app.get("/healthz")
    def healthz() -> Response | tuple[Response, int]:
        try:
            with app.extensions["services"].db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            log.exception("health check failed")
            return jsonify({"status": "unavailable"}), 503
        return jsonify({"status": "ok"})

    @app.get("/api/v1/docs")
    def docs() -> Response:
        """The browsable API documentation (Swagger UI, served locally)."""
        return redirect("/api/v1/swagger")  # type: ignore[return-value]
