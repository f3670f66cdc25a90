"""handlers/accounts.py: logging in with WeChat, inviting, binding and
revoking staff, the WeCom id."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.models import Department, StaffInvite, User
from handlers.accounts import bind_staff, invite_staff, login_with_wechat, revoke_staff, set_wecom_id
from handlers.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooMany,
    Unavailable,
)
from handlers.ports import WeChatRejected
from tests.unit.handlers.conftest import START, World


def test_a_first_login_creates_the_user_and_a_second_finds_the_same_one(world: World) -> None:
    first = login_with_wechat(world.ctx, "user-mei:1")
    world.clock.advance(hours=2)
    again = login_with_wechat(world.ctx, "user-mei:2")
    assert again.id == first.id
    assert again.openid == "o-mei" and again.role == "resident" and again.department_id is None
    assert again.created_at == START
    assert again.last_login_at == START + timedelta(hours=2)
    assert world.count(User, User.openid == "o-mei") == 1


def test_two_people_get_two_users(world: World) -> None:
    assert login_with_wechat(world.ctx, "user-a:1").id != login_with_wechat(world.ctx, "user-b:1").id


@pytest.mark.parametrize(
    ("errcode", "kind", "code"),
    [
        (40029, BadRequest, "wechat_invalid_code"),
        (40163, BadRequest, "wechat_code_used"),
        (45011, TooMany, "wechat_too_frequent"),
        (40226, Forbidden, "wechat_risky_user"),
        (40099, BadRequest, "wechat_rejected"),
    ],
)
def test_a_code_wechat_refuses_is_refused_with_its_reason_and_no_user_is_made(
    world: World, errcode: int, kind: type[DomainError], code: str
) -> None:
    world.wechat.login_refusals.append(WeChatRejected(errcode, "refused"))
    with pytest.raises(kind) as refused:
        login_with_wechat(world.ctx, "user-kai:1")
    assert refused.value.code == code
    assert refused.value.message  # a sentence a resident reads
    assert world.count(User) == 0


def test_a_code_used_twice_is_refused_the_second_time(world: World) -> None:
    login_with_wechat(world.ctx, "user-kai:7")
    with pytest.raises(BadRequest) as refused:
        login_with_wechat(world.ctx, "user-kai:7")
    assert refused.value.code == "wechat_code_used"


def test_wechat_away_is_unavailable_not_a_refusal(world: World) -> None:
    with pytest.raises(Unavailable) as refused:
        login_with_wechat(world.ctx, "away")
    assert refused.value.code == "wechat_unavailable"
    assert world.count(User) == 0


def test_an_invite_is_a_readable_one_time_code_that_expires(world: World) -> None:
    code, expires = invite_staff(world.ctx, "住建局", "handler", hours=24)
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code)
    assert expires == START + timedelta(hours=24)
    invite = world.one(StaffInvite)
    assert invite is not None and invite.role == "handler" and invite.expires_at == expires
    assert code not in invite.code_hash and code.replace("-", "") not in invite.code_hash


@pytest.mark.parametrize(
    ("department", "role", "hours", "kind", "code"),
    [
        ("住建局", "mayor", 72, Invalid, "invalid"),
        ("住建局", "resident", 72, Invalid, "invalid"),
        ("住建局", "handler", 0, Invalid, "invalid"),
        ("住建局", "handler", 24 * 30 + 1, Invalid, "invalid"),
        ("不存在局", "handler", 72, NotFound, "unknown_department"),
    ],
)
def test_an_invite_is_refused_for_an_unknown_role_department_or_lifetime(
    world: World, department: str, role: str, hours: int, kind: type[DomainError], code: str
) -> None:
    with pytest.raises(kind) as refused:
        invite_staff(world.ctx, department, role, hours)
    assert refused.value.code == code
    assert world.count(StaffInvite) == 0


def test_binding_makes_the_user_staff_of_the_department_with_the_role(world: World) -> None:
    resident = login_with_wechat(world.ctx, "user-lin:1")
    code, _ = invite_staff(world.ctx, "杨和镇", "head")
    staff = bind_staff(world.ctx, resident.id, code)
    township = world.one(Department, Department.name == "杨和镇")
    assert township is not None and township.kind == "township"
    assert (staff.role, staff.department_id) == ("head", township.id)
    invite = world.one(StaffInvite)
    assert invite is not None and invite.used_by_id == resident.id and invite.used_at == START


def test_a_binding_code_is_read_without_case_or_dashes(world: World) -> None:
    resident = login_with_wechat(world.ctx, "user-lin:1")
    code, _ = invite_staff(world.ctx, "住建局", "supervisor")
    staff = bind_staff(world.ctx, resident.id, f"  {code.replace('-', '').lower()} ")
    assert staff.role == "supervisor"


def test_a_wrong_binding_code_changes_nothing(world: World) -> None:
    resident = login_with_wechat(world.ctx, "user-lin:1")
    invite_staff(world.ctx, "住建局", "handler")
    with pytest.raises(NotFound) as refused:
        bind_staff(world.ctx, resident.id, "AAAA-BBBB-CCCC")
    assert refused.value.code == "bad_binding_code"
    user = world.one(User, User.id == resident.id)
    assert user is not None and user.role == "resident"


def test_an_expired_binding_code_is_gone(world: World) -> None:
    resident = login_with_wechat(world.ctx, "user-lin:1")
    code, _ = invite_staff(world.ctx, "住建局", "handler", hours=1)
    world.clock.advance(hours=1)
    with pytest.raises(Gone) as refused:
        bind_staff(world.ctx, resident.id, code)
    assert refused.value.code == "binding_code_expired"
    user = world.one(User, User.id == resident.id)
    assert user is not None and user.role == "resident"
    invite = world.one(StaffInvite)
    assert invite is not None and invite.used_at is None


def test_a_binding_code_works_once(world: World) -> None:
    first = login_with_wechat(world.ctx, "user-lin:1")
    second = login_with_wechat(world.ctx, "user-wu:1")
    code, _ = invite_staff(world.ctx, "住建局", "handler")
    bind_staff(world.ctx, first.id, code)
    with pytest.raises(Conflict) as refused:
        bind_staff(world.ctx, second.id, code)
    assert refused.value.code == "binding_code_used"
    user = world.one(User, User.id == second.id)
    assert user is not None and user.role == "resident" and user.department_id is None


def test_revoking_takes_the_role_and_department_away_at_once(world: World) -> None:
    staff = world.user("zhou", "住建局", "supervisor")
    revoke_staff(world.ctx, staff.id)
    user = world.one(User, User.id == staff.id)
    assert user is not None and (user.role, user.department_id) == ("resident", None)


def test_revoking_or_linking_an_unknown_user_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        revoke_staff(world.ctx, 999)
    with pytest.raises(NotFound):
        set_wecom_id(world.ctx, 999, "someone")


def test_the_wecom_id_is_kept_without_surrounding_spaces(world: World) -> None:
    staff = world.user("zhou", "住建局")
    set_wecom_id(world.ctx, staff.id, "  zhou.wei ")
    user = world.one(User, User.id == staff.id)
    assert user is not None and user.wecom_userid == "zhou.wei"
