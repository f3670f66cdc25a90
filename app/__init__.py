"""The Flask application factory: settings, services, blueprints, CLI."""

from __future__ import annotations

import logging

from flask import Flask

from app.settings import Settings

log = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> Flask:
    from flask_openapi3 import Info, OpenAPI

    from app.api import SECURITY_SCHEMES, register_api, validation_error
    from app.api.answers import ErrorOut
    from app.cli import register_cli
    from app.services import Services

    settings = settings or Settings.from_env()
    app = OpenAPI(
        __name__,
        info=Info(title="小区问题随手拍 API", version="1"),
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
    _check_county_file(services)
    register_api(app)
    register_cli(app)
    if settings.clock_offset_seconds:
        log.warning(
            "CLOCK_OFFSET_SECONDS=%s: this process's clock is shifted by %s seconds",
            settings.clock_offset_seconds,
            settings.clock_offset_seconds,
        )
    if settings.scheduler_enabled:
        from app.worker import start_in_web_process

        start_in_web_process(app)
    return app


def _check_county_file(services: object) -> None:
    """Say at start, naming each problem, when the county file (the first
    version of an empty database) is broken; ``flask --app app routing
    check`` still runs to show them. The database is not touched here."""
    from routing import ConfigError, load_config

    try:
        load_config(services.settings.cases_config)  # type: ignore[attr-defined]
    except ConfigError as exc:
        log.error("CASES_CONFIG is not usable: %s", "; ".join(exc.problems))
