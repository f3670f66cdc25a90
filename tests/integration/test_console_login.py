"""Logging in to the PC console: the QR code confirmed from the mini-program,
the one-time link, sessions that end (logout, idle, a role taken away), CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import Result

from app.clock import FixedClock
from handlers.accounts import revoke_staff
from tests.console_helpers import confirm, console_login, csrf, login_code, session_cookie
from tests.helpers import login, make_staff, user_id


@pytest.fixture
def clock(services: Any) -> FixedClock:
    services.clock = FixedClock(services.clock.now())
    return services.clock


def test_a_supervisor_confirms_the_pc_code_from_the_mini_program_and_the_pc_is_logged_in(
    client: Any, services: Any
) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "sup")
    page = client.get("/console/login")
    html = page.get_data(as_text=True)
    code = login_code(html)
    assert "<svg" in html and f"/console/l/{code.replace('-', '')}" not in html  # the URL is in the QR only
    assert client.get("/console/login/state").get_json() == {"status": "pending"}
    answer = client.post(f"/api/v1/console/logins/{code.replace('-', '')}/confirm", json={}, headers=sup)
    assert answer.status_code == 200 and answer.get_json() == {"status": "confirmed"}
    assert client.get("/console/login/state").get_json() == {"status": "confirmed"}
    finished = client.post(
        "/console/login", data={"csrf": csrf(html), "next": "/console/stats?from=2026-01-01"}
    )
    assert finished.status_code == 303 and finished.headers["Location"] == "/console/stats?from=2026-01-01"
    cookie = session_cookie(finished)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "督办人员" in client.get("/console/overdue").get_data(as_text=True)
    # The code worked once.
    assert confirm(client, sup, code).status_code == 404
    assert client.get("/console/login/state").get_json() == {"status": "expired"}


def test_who_may_confirm_and_what_a_wrong_code_answers(client: Any, services: Any) -> None:
    code = login_code(client.get("/console/login").get_data(as_text=True))
    resident = confirm(client, login(client, "res"), code)
    assert resident.status_code == 403 and resident.get_json()["error"]["message"] == "您的身份不能登录电脑端"
    handler = make_staff(client, services, "综合执法局", "handler", "h")
    assert confirm(client, handler, code).status_code == 403
    head = make_staff(client, services, "综合执法局", "head", "head")
    unknown = confirm(client, head, "ZZZZ-9999")
    assert unknown.status_code == 404 and "已过期" in unknown.get_json()["error"]["message"]
    assert confirm(client, head, code.lower()).status_code == 200
    bad = client.post("/api/v1/console/logins/AB/confirm", json={}, headers=head)
    assert bad.status_code == 422 and bad.get_json()["error"]["message"]


def test_guessing_codes_is_stopped_after_ten_wrong_ones(client: Any, services: Any) -> None:
    head = make_staff(client, services, "综合执法局", "head", "guesser")
    code = login_code(client.get("/console/login").get_data(as_text=True))
    for n in range(10):
        assert confirm(client, head, f"QQQQ{n:04d}").status_code == 404
    limited = confirm(client, head, code)
    assert limited.status_code == 429 and "15 分钟" in limited.get_json()["error"]["message"]


def test_a_code_expires_after_five_minutes(client: Any, services: Any, clock: FixedClock) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "late")
    code = login_code(client.get("/console/login").get_data(as_text=True))
    clock.advance(minutes=5, seconds=1)
    assert confirm(client, sup, code).status_code == 404
    assert client.get("/console/login/state").get_json() == {"status": "expired"}


def test_only_the_browser_that_shows_the_code_gets_the_session(app: Any, client: Any, services: Any) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "pc")
    html = client.get("/console/login").get_data(as_text=True)
    code = login_code(html).replace("-", "")
    other = app.test_client()
    elsewhere = other.get(f"/console/l/{code}").get_data(as_text=True)
    assert "不会登录任何电脑" in elsewhere and 'id="login-code"' not in elsewhere
    assert client.get(f"/console/l/{code}").get_data(as_text=True).count(login_code(html)) == 1
    assert confirm(client, sup, code).status_code == 200
    assert other.post("/console/login", data={"csrf": csrf(html)}).status_code == 400
    assert other.get("/console/overdue").status_code == 302
    assert console_finish(client, html).status_code == 303


def console_finish(client: Any, html: str) -> Any:
    return client.post("/console/login", data={"csrf": csrf(html), "next": ""})


def _link(app: Any, uid: int) -> Result:
    return app.test_cli_runner().invoke(args=["console", "link", "--user", str(uid)])


def test_the_one_time_link_logs_in_once_and_only_after_a_click(app: Any, client: Any, services: Any) -> None:
    admin = make_staff(client, services, "住建局", "admin", "admin")
    result = _link(app, user_id(client, admin))
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    base = services.settings.public_base_url  # the address people reach the app at
    assert base and url.startswith(f"{base}/console/link/")
    path = url.removeprefix(base)
    shown = client.get(path)
    assert shown.status_code == 200 and "住建局 · 管理员" in shown.get_data(as_text=True)
    assert client.get("/console/overdue").status_code == 302  # showing it logged nobody in
    spent = client.post(path, data={"csrf": csrf(shown.get_data(as_text=True))})
    assert spent.status_code == 303 and spent.headers["Location"] == "/console/overdue"
    page = client.get("/console/overdue").get_data(as_text=True)
    assert 'href="/console/communities"' in page and "待上线" not in page  # the admin's entries
    again = app.test_client().get(path)
    assert again.status_code == 404 and "已使用" in again.get_data(as_text=True)
    resident = login(client, "nobody")
    refused = _link(app, user_id(client, resident))
    assert refused.exit_code == 1 and "不能登录电脑端" in refused.output


def test_a_link_expires_after_ten_minutes(app: Any, client: Any, services: Any, clock: FixedClock) -> None:
    admin = make_staff(client, services, "住建局", "admin", "slow")
    path = "/console/link/" + _link(app, user_id(client, admin)).output.strip().rsplit("/", 1)[-1]
    clock.advance(minutes=10, seconds=1)
    assert client.get(path).status_code == 404


def test_logout_ends_the_session_wherever_its_cookie_is(app: Any, client: Any, services: Any) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "out")
    token = session_cookie(console_login(client, sup)).split(";")[0].split("=", 1)[1]
    page = client.get("/console/overdue").get_data(as_text=True)
    assert (
        client.post("/console/logout", data={"csrf": csrf(page)}).headers["Location"].endswith("why=logout")
    )
    copy = app.test_client()
    copy.set_cookie("console_session", token, path="/console")
    answer = copy.get("/console/overdue")
    assert answer.status_code == 302 and "why=login_required" in answer.headers["Location"]


def test_an_idle_session_ends_and_says_why(client: Any, services: Any, clock: FixedClock) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "idle")
    console_login(client, sup)
    clock.advance(minutes=29)
    assert client.get("/console/overdue").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/console/overdue").status_code == 200  # activity keeps it alive
    clock.advance(minutes=31)
    answer = client.get("/console/overdue?department=住建局")
    assert answer.status_code == 302
    assert "why=session_idle" in answer.headers["Location"] and "next=" in answer.headers["Location"]
    assert "长时间未操作" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_a_revoked_supervisor_is_logged_out_at_the_next_request(client: Any, services: Any) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "gone")
    console_login(client, sup)
    assert client.get("/console/extensions").status_code == 200
    revoke_staff(services.context(), user_id(client, sup))
    answer = client.get("/console/extensions")
    assert answer.status_code == 302 and "why=session_role" in answer.headers["Location"]
    assert client.get("/console/cases").status_code == 302  # the session is over, not just this page


def test_every_post_needs_the_sessions_csrf_token(client: Any, services: Any) -> None:
    sup = make_staff(client, services, "住建局", "supervisor", "csrf")
    console_login(client, sup)
    refused = client.post("/console/logout", data={"csrf": "0" * 64})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/overdue").status_code == 200


def test_production_cookies_are_secure(app: Any, client: Any, services: Any) -> None:
    app.extensions["settings"] = services.settings.but(app_env="production")
    cookie = next(
        h
        for h in client.get("/console/login").headers.getlist("Set-Cookie")
        if h.startswith("console_login=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_refuse_framing_and_scripts_from_elsewhere(client: Any) -> None:
    answer = client.get("/console/login")
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    script = client.get("/console/static/console.js")
    assert script.status_code == 200 and "http" not in script.get_data(as_text=True)
    script.close()
