"""What every console page shares: the blueprint, the session cookie, CSRF
tokens, who is looking, and rendering in Chinese.

A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure in
production) whose hash lives in ``console_sessions``; the user's role is read
on every request (handlers/console/sessions.py). Every POST carries a CSRF
token: an HMAC of the session token under ``SECRET_KEY`` (written here, a few
lines; no extension), or, before login, of the login page's own cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.api.errors import status_of
from app.api.web import ctx
from app.console.nav import entries_for
from app.logs import note_user
from app.models import User
from handlers.console.sessions import session_user
from handlers.errors import BadRequest, DomainError, Forbidden, Unauthorized

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # the QR login's browser secret
PRE_COOKIE = "console_pre"  # a one-time link page's CSRF seed
# Pages anyone may open: the ways in, and the static files.
PUBLIC = {"console.login", "console.login_state", "console.login_finish", "console.login_code"}
PUBLIC |= {"console.link", "console.link_spend", "console.static"}
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Any:
    return current_app.extensions["settings"]


def sign(seed: str, purpose: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"console-{purpose}:{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token every form of this session carries."""
    return sign(request.cookies.get(SESSION_COOKIE, ""), "csrf")


def check_csrf(seed: str, purpose: str = "csrf") -> None:
    given = request.form.get("csrf", "")
    if not seed or not hmac.compare_digest(given, sign(seed, purpose)):
        raise BadRequest("页面已过期，请刷新页面后重试", "csrf_failed")


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="Lax",
        secure=settings().production,
    )


def drop_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/console", httponly=True, samesite="Lax", secure=settings().production)


def idle() -> timedelta:
    return timedelta(minutes=settings().console_idle_minutes)


def safe_next(target: str | None) -> str:
    """Where to go after login: a console page of this site, nothing else."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or "\\" in (target or ""):
        return url_for("console.home")
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.before_request
def _session() -> Response | None:
    if request.endpoint in PUBLIC:
        return None
    try:
        g.console_user = session_user(ctx(), request.cookies.get(SESSION_COOKIE, ""), idle())
        note_user(g.console_user.id)
    except Unauthorized as exc:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        response = redirect(url_for("console.login", why=exc.code, next=back))
        drop_cookie(response, SESSION_COOKIE)
        return response
    if request.method == "POST":
        check_csrf(request.cookies.get(SESSION_COOKIE, ""))
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def viewer() -> User:
    return g.console_user  # type: ignore[no-any-return]


def needs(*roles: str) -> Callable[[F], F]:
    """A page for these roles only (the API's rule for the same data)."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if viewer().role not in roles:
                raise Forbidden("您没有权限查看此页面", "forbidden")
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as the county reads it."""
    return value.astimezone(ctx().county.tz).strftime(fmt) if value else ""


def groups(items: Any, attr: str) -> list[tuple[str, list[Any]]]:
    """Items grouped by an attribute, in their own order (Jinja's groupby sorts)."""
    out: dict[str, list[Any]] = {}
    for item in items:
        out.setdefault(getattr(item, attr), []).append(item)
    return list(out.items())


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A console page, with the navigation for the viewer's role."""
    user: User | None = g.get("console_user")
    county = ctx().county
    return (
        render_template(
            f"console/{template}",
            viewer=user,
            nav=entries_for(user.role if user else None, county.tz, ctx().now()),
            county=county,
            labels=county.labels,
            csrf=csrf_token() if user else "",
            local=local,
            groups=groups,
            **context,
        ),
        status,
    )


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    return error_page(exc.message, status_of(exc))


def error_page(message: str, status: int) -> tuple[str, int]:
    return page("error.html", status=status, message=message, status_code=status)
