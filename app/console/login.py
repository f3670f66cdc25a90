"""Ways into the console: the QR code (confirmed in the mini-program), the
one-time link from the command line, and logout."""

from __future__ import annotations

import secrets

import segno
from flask import jsonify, redirect, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.api.web import ctx
from app.console.nav import HOME
from app.console.web import (
    LOGIN_COOKIE,
    PRE_COOKIE,
    SESSION_COOKIE,
    bp,
    check_csrf,
    drop_cookie,
    page,
    safe_next,
    set_cookie,
    settings,
    sign,
    viewer,
)
from handlers.console.logins import (
    QR_LIFETIME,
    browser_holds,
    display_code,
    finish_qr_login,
    link_holder,
    normal_code,
    qr_status,
    spend_link,
    start_qr_login,
)
from handlers.console.sessions import WHY, NewSession, end_session
from handlers.errors import NotFound


def _base_url() -> str:
    return settings().public_base_url or request.host_url.rstrip("/")


def _qr_svg(code: str) -> Markup:
    """The code's URL as an inline SVG QR code (the mini-program reads /console/l/<CODE>)."""
    qr = segno.make(f"{_base_url()}/console/l/{code}", error="m")
    return Markup(qr.svg_inline(border=2, dark="#111", omitsize=True, title="电脑端登录二维码"))  # noqa: S704


def _login_page(code: str, browser_secret: str) -> tuple[str, int]:
    return page(
        "login.html",
        qr=_qr_svg(code),
        display=display_code(code),
        minutes=int(QR_LIFETIME.total_seconds() // 60),
        why=WHY.get(request.args.get("why", "")),
        next=safe_next(request.args.get("next")),
        login_csrf=sign(browser_secret, "login"),
    )


@bp.get("/login")
def login() -> Response:
    pending = start_qr_login(ctx())
    html, status = _login_page(pending.code, pending.browser_secret)
    response = Response(html, status, mimetype="text/html")
    set_cookie(response, LOGIN_COOKIE, pending.browser_secret, max_age=int(QR_LIFETIME.total_seconds()) * 2)
    return response


@bp.get("/l/<code>")
def login_code(code: str) -> Response | tuple[str, int]:
    """What the QR code holds. In the browser that shows the code, its login
    page; anywhere else, what the code is for (a browser cannot log in with
    someone else's code: only the one that asked for it gets the session)."""
    code = normal_code(code)[:16]
    secret = request.cookies.get(LOGIN_COOKIE, "")
    if browser_holds(ctx(), secret, code):
        return _login_page(code, secret)
    shown = display_code(code) if len(code) == 8 and code.isalnum() else ""
    return page("login_code.html", display=shown)


@bp.get("/login/state")
def login_state() -> Response:
    """The login page polls this until the code is confirmed."""
    return jsonify({"status": qr_status(ctx(), request.cookies.get(LOGIN_COOKIE, ""))})


def _logged_in(new: NewSession, target: str) -> Response:
    response = redirect(target, 303)
    set_cookie(response, SESSION_COOKIE, new.token)
    drop_cookie(response, LOGIN_COOKIE)
    drop_cookie(response, PRE_COOKIE)
    return response


@bp.post("/login")
def login_finish() -> Response:
    """The confirmed browser takes its session."""
    secret = request.cookies.get(LOGIN_COOKIE, "")
    check_csrf(secret, "login")
    try:
        new = finish_qr_login(ctx(), secret)
    except NotFound:
        return redirect(url_for("console.login", why="login_expired"), 303)
    target = request.form.get("next") or ""
    return _logged_in(new, safe_next(target) if target else HOME[new.user.role])


@bp.get("/link/<token>")
def link(token: str) -> Response:
    """A one-time link: say whom it logs in, and spend it only on a click (a
    link previewer opening the URL spends nothing)."""
    user = link_holder(ctx(), token[:64])
    seed = secrets.token_urlsafe(24)
    html, status = page("link.html", holder=user, link_csrf=sign(seed, "link"))
    response = Response(html, status, mimetype="text/html")
    set_cookie(response, PRE_COOKIE, seed, max_age=600)
    return response


@bp.post("/link/<token>")
def link_spend(token: str) -> Response:
    check_csrf(request.cookies.get(PRE_COOKIE, ""), "link")
    new = spend_link(ctx(), token[:64])
    return _logged_in(new, HOME[new.user.role])


@bp.get("/")
def home() -> Response:
    return redirect(HOME[viewer().role])


@bp.post("/logout")
def logout() -> Response:
    end_session(ctx(), request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("console.login", why="logout"), 303)
    drop_cookie(response, SESSION_COOKIE)
    return response
