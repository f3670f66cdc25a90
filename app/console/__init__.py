"""The PC console: server-rendered pages in Chinese at /console/ for
department heads, supervisors and admins, on the same handlers as the API."""

from __future__ import annotations

from flask import Flask, request


def register_console(app: Flask) -> None:
    from app.console import (  # noqa: F401  (their views)
        cases,
        communities,
        login,
        reports,
        routing_versions,
        staff,
        supervision,
    )
    from app.console.web import bp

    app.register_blueprint(bp)


def is_console_request() -> bool:
    """A console URL, routed or not: its errors are pages, not JSON."""
    return request.path == "/console" or request.path.startswith("/console/")


def error_page(message: str, status: int) -> tuple[str, int]:
    from app.console.web import error_page as render

    return render(message, status)
