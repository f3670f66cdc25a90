"""handlers/cases/resident.py: the reporter rates a resolved case (closing
it) or reopens it, within the rating window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Assignment, CaseEvent, Notification
from handlers.cases import resident
from handlers.commands import build
from handlers.errors import Conflict, Invalid, NotFound
from tests.unit.handlers.conftest import World


@dataclass(frozen=True)
class Cast:
    """A resolved 遛狗不拴绳 case: 综合执法局 主办, 住建局 协办, 杨和镇 属地."""

    case_id: int
    reporter: int
    primary: int
    primary_head: int
    co_handler: int
    township: int


@pytest.fixture
def cast(world: World) -> Cast:
    reporter = world.user("reporter").id
    case_id = world.file(reporter).id
    primary = world.user("enforcement", "综合执法局").id
    people = Cast(
        case_id,
        reporter,
        primary,
        world.user("enforcement-head", "综合执法局", "head").id,
        world.user("housing", "住建局").id,
        world.user("town", "杨和镇").id,
    )
    world.accept(case_id, primary)
    world.resolve(case_id, primary)
    return people


def _written(world: World, case_id: int) -> tuple[int, int]:
    return world.count(CaseEvent, CaseEvent.case_id == case_id), world.count(Notification)


def test_rating_closes_the_case_with_the_score_and_comment(world: World, cast: Cast) -> None:
    world.clock.advance(days=2)
    resident.rate_case(world.ctx, cast.case_id, cast.reporter, resident.Rating(score=4, comment="处理及时"))
    case = world.case(cast.case_id)
    assert (case.status, case.rating, case.rating_comment) == ("closed", 4, "处理及时")
    assert case.closed_at == world.clock.now()
    assert world.kinds(cast.case_id)[-2:] == ["rated", "closed"]
    rated = world.events(cast.case_id, "rated")[0]
    assert (rated.actor_id, rated.note, rated.data["score"]) == (cast.reporter, "处理及时", 4)
    assert world.events(cast.case_id, "closed")[0].actor_id is None


def test_only_the_reporter_may_rate_and_others_do_not_learn_the_case_exists(world: World, cast: Cast) -> None:
    neighbour = world.user("neighbour").id
    before = _written(world, cast.case_id)
    for who in (neighbour, cast.primary):
        with pytest.raises(NotFound) as refused:
            resident.rate_case(world.ctx, cast.case_id, who, resident.Rating(score=1))
        assert refused.value.code == "case_not_found"
    assert world.case(cast.case_id).status == "resolved"
    assert _written(world, cast.case_id) == before


def test_the_last_moment_of_the_window_still_counts(world: World, cast: Cast) -> None:
    resolved_at = world.case(cast.case_id).resolved_at
    assert resolved_at is not None
    world.clock.at = resolved_at + timedelta(days=7)
    resident.rate_case(world.ctx, cast.case_id, cast.reporter, resident.Rating(score=5))
    assert world.case(cast.case_id).status == "closed"


@pytest.mark.parametrize("step", ["rate", "reopen"])
def test_after_the_rating_window_neither_rating_nor_reopening_is_taken(
    world: World, cast: Cast, step: str
) -> None:
    world.clock.advance(days=7, seconds=1)
    before = _written(world, cast.case_id)
    with pytest.raises(Conflict) as refused:
        if step == "rate":
            resident.rate_case(world.ctx, cast.case_id, cast.reporter, resident.Rating(score=5))
        else:
            resident.reopen_case(
                world.ctx, cast.case_id, cast.reporter, resident.Reopen(reason="还是有人遛狗")
            )
    assert refused.value.code == "rating_window_over"
    assert world.case(cast.case_id).status == "resolved"
    assert _written(world, cast.case_id) == before


def test_a_case_not_resolved_cannot_be_rated(world: World) -> None:
    reporter = world.user("reporter").id
    case = world.file(reporter)
    with pytest.raises(Conflict) as refused:
        resident.rate_case(world.ctx, case.id, reporter, resident.Rating(score=3))
    assert refused.value.code == "invalid_state"


def test_reopening_sends_the_case_back_to_the_primary_with_a_fresh_resolve_clock(
    world: World, cast: Cast
) -> None:
    # Thursday 2026-06-04 15:00 county time.
    world.clock.at = datetime(2026, 6, 4, 7, 0, tzinfo=UTC)
    resident.reopen_case(world.ctx, cast.case_id, cast.reporter, resident.Reopen(reason="还是有人遛狗"))
    case = world.case(cast.case_id)
    assert (case.status, case.resolved_at, case.escalation_step) == ("reopened", None, None)
    assert case.resolve_started_at == world.clock.now()
    # 5 working days later: Thursday 2026-06-11 15:00 county time.
    assert case.resolve_due_at == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert case.due_at == case.resolve_due_at
    assert case.next_escalation_at is not None and case.next_escalation_at < case.resolve_due_at
    assignments = world.rows(Assignment, Assignment.case_id == cast.case_id)
    assert all(a.open and a.due_at == case.resolve_due_at for a in assignments)
    assert world.events(cast.case_id, "reopened")[0].note == "还是有人遛狗"


def test_only_the_primarys_staff_hear_of_a_reopened_case(world: World, cast: Cast) -> None:
    resident.reopen_case(world.ctx, cast.case_id, cast.reporter, resident.Reopen(reason="还是有人遛狗"))
    rows = [n for n in world.outbox("new_case", cast.case_id) if n.payload.get("role") == "重新办理"]
    assert {n.user_id for n in rows} == {cast.primary, cast.primary_head}
    case = world.case(cast.case_id)
    assert case.resolve_due_at is not None
    assert {n.payload["deadline"] for n in rows} == {case.resolve_due_at.isoformat()}
    assert world.waker.calls >= 1


def test_a_reopened_case_is_resolved_again_without_a_new_acceptance(world: World, cast: Cast) -> None:
    resident.reopen_case(world.ctx, cast.case_id, cast.reporter, resident.Reopen(reason="还是有人遛狗"))
    world.resolve(cast.case_id, cast.primary)
    assert world.case(cast.case_id).status == "resolved"
    assert world.kinds(cast.case_id).count("resolved") == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"score": 0}, "评分超出允许范围"),
        ({"score": 6}, "评分超出允许范围"),
        ({"score": "5"}, "评分格式不正确"),
        ({"score": 5, "comment": "好" * 501}, "评价最多 500 个字"),
        ({}, "请填写评分"),
    ],
)
def test_a_rating_out_of_its_rules_is_refused_in_words_a_resident_reads(
    body: dict[str, object], message: str
) -> None:
    with pytest.raises(Invalid) as refused:
        build(resident.Rating, body)
    assert (refused.value.code, refused.value.message) == ("invalid_field", message)


def test_a_reopen_needs_a_reason() -> None:
    with pytest.raises(Invalid) as refused:
        build(resident.Reopen, {"reason": " 差 "})
    assert refused.value.message == "原因至少需要 2 个字"
