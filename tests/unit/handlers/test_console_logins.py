"""Console logins and sessions on the fakes: codes work once and expire, the
confirmed browser has a minute to take its session, sessions end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.accounts import revoke_staff
from handlers.console.logins import (
    CODE_LENGTH,
    browser_holds,
    confirm_login,
    create_link,
    finish_qr_login,
    qr_status,
    spend_link,
    start_qr_login,
)
from handlers.console.sessions import end_session, session_user
from handlers.errors import Forbidden, NotFound, Unauthorized
from tests.unit.handlers.conftest import World

IDLE = timedelta(minutes=30)


def test_a_code_is_eight_unambiguous_characters_and_only_its_browser_holds_it(world: World) -> None:
    pending = start_qr_login(world.ctx)
    assert len(pending.code) == CODE_LENGTH and not set(pending.code) & set("01OIL")
    assert pending.display == f"{pending.code[:4]}-{pending.code[4:]}"
    assert browser_holds(world.ctx, pending.browser_secret, pending.display.lower())
    assert not browser_holds(world.ctx, "another browser", pending.code)


def test_confirmed_once_then_the_browser_has_a_minute(world: World) -> None:
    sup = world.user("sup", "住建局", "supervisor")
    pending = start_qr_login(world.ctx)
    with pytest.raises(NotFound):
        finish_qr_login(world.ctx, pending.browser_secret)  # not confirmed yet
    confirm_login(world.ctx, sup.id, pending.code)
    with pytest.raises(NotFound):
        confirm_login(world.ctx, sup.id, pending.code)
    world.clock.advance(seconds=61)
    assert qr_status(world.ctx, pending.browser_secret) == "expired"
    with pytest.raises(NotFound):
        finish_qr_login(world.ctx, pending.browser_secret)


def test_a_role_taken_away_between_confirming_and_finishing_gets_no_session(world: World) -> None:
    head = world.user("head", "综合执法局", "head")
    pending = start_qr_login(world.ctx)
    confirm_login(world.ctx, head.id, pending.code)
    revoke_staff(world.ctx, head.id)
    with pytest.raises(Forbidden):
        finish_qr_login(world.ctx, pending.browser_secret)


def test_a_session_lasts_a_working_day_at_most_and_ends_on_logout(world: World) -> None:
    admin = world.user("admin", "住建局", "admin")
    token, _ = create_link(world.ctx, admin.id)
    new = spend_link(world.ctx, token)
    with pytest.raises(NotFound):
        spend_link(world.ctx, token)
    for _ in range(24):
        world.clock.advance(minutes=29)
        assert session_user(world.ctx, new.token, IDLE).id == admin.id
    world.clock.advance(minutes=29)
    with pytest.raises(Unauthorized) as ended:
        session_user(world.ctx, new.token, IDLE)
    assert ended.value.code == "session_expired"
    again = spend_link(world.ctx, create_link(world.ctx, admin.id)[0])
    end_session(world.ctx, again.token)
    with pytest.raises(Unauthorized):
        session_user(world.ctx, again.token, IDLE)


def test_links_are_for_console_roles_only(world: World) -> None:
    handler = world.user("handler", "综合执法局")
    with pytest.raises(Forbidden):
        create_link(world.ctx, handler.id)
    with pytest.raises(NotFound):
        create_link(world.ctx, 9999)
