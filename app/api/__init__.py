"""The HTTP API: blueprints by audience, one error answer for everything,
health, and the OpenAPI document with its browsable page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Response, redirect, request
from flask_openapi3 import OpenAPI
from flask_openapi3.models import SecurityScheme
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app import open311
from app.api.bodies import check_json_body, closing, drain, refuse_oversized
from app.api.errors import HTTP_MESSAGES, dependency_error, domain_error, error
from app.api.limits import init_limits
from app.api.security import SigningOnceSessions
from handlers.commands import invalid
from handlers.errors import DomainError, TooLarge

log = logging.getLogger(__name__)

SECURITY_SCHEMES: dict[str, SecurityScheme | dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "POST /api/v1/auth/wechat-login 得到的 token",
    }
}


# Functions whose answer ``Api.ensure_sync`` keeps: the hooks and views (a few
# dozen); past this, functions made anew (closures) are asked each time.
SYNC_KEPT = 256


class Api(OpenAPI):
    """flask-openapi3's application, asking once per function whether it is a
    coroutine function: Flask asks ``inspect`` again for every hook and view
    of every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync.get(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync) < SYNC_KEPT:
                self._sync[func] = sync
        return sync


def validation_error(exc: ValidationError) -> Response:
    """A request that breaks its declared shape: 422 naming the field in Chinese."""
    return domain_error(invalid(exc))


def register_api(app: OpenAPI) -> None:
    from app.api import (
        admin_places,
        admin_routing,
        admin_staff,
        auth,
        console,
        health,
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
        health,
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
        console,
        admin_routing,
        admin_places,
        admin_staff,
    ):
        app.register_api(module.bp)
    app.register_blueprint(open311.bp)
    init_limits(app, app.extensions["settings"].redis_url)
    app.session_interface = SigningOnceSessions()
    app.before_request(refuse_oversized)
    app.before_request(check_json_body)
    _register_errors(app)

    @app.get("/api/v1/docs", doc_ui=False)
    def docs() -> Response:
        """The browsable API documentation (Swagger UI, served locally)."""
        return redirect("/api/v1/swagger")  # type: ignore[return-value]


def _domain_error(exc: DomainError) -> Response:
    response = domain_error(exc)
    return closing(response) if isinstance(exc, TooLarge) else response


def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
    from app.console import error_page, is_console_request

    status = exc.code or 500
    if status == 413:
        drain()  # a chunked body that grew past the limit while we read it
    if request.path.startswith(open311.PREFIX):
        response = open311.http_error(exc)
    elif is_console_request():
        return error_page(HTTP_MESSAGES.get(status, "请求失败"), status)
    else:
        response = error(exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, "请求失败"), status)
    return closing(response) if status == 413 else response


def _unexpected(exc: Exception) -> Response | tuple[str, int]:
    """A dependency away is a 503 to retry (logged once per outage); anything
    else is a bug of ours: logged with its traceback, a 500 with no details."""
    from app.console import error_page, is_console_request

    away = dependency_error(exc)
    if away is None:
        log.exception("unhandled error")
    if request.path.startswith(open311.PREFIX):
        return open311.unavailable() if away is not None else open311.unexpected()
    if is_console_request():
        return (
            error_page(HTTP_MESSAGES[503], 503)
            if away is not None
            else error_page("系统繁忙，请稍后再试", 500)
        )
    return away if away is not None else error("internal_error", "系统繁忙，请稍后再试", 500)


def _register_errors(app: OpenAPI) -> None:
    """One error answer for everything: ``{"error": {"code", "message"}}``
    (the console's pages get an HTML page, Open311 GeoReport's error list),
    never a stack trace or werkzeug's HTML page."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
