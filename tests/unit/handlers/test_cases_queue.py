"""handlers/cases/queue.py: a department's queue — its open cases, soonest
deadline first, ties oldest first, with its role and whether it is late."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.models import User
from handlers.cases.queue import department_queue
from handlers.errors import Forbidden, Invalid
from tests.unit.handlers.conftest import World


def _queue(
    world: World,
    user_id: int,
    status: str | None = None,
    overdue: bool | None = None,
    page: int = 1,
    per: int = 20,
) -> tuple[list[tuple[int, str, bool]], int]:
    staff = world.one(User, User.id == user_id)
    assert staff is not None
    rows, total = department_queue(world.ctx, staff, status, overdue, page, per)
    return [(r.case.id, r.my_role, r.overdue) for r in rows], total


def test_the_queue_puts_the_soonest_deadline_first(world: World) -> None:
    reporter = world.user("reporter").id
    housing = world.user("housing", "住建局").id
    routine = world.file(reporter, "dog_unleashed").id  # accept within 1wd
    world.clock.advance(minutes=5)
    urgent = world.file(reporter, "flying_wire_charging").id  # accept within 30m
    rows, total = _queue(world, housing)
    assert [r[0] for r in rows] == [urgent, routine] and total == 2


def test_ties_are_served_oldest_first(world: World) -> None:
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    # Filed after hours on Tuesday: both due Wednesday 17:30.
    world.clock.at = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    older = world.file(reporter).id
    world.clock.advance(hours=1)
    newer = world.file(reporter).id
    assert world.case(older).due_at == world.case(newer).due_at
    assert [r[0] for r in _queue(world, enforcement)[0]] == [older, newer]


def test_each_row_says_the_departments_role(world: World) -> None:
    reporter = world.user("reporter").id
    case = world.file(reporter).id
    expected = {"综合执法局": "主办", "住建局": "协办", "杨和镇": "属地"}
    for department, role in expected.items():
        staff = world.user(f"staff-{department}", department).id
        assert _queue(world, staff)[0] == [(case, role, False)]
    assert _queue(world, world.user("police", "公安局").id) == ([], 0)


def test_a_finished_case_leaves_every_departments_queue(world: World) -> None:
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    town = world.user("town", "杨和镇").id
    case = world.file(reporter).id
    world.accept(case, enforcement)
    world.resolve(case, enforcement)
    assert _queue(world, enforcement) == ([], 0)
    assert _queue(world, town) == ([], 0)
    # Asked for by status, it is still there.
    assert _queue(world, enforcement, status="resolved")[0] == [(case, "主办", False)]


def test_overdue_cases_are_flagged_and_filtered(world: World) -> None:
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    late = world.file(reporter, "dog_unleashed").id
    world.clock.advance(days=1, minutes=1)  # past late's accept deadline (Wednesday 10:00)
    on_time = world.file(reporter, "dog_unleashed").id
    assert _queue(world, enforcement, overdue=True) == ([(late, "主办", True)], 1)
    assert _queue(world, enforcement, overdue=False) == ([(on_time, "主办", False)], 1)
    assert {r[0] for r in _queue(world, enforcement)[0]} == {late, on_time}


def test_accepting_moves_the_case_to_its_resolve_deadline(world: World) -> None:
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    accepted = world.file(reporter).id
    world.accept(accepted, enforcement)
    waiting = world.file(reporter).id
    # waiting is due tomorrow (accept), accepted in a week (resolve).
    assert [r[0] for r in _queue(world, enforcement)[0]] == [waiting, accepted]
    world.clock.advance(days=2)
    assert _queue(world, enforcement, overdue=True)[0] == [(waiting, "主办", True)]


def test_the_queue_comes_page_by_page(world: World) -> None:
    reporter = world.user("reporter").id
    housing = world.user("housing", "住建局").id
    ids = []
    for _ in range(3):
        ids.append(world.file(reporter).id)
        world.clock.advance(minutes=1)
    first, total = _queue(world, housing, page=1, per=2)
    second, _ = _queue(world, housing, page=2, per=2)
    assert total == 3 and [r[0] for r in first + second] == ids


def test_only_staff_have_a_queue(world: World) -> None:
    resident = world.one(User, User.id == world.user("reporter").id)
    assert resident is not None
    with pytest.raises(Forbidden) as refused:
        department_queue(world.ctx, resident, None, None, 1, 20)
    assert refused.value.code == "staff_only"


def test_an_unknown_status_is_refused(world: World) -> None:
    with pytest.raises(Invalid) as refused:
        _queue(world, world.user("housing", "住建局").id, status="lost")
    assert refused.value.code == "invalid_status"
