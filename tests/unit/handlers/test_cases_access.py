"""handlers/cases/access.py: who a user is to a case, who may see it, and
the error a refused step becomes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.models import Case, User
from handlers.cases.access import actors_of, can_view, department_role, own_unused_photos, take
from handlers.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from handlers.supervision.actions import merge_case
from tests.unit.handlers.conftest import World, county_with


@dataclass(frozen=True)
class Cast:
    """A 遛狗不拴绳 case in 幸福里小区: 综合执法局 主办, 住建局 协办, 杨和镇 属地."""

    case_id: int
    reporter: int
    primary: int
    co_handler: int
    township: int
    outsider_staff: int
    neighbour: int
    supervisor: int
    admin: int


@pytest.fixture
def cast(world: World) -> Cast:
    reporter = world.user("reporter").id
    case = world.file(reporter)
    return Cast(
        case.id,
        reporter,
        world.user("enforcement", "综合执法局").id,
        world.user("housing", "住建局").id,
        world.user("town", "杨和镇").id,
        world.user("police", "公安局").id,
        world.user("neighbour").id,
        world.user("office", "住建局", "supervisor").id,
        world.user("admin", "住建局", "admin").id,
    )


def _take(world: World, case_id: int, user_id: int, step: str) -> str:
    """The step's name when ``user_id`` may take it now; raises otherwise."""
    with world.db.uow() as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        _case, allowed = take(uow.session, case_id, user, step, world.ctx.county)
        return allowed.name


def _about(world: World, case_id: int, user_id: int) -> tuple[str | None, set[str], bool]:
    with world.db.uow() as uow:
        s = uow.session
        case, user = s.get(Case, case_id), s.get(User, user_id)
        assert case is not None and user is not None
        return department_role(s, case, user), actors_of(s, case, user), can_view(s, case, user)


def test_each_party_is_known_by_its_part_in_the_case(world: World, cast: Cast) -> None:
    assert _about(world, cast.case_id, cast.reporter) == (None, {"reporter"}, True)
    assert _about(world, cast.case_id, cast.primary) == ("主办", {"party", "primary"}, True)
    assert _about(world, cast.case_id, cast.co_handler) == ("协办", {"party"}, True)
    assert _about(world, cast.case_id, cast.township) == ("属地", {"party"}, True)
    # The office sits in 住建局, a co-handler here: a supervisor and a party.
    assert _about(world, cast.case_id, cast.supervisor) == ("协办", {"party", "supervisor"}, True)
    assert _about(world, cast.case_id, cast.admin)[1] >= {"supervisor"}


def test_nobody_else_may_see_the_case(world: World, cast: Cast) -> None:
    assert _about(world, cast.case_id, cast.neighbour) == (None, set(), False)
    assert _about(world, cast.case_id, cast.outsider_staff) == (None, set(), False)


def test_a_revoked_staff_member_is_no_longer_a_party(world: World, cast: Cast) -> None:
    from handlers.accounts import revoke_staff

    revoke_staff(world.ctx, cast.co_handler)
    assert _about(world, cast.case_id, cast.co_handler) == (None, set(), False)


def test_the_reporter_of_a_merged_case_may_see_the_case_it_joined(world: World, cast: Cast) -> None:
    other = world.user("other")
    duplicate = world.file(other.id)
    assert _about(world, cast.case_id, other.id)[2] is False
    merge_case(world.ctx, duplicate.id, cast.supervisor, cast.case_id)
    assert _about(world, cast.case_id, other.id)[2] is True


def test_the_primary_may_take_its_steps(world: World, cast: Cast) -> None:
    assert _take(world, cast.case_id, cast.primary, "accept") == "accept"
    assert _take(world, cast.case_id, cast.co_handler, "progress") == "progress"
    assert _take(world, cast.case_id, cast.township, "progress") == "progress"
    assert _take(world, cast.case_id, cast.supervisor, "reject") == "reject"


@pytest.mark.parametrize(
    ("who", "step", "kind", "code"),
    [
        ("co_handler", "accept", Forbidden, "not_primary"),
        ("township", "resolve", Forbidden, "not_primary"),
        ("township", "extension", Forbidden, "not_primary"),
        ("outsider_staff", "accept", Forbidden, "not_assigned"),
        ("outsider_staff", "progress", Forbidden, "not_assigned"),
        ("neighbour", "accept", Forbidden, "staff_only"),
        ("primary", "dispatch", Forbidden, "supervisor_only"),
        ("primary", "merge", Forbidden, "supervisor_only"),
        ("neighbour", "rate", NotFound, "case_not_found"),
        ("primary", "reopen", NotFound, "case_not_found"),
        ("primary", "resolve", Conflict, "invalid_state"),
        ("reporter", "rate", Conflict, "invalid_state"),
    ],
)
def test_a_step_not_theirs_or_not_now_is_refused_with_its_reason(
    world: World, cast: Cast, who: str, step: str, kind: type[DomainError], code: str
) -> None:
    with pytest.raises(kind) as refused:
        _take(world, cast.case_id, getattr(cast, who), step)
    assert refused.value.code == code


def test_who_may_not_act_learns_nothing_of_the_state(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    world.resolve(cast.case_id, cast.primary)
    with pytest.raises(Forbidden) as refused:
        _take(world, cast.case_id, cast.outsider_staff, "accept")
    assert refused.value.code == "not_assigned"
    with pytest.raises(NotFound):
        _take(world, cast.case_id, cast.neighbour, "rate")


def test_a_state_refusal_names_the_state_and_the_step_in_chinese(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    with pytest.raises(Conflict) as refused:
        _take(world, cast.case_id, cast.primary, "accept")
    assert refused.value.message == "工单当前状态（办理中）不能签收"


def test_the_state_is_named_in_the_countys_own_words(world: World, cast: Cast) -> None:
    world.ctx.county = county_with(labels={"statuses": {"accepted": "正在处置"}})
    world.accept(cast.case_id, cast.primary)
    with pytest.raises(Conflict) as refused:
        _take(world, cast.case_id, cast.primary, "accept")
    assert refused.value.message == "工单当前状态（正在处置）不能签收"


def test_a_missing_case_is_not_found(world: World, cast: Cast) -> None:
    with pytest.raises(NotFound) as refused:
        _take(world, 999, cast.supervisor, "reject")
    assert refused.value.code == "case_not_found"


def _unused(world: World, owner_id: int, photo_ids: list[str]) -> list[str]:
    with world.db.uow() as uow:
        return [p.id for p in own_unused_photos(uow.session, owner_id, photo_ids)]


def test_own_unused_photos_come_back_in_the_order_given(world: World) -> None:
    owner = world.user("owner").id
    first, second = world.photo(owner), world.photo(owner)
    assert _unused(world, owner, [second, first]) == [second, first]
    assert _unused(world, owner, []) == []


@pytest.mark.parametrize(
    ("whose", "code"),
    [("twice", "duplicate_photos"), ("missing", "unknown_photo"), ("someone_elses", "unknown_photo")],
)
def test_a_photo_that_is_not_the_callers_to_use_is_refused(world: World, whose: str, code: str) -> None:
    owner, other = world.user("owner").id, world.user("other").id
    mine, theirs = world.photo(owner), world.photo(other)
    ids = {"twice": [mine, mine], "missing": [mine, "no-such-photo"], "someone_elses": [mine, theirs]}
    with pytest.raises(Invalid) as refused:
        _unused(world, owner, ids[whose])
    assert refused.value.code == code


def test_a_photo_already_attached_cannot_be_used_again(world: World) -> None:
    owner = world.user("owner").id
    photo = world.photo(owner)
    world.file(owner, photo_ids=[photo])
    with pytest.raises(Invalid) as refused:
        _unused(world, owner, [photo])
    assert refused.value.code == "photo_used"
