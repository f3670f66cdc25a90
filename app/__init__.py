"""The Flask application factory: settings, services, blueprints, CLI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask

from app.settings import Settings

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("app")
API_DESCRIPTION = (
    "小程序（居民、部门工作人员、督办人员）使用的接口。先用 POST /api/v1/auth/wechat-login "
    '换取 token，再点 Authorize 填入。出错时一律返回 {"error": {"code", "message"}}。'
    "其他系统（热线、网格平台）请用 Open311 GeoReport v2 接口 /open311/v2/，"
    "密钥由管理员用 flask --app app open311 key --name 名称 生成。"
)


def create_app(settings: Settings | None = None) -> Flask:
    from flask_openapi3 import Info

    from app.api import SECURITY_SCHEMES, Api, register_api, validation_error
    from app.api.answers import ErrorOut
    from app.api.kept import init_kept_answers
    from app.cli import register_cli
    from app.console import register_console
    from app.logs import configure_logging, init_request_ids
    from app.metrics import init_metrics
    from app.photos import keep_image_memory
    from app.services import Services

    # Production refuses weak secrets here, naming the variable (SystemExit).
    settings = settings or Settings.from_env()
    configure_logging(settings.log_format)  # first, so what follows is logged as configured
    settings = settings.safe()
    app = Api(
        __name__,
        info=Info(title="小区问题随手拍 API", version="1", description=API_DESCRIPTION),
        security_schemes=SECURITY_SCHEMES,
        doc_prefix="/api/v1",
        doc_url="/openapi.json",
        validation_error_status=422,
        validation_error_model=ErrorOut,
        validation_error_callback=validation_error,
        instance_relative_config=True,
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=11 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings
    app.extensions["services"] = services = Services(settings)
    keep_image_memory()  # Pillow keeps freed image blocks for the next upload (app/photos/pipeline.py)
    _check_county_file(services)
    init_request_ids(app)  # first: even a request refused by a hook has an id
    init_metrics(app)  # then the timer, before any other hook may answer
    give_way = _writer_first(app, services)
    _shared_reads(app, services)
    register_api(app)
    register_console(app)
    register_cli(app)
    # Last, so it is in front of everything: public answers kept per version of the list.
    init_kept_answers(app, services.routing.in_effect, give_way)
    if settings.clock_offset_seconds:
        log.warning(
            "CLOCK_OFFSET_SECONDS=%s: this process's clock is shifted by %s seconds",
            settings.clock_offset_seconds,
            settings.clock_offset_seconds,
        )
    if settings.production and not settings.public_base_url:
        log.warning("PUBLIC_BASE_URL is not set: WeChat cannot fetch photos, so uploads stay unchecked")
    if settings.scheduler_enabled:
        from app.worker import start_in_web_process

        start_in_web_process(app)
    return app


def _writer_first(app: Flask, services: Services) -> Callable[[], None]:
    """On SQLite, a request of this process begins once the process's writer,
    if one is in its transaction, has committed (50 ms at most): every writer
    of every process waits for that transaction, and a request begun then
    takes the GIL from it (``WriterGate.give_way``; its readers give way
    too). Filings 6 % faster and their p99 32 -> 27 ms in ``bench/api.py``
    side by side with the build before, reads unchanged. Answers how to give
    way, for the requests answered ahead of Flask (app/api/kept.py)."""
    from app.db import writer_gate

    gate = writer_gate(services.db.engine)
    if gate is None:
        return _no_writer
    app.before_request(gate.give_way)
    return gate.give_way


def _shared_reads(app: Flask, services: Services) -> None:
    """On PostgreSQL a request's reads share one connection (``RequestReader``):
    it is given back when the request ends. On SQLite each read has its own."""
    if services.db.request_reader() is not None:
        from app.api.web import end_request

        app.teardown_request(end_request)


def _no_writer() -> None:
    """PostgreSQL: no writer to give way to."""


def _check_county_file(services: object) -> None:
    """Say at start, naming each problem, when the county file (the first
    version of an empty database) is broken; ``flask --app app routing
    check`` still runs to show them. The database is not touched here."""
    from routing import ConfigError, load_config

    try:
        load_config(services.settings.cases_config)  # type: ignore[attr-defined]
    except ConfigError as exc:
        log.error("CASES_CONFIG is not usable: %s", "; ".join(exc.problems))
