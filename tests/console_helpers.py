"""Logging in to the PC console in tests, as a person does: the login page's
QR code confirmed through the API as the mini-program would, or a one-time link."""

from __future__ import annotations

import re
from typing import Any

CODE = re.compile(r'id="login-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def login_code(html: str) -> str:
    """The code a login page shows (ABCD-1234)."""
    found = CODE.search(html)
    assert found, "no login code on the page"
    return found.group(1)


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def confirm(client: Any, headers: dict[str, str], code: str) -> Any:
    """What the mini-program sends after wx.scanCode: upper case, no dash, body {}."""
    return client.post(
        f"/api/v1/console/logins/{code.replace('-', '').upper()}/confirm", json={}, headers=headers
    )


def console_login(client: Any, headers: dict[str, str]) -> Any:
    """The QR flow through the Flask test client; answers the finishing POST."""
    page = client.get("/console/login").get_data(as_text=True)
    assert confirm(client, headers, login_code(page)).status_code == 200
    return client.post("/console/login", data={"csrf": csrf(page), "next": ""})


def session_cookie(response: Any) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("console_session="))
