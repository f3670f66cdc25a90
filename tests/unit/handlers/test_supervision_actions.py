"""handlers/supervision/actions.py: the leading group office re-dispatches
returned cases, rejects, merges, and decides extension requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Assignment, CaseEvent, Extension, Notification
from handlers.cases.handling import ExtensionRequest, Return, request_extension, return_case
from handlers.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from handlers.supervision import actions
from tests.unit.handlers.conftest import World


@dataclass(frozen=True)
class Cast:
    """A 遛狗不拴绳 case: 综合执法局 主办, 住建局 协办, 杨和镇 属地."""

    case_id: int
    reporter: int
    primary: int
    office: int
    admin: int


@pytest.fixture
def cast(world: World) -> Cast:
    reporter = world.user("reporter").id
    return Cast(
        world.file(reporter).id,
        reporter,
        world.user("enforcement", "综合执法局").id,
        world.user("office", "住建局", "supervisor").id,
        world.user("admin", "住建局", "admin").id,
    )


def _written(world: World, case_id: int) -> tuple[int, int, int]:
    return (
        world.count(CaseEvent, CaseEvent.case_id == case_id),
        world.count(Notification),
        world.count(Assignment, Assignment.case_id == case_id),
    )


def _returned(world: World, cast: Cast) -> None:
    return_case(world.ctx, cast.case_id, cast.primary, Return(reason="应由消防部门处理"))


# -- dispatch ---------------------------------------------------------------------------


def test_a_returned_case_is_routed_again_by_the_list_with_fresh_clocks(world: World, cast: Cast) -> None:
    fire = world.user("fire", "消防救援大队").id
    _returned(world, cast)
    world.clock.advance(hours=3)
    actions.dispatch_case(world.ctx, cast.case_id, cast.office, "fire_lane_blocked")
    case = world.case(cast.case_id)
    assert (case.status, case.category, case.route, case.urgent) == (
        "dispatched",
        "fire_lane_blocked",
        "dirt-2",
        True,
    )
    assert case.accept_due_at == world.clock.now() + timedelta(minutes=30)
    assert case.resolve_due_at == world.clock.now() + timedelta(hours=24)
    assignments = sorted(world.rows(Assignment, Assignment.case_id == cast.case_id), key=lambda a: a.position)
    assert [(a.department.name, a.role, a.open) for a in assignments] == [
        ("消防救援大队", "主办", True),
        ("公安局", "协办", True),
        ("综合执法局", "协办", True),
        ("住建局", "协办", True),
        ("杨和镇", "属地", True),
    ]
    event = world.events(cast.case_id, "dispatched")[-1]
    assert (event.actor_id, event.actor_label) == (cast.office, "住建局")
    assert event.note.startswith("重新派发（占用消防车道/堵塞消防通道）：消防救援大队(主办)")
    told = [n for n in world.outbox("new_case", cast.case_id) if n.created_at == world.clock.now()]
    assert {n.user_id for n in told} == {fire, cast.primary}
    assert world.waker.calls == 3


def test_a_re_dispatch_to_another_primary_takes_the_case_from_the_old_one(world: World, cast: Cast) -> None:
    _returned(world, cast)
    actions.dispatch_case(world.ctx, cast.case_id, cast.office, "owner_data_leaked")
    names = {a.department.name for a in world.rows(Assignment, Assignment.case_id == cast.case_id)}
    assert names == {"公安局", "住建局", "杨和镇"}
    with pytest.raises(Forbidden) as refused:
        world.accept(cast.case_id, cast.primary)
    assert refused.value.code == "not_assigned"


@pytest.mark.parametrize(
    ("who", "category", "returned", "kind", "code"),
    [
        ("office", "no_such_category", True, Invalid, "unknown_category"),
        ("primary", "dog_unleashed", True, Forbidden, "supervisor_only"),
        ("office", "dog_unleashed", False, Conflict, "invalid_state"),
    ],
)
def test_a_dispatch_that_may_not_happen_writes_nothing(
    world: World, cast: Cast, who: str, category: str, returned: bool, kind: type[DomainError], code: str
) -> None:
    if returned:
        _returned(world, cast)
    before = _written(world, cast.case_id)
    with pytest.raises(kind) as refused:
        actions.dispatch_case(world.ctx, cast.case_id, getattr(cast, who), category)
    assert refused.value.code == code
    assert _written(world, cast.case_id) == before


# -- reject -----------------------------------------------------------------------------


def test_a_rejected_case_stops_and_the_reporter_reads_why(world: World, cast: Cast) -> None:
    actions.reject_case(world.ctx, cast.case_id, cast.office, "非小区内问题，请拨打 12345")
    case = world.case(cast.case_id)
    assert (case.status, case.reject_reason, case.due_at, case.next_escalation_at) == (
        "rejected",
        "非小区内问题，请拨打 12345",
        None,
        None,
    )
    assert not any(a.open for a in world.rows(Assignment, Assignment.case_id == cast.case_id))
    assert world.events(cast.case_id, "rejected")[0].note == "非小区内问题，请拨打 12345"
    [update] = world.outbox("case_update", cast.case_id)
    assert (update.user_id, update.payload["status"], update.payload["note"]) == (
        cast.reporter,
        "不予受理",
        "非小区内问题，请拨打 12345",
    )


def test_an_admin_holds_the_offices_powers(world: World, cast: Cast) -> None:
    actions.reject_case(world.ctx, cast.case_id, cast.admin, "重复提交")
    assert world.case(cast.case_id).status == "rejected"


@pytest.mark.parametrize(
    ("who", "reason", "kind", "code"),
    [
        ("office", "  ", Invalid, "invalid_reason"),
        ("primary", "不属于小区问题", Forbidden, "supervisor_only"),
    ],
)
def test_a_rejection_needs_a_reason_and_the_office(
    world: World, cast: Cast, who: str, reason: str, kind: type[DomainError], code: str
) -> None:
    before = _written(world, cast.case_id)
    with pytest.raises(kind) as refused:
        actions.reject_case(world.ctx, cast.case_id, getattr(cast, who), reason)
    assert refused.value.code == code
    assert _written(world, cast.case_id) == before


def test_a_closed_case_cannot_be_rejected(world: World, cast: Cast) -> None:
    from handlers.cases.resident import Rating, rate_case

    world.accept(cast.case_id, cast.primary)
    world.resolve(cast.case_id, cast.primary)
    rate_case(world.ctx, cast.case_id, cast.reporter, Rating(score=5))
    with pytest.raises(Conflict) as refused:
        actions.reject_case(world.ctx, cast.case_id, cast.office, "重复")
    assert refused.value.code == "invalid_state"


# -- merge ------------------------------------------------------------------------------


def test_a_duplicate_is_merged_and_both_timelines_say_so(world: World, cast: Cast) -> None:
    other = world.user("other").id
    duplicate = world.file(other).id
    actions.merge_case(world.ctx, duplicate, cast.office, cast.case_id)
    target, merged = world.case(cast.case_id), world.case(duplicate)
    assert (merged.status, merged.merged_into_id, merged.due_at) == ("merged", cast.case_id, None)
    assert target.status == "dispatched"
    into = world.events(duplicate, "merged")[0]
    assert (into.note, into.data["into"]) == (f"与工单 {target.number} 重复，已合并办理", target.number)
    assert world.events(cast.case_id, "merged")[0].data["merged"] == merged.number
    [update] = world.outbox("case_update", duplicate)
    assert (update.user_id, update.payload["status"], update.payload["note"]) == (
        other,
        "已合并办理",
        f"已并入工单 {target.number}",
    )


def test_the_merged_reporter_hears_of_the_surviving_case(world: World, cast: Cast) -> None:
    other = world.user("other").id
    actions.merge_case(world.ctx, world.file(other).id, cast.office, cast.case_id)
    world.accept(cast.case_id, cast.primary)
    told = {n.user_id for n in world.outbox("case_update", cast.case_id)}
    assert told == {cast.reporter, other}


def test_when_a_survivor_is_merged_again_its_followers_follow_the_new_survivor(
    world: World, cast: Cast
) -> None:
    from handlers.cases.queries import my_cases

    first, second = world.user("first").id, world.user("second").id
    duplicate = world.file(first).id
    actions.merge_case(world.ctx, duplicate, cast.office, cast.case_id)  # B into A
    survivor = world.file(second).id
    actions.merge_case(world.ctx, cast.case_id, cast.office, survivor)  # A into C
    assert survivor in {c.id for c in my_cases(world.ctx, first, 1, 20)[0]}
    world.accept(survivor, cast.primary)
    told = {n.user_id for n in world.outbox("case_update", survivor)}
    assert {first, cast.reporter, second} <= told


@pytest.mark.parametrize(
    ("target", "kind", "code"),
    [
        ("self", Invalid, "invalid_merge"),
        ("missing", NotFound, "merge_target_not_found"),
        ("merged", Conflict, "invalid_merge_target"),
        ("rejected", Conflict, "invalid_merge_target"),
    ],
)
def test_a_merge_needs_a_live_other_case(
    world: World, cast: Cast, target: str, kind: type[DomainError], code: str
) -> None:
    duplicate = world.file(world.user("other").id).id
    third = world.file(world.user("third").id).id
    if target == "merged":
        actions.merge_case(world.ctx, third, cast.office, cast.case_id)
    if target == "rejected":
        actions.reject_case(world.ctx, third, cast.office, "无效")
    into = {"self": duplicate, "missing": 999, "merged": third, "rejected": third}[target]
    before = _written(world, duplicate)
    with pytest.raises(kind) as refused:
        actions.merge_case(world.ctx, duplicate, cast.office, into)
    assert refused.value.code == code
    assert world.case(duplicate).status == "dispatched"
    assert _written(world, duplicate) == before


# -- extensions -------------------------------------------------------------------------


def _requested(world: World, cast: Cast, until: str = "2026-06-30") -> int:
    cmd = ExtensionRequest(reason="需要协调养犬人所在单位", until=until)
    return request_extension(world.ctx, cast.case_id, cast.primary, cmd).id


def test_approval_moves_the_resolve_deadline_and_tells_the_requester(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    extension_id = _requested(world, cast)
    world.clock.advance(hours=1)
    decided = actions.decide_extension(world.ctx, extension_id, cast.office, approve=True)
    assert (decided.status, decided.decided_by_id, decided.decided_at) == (
        "approved",
        cast.office,
        world.clock.now(),
    )
    assert decided.case.number == world.case(cast.case_id).number
    until = datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)
    case = world.case(cast.case_id)
    assert case.resolve_due_at == case.due_at == until
    assert world.events(cast.case_id, "extension_approved")[0].data["until"] == "2026-06-30T15:59:59+00:00"
    told = world.outbox("escalation", cast.case_id)[-1]
    assert (told.user_id, told.payload["step"], told.payload["page"]) == (
        cast.primary,
        "延期已批准",
        f"pages/staff/handle/index?id={cast.case_id}",
    )


def test_a_denial_needs_a_reason_keeps_the_deadline_and_tells_the_requester(world: World, cast: Cast) -> None:
    extension_id = _requested(world, cast)
    deadline = world.case(cast.case_id).resolve_due_at
    with pytest.raises(Invalid) as no_reason:
        actions.decide_extension(world.ctx, extension_id, cast.office, approve=False, reason=" ")
    assert no_reason.value.code == "invalid_reason"
    actions.decide_extension(world.ctx, extension_id, cast.office, approve=False, reason="理由不充分")
    assert world.case(cast.case_id).resolve_due_at == deadline
    assert world.events(cast.case_id, "extension_denied")[0].note == "理由不充分"
    told = world.outbox("escalation", cast.case_id)[-1]
    assert (told.user_id, told.payload["step"], told.payload["note"]) == (
        cast.primary,
        "延期未批准",
        "理由不充分",
    )


def test_a_request_is_decided_once(world: World, cast: Cast) -> None:
    extension_id = _requested(world, cast)
    actions.decide_extension(world.ctx, extension_id, cast.office, approve=True)
    before = _written(world, cast.case_id)
    with pytest.raises(Conflict) as refused:
        actions.decide_extension(world.ctx, extension_id, cast.office, approve=False, reason="改变主意")
    assert refused.value.code == "extension_decided"
    assert _written(world, cast.case_id) == before


def test_only_the_office_decides_and_only_what_exists(world: World, cast: Cast) -> None:
    extension_id = _requested(world, cast)
    with pytest.raises(Forbidden) as refused:
        actions.decide_extension(world.ctx, extension_id, cast.primary, approve=True)
    assert refused.value.code == "supervisor_only"
    with pytest.raises(NotFound) as missing:
        actions.decide_extension(world.ctx, 999, cast.office, approve=True)
    assert missing.value.code == "extension_not_found"
    stored = world.one(Extension, Extension.id == extension_id)
    assert stored is not None and stored.status == "pending"


def test_an_approval_after_the_case_was_resolved_is_refused_but_a_denial_is_taken(
    world: World, cast: Cast
) -> None:
    world.accept(cast.case_id, cast.primary)
    first = _requested(world, cast)
    world.resolve(cast.case_id, cast.primary)
    with pytest.raises(Conflict) as refused:
        actions.decide_extension(world.ctx, first, cast.office, approve=True)
    assert refused.value.code == "invalid_state"
    actions.decide_extension(world.ctx, first, cast.office, approve=False, reason="已办结")
    stored = world.one(Extension, Extension.id == first)
    assert stored is not None and stored.status == "denied"


def test_requests_are_listed_by_status_oldest_first(world: World, cast: Cast) -> None:
    second_case = world.file(cast.reporter).id
    first = _requested(world, cast)
    world.clock.advance(minutes=5)
    later = request_extension(
        world.ctx, second_case, cast.primary, ExtensionRequest(reason="需要协调", until="2026-07-10")
    ).id
    rows, total = actions.extensions(world.ctx, "pending", 1, 20)
    assert total == 2 and [r.id for r in rows] == [first, later]
    assert rows[0].case.number == world.case(cast.case_id).number
    actions.decide_extension(world.ctx, first, cast.office, approve=True)
    assert [r.id for r in actions.extensions(world.ctx, "approved", 1, 20)[0]] == [first]
    assert actions.extensions(world.ctx, "pending", 1, 1)[1] == 1
    with pytest.raises(Invalid) as refused:
        actions.extensions(world.ctx, "everything", 1, 20)
    assert refused.value.code == "invalid_filter"
