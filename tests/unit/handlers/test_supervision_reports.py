"""handlers/supervision/reports.py: the overdue list (most overdue first,
with its filters) and per-unit statistics (late acceptance counts late)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Department
from handlers.cases.handling import Return, return_case
from handlers.cases.resident import Rating, Reopen, rate_case, reopen_case
from handlers.errors import Invalid
from handlers.supervision.escalation import sweep
from handlers.supervision.reports import OverdueFilter, UnitStats, overdue_cases, unit_stats
from tests.unit.handlers.conftest import World


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in June 2026, given in county time (UTC+8)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


JUNE = (_at(1, 0), datetime(2026, 6, 30, 16, 0, tzinfo=UTC))


@dataclass(frozen=True)
class Overdue:
    dog: int  # 综合执法局, 杨和镇: accept by Wednesday 10:00
    fire: int  # 消防救援大队, 杨和镇: accept by Tuesday 10:30
    leak: int  # 公安局, 望洪镇: accept by Wednesday 10:00


@pytest.fixture
def overdue(world: World) -> Overdue:
    reporter = world.user("reporter").id
    return Overdue(
        world.file(reporter, "dog_unleashed").id,
        world.file(reporter, "fire_lane_blocked").id,
        world.file(reporter, "owner_data_leaked", "望湖雅居").id,
    )


def _listed(world: World, **filters: str) -> list[tuple[int, str, int]]:
    rows, total = overdue_cases(world.ctx, OverdueFilter(**filters), 1, 20)
    assert total == len(rows)
    return [(r.case.id, r.deadline, r.overdue_seconds) for r in rows]


def test_only_cases_past_a_deadline_are_listed_most_overdue_first(world: World, overdue: Overdue) -> None:
    world.clock.at = _at(2, 10, 31)
    assert _listed(world) == [(overdue.fire, "accept", 60)]
    world.clock.at = _at(3, 10, 1)
    assert _listed(world) == [
        (overdue.fire, "accept", (23 * 60 + 31) * 60),
        (overdue.dog, "accept", 60),
        (overdue.leak, "accept", 60),
    ]


def test_an_accepted_case_is_late_on_its_resolve_deadline_and_a_resolved_one_not_at_all(
    world: World, overdue: Overdue
) -> None:
    police = world.user("police", "公安局").id
    fire = world.user("fire", "消防救援大队").id
    world.accept(overdue.leak, police)
    world.accept(overdue.fire, fire)
    world.resolve(overdue.fire, fire)
    world.clock.at = _at(9, 10, 1)
    assert [(c, d) for c, d, _s in _listed(world)] == [(overdue.dog, "accept"), (overdue.leak, "resolve")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"department": "综合执法局"}, ["dog"]),
        ({"township": "望洪镇"}, ["leak"]),
        ({"township": "杨和镇"}, ["fire", "dog"]),
        ({"category": "fire_lane_blocked"}, ["fire"]),
        ({"department": "公安局", "township": "杨和镇"}, []),
    ],
)
def test_the_list_is_filtered_by_department_township_and_category(
    world: World, overdue: Overdue, filters: dict[str, str], expected: list[str]
) -> None:
    world.clock.at = _at(3, 10, 1)
    assert [c for c, _d, _s in _listed(world, **filters)] == [getattr(overdue, name) for name in expected]


def test_a_department_may_be_named_by_its_id(world: World, overdue: Overdue) -> None:
    police = world.one(Department, Department.name == "公安局")
    assert police is not None
    world.clock.at = _at(3, 10, 1)
    assert [c for c, _d, _s in _listed(world, department=str(police.id))] == [overdue.leak]


def test_the_list_is_filtered_by_the_ladder_step_reached(world: World, overdue: Overdue) -> None:
    world.clock.at = _at(3, 12, 0)
    sweep(world.ctx)
    # fire: overdue Tuesday 10:30, supervision a working day later (Wednesday
    # 10:30); dog and leak: overdue since Wednesday 10:00:01 only.
    assert [c for c, _d, _s in _listed(world, step="supervision")] == [overdue.fire]
    assert [c for c, _d, _s in _listed(world, step="overdue")] == [overdue.dog, overdue.leak]
    assert _listed(world, step="leader") == []


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"category": "unknown"}, "unknown_category"),
        ({"step": "panic"}, "unknown_step"),
        ({"department": "不存在局"}, "unknown_department"),
        ({"township": "住建局"}, "unknown_department"),
    ],
)
def test_an_unknown_filter_is_refused(world: World, filters: dict[str, str], code: str) -> None:
    with pytest.raises(Invalid) as refused:
        overdue_cases(world.ctx, OverdueFilter(**filters), 1, 20)
    assert refused.value.code == code


def test_the_list_comes_page_by_page(world: World, overdue: Overdue) -> None:
    world.clock.at = _at(3, 10, 1)
    rows, total = overdue_cases(world.ctx, OverdueFilter(), 2, 2)
    assert total == 3 and [r.case.id for r in rows] == [overdue.leak]


# -- statistics -------------------------------------------------------------------------


def _units(world: World) -> dict[str, UnitStats]:
    departments, townships = unit_stats(world.ctx, *JUNE)
    return {u.name: u for u in departments + townships}


@dataclass(frozen=True)
class Month:
    on_time: int
    late: int
    silent: int
    returned: int
    reopened: int


@pytest.fixture
def month(world: World) -> Month:
    """Five 遛狗不拴绳 cases for 综合执法局, four in 杨和镇 and one in 望洪镇."""
    reporter = world.user("reporter").id
    handler = world.user("enforcement", "综合执法局").id
    ids = [world.file(reporter).id for _ in range(4)] + [world.file(reporter, community="望湖雅居").id]
    on_time, late, silent, returned, reopened = ids
    world.clock.at = _at(2, 11)
    world.accept(on_time, handler)
    world.accept(reopened, handler)
    return_case(world.ctx, returned, handler, Return(reason="不属本部门"))
    world.clock.at = _at(3, 11)  # an hour after the accept deadline
    world.accept(late, handler)
    world.clock.at = _at(4, 10)
    world.resolve(on_time, handler)
    world.resolve(reopened, handler)
    rate_case(world.ctx, on_time, reporter, Rating(score=5))
    reopen_case(world.ctx, reopened, reporter, Reopen(reason="问题依旧"))
    world.clock.at = _at(10, 10)  # a day after the resolve deadline
    world.resolve(late, handler)
    rate_case(world.ctx, late, reporter, Rating(score=2))
    world.clock.at = _at(10, 12)
    return Month(on_time, late, silent, returned, reopened)


def test_a_departments_figures_count_late_acceptance_and_silence_as_late(world: World, month: Month) -> None:
    unit = _units(world)["综合执法局"]
    assert unit.received == 5
    # on time, late, silent past its deadline, reopened (accepted on time); the returned one never accepted.
    assert (unit.accept_due, unit.accepted_on_time, unit.accepted_on_time_pct) == (4, 2, 50.0)
    # on time, late, silent past its deadline; the reopened one's new deadline has not come.
    assert (unit.resolve_due, unit.resolved_on_time, unit.resolved_on_time_pct) == (3, 1, 33.3)
    assert (unit.ratings, unit.satisfaction) == ([5, 2], 3.5)
    assert (unit.returned, unit.returned_pct, unit.reopened, unit.reopened_pct) == (1, 20.0, 1, 20.0)
    assert unit.overdue_now == 1


def test_a_township_counts_the_cases_in_its_communities(world: World, month: Month) -> None:
    units = _units(world)
    yanghe, wanghong = units["杨和镇"], units["望洪镇"]
    assert (yanghe.received, yanghe.accept_due, yanghe.accepted_on_time, yanghe.overdue_now) == (4, 3, 1, 1)
    assert (yanghe.returned, yanghe.reopened) == (0, 0)
    assert (wanghong.received, wanghong.accepted_on_time_pct, wanghong.resolved_on_time_pct) == (
        1,
        100.0,
        None,
    )
    assert (wanghong.reopened, wanghong.reopened_pct, wanghong.satisfaction) == (1, 100.0, None)


def test_every_unit_is_listed_with_zeros(world: World, month: Month) -> None:
    departments, townships = unit_stats(world.ctx, *JUNE)
    assert [u.name for u in departments] == [d.name for d in world.ctx.county.departments]
    assert [u.name for u in townships] == [t.name for t in world.ctx.county.townships]
    housing = _units(world)["住建局"]  # a co-handler of every case here, primary of none
    assert (housing.received, housing.accepted_on_time_pct, housing.satisfaction, housing.overdue_now) == (
        0,
        None,
        None,
        0,
    )


def test_only_cases_filed_within_the_period_are_counted(world: World) -> None:
    reporter = world.user("reporter").id
    world.clock.at = _at(1, 0) - timedelta(seconds=1)  # 31 May, 23:59:59 county time
    world.file(reporter)
    world.clock.at = _at(1, 0)
    world.file(reporter)
    world.clock.at = JUNE[1]
    world.file(reporter)
    assert _units(world)["综合执法局"].received == 1


def test_a_case_before_its_deadlines_counts_as_received_only(world: World) -> None:
    world.file(world.user("reporter").id)
    unit = _units(world)["综合执法局"]
    assert (unit.received, unit.accept_due, unit.resolve_due, unit.overdue_now) == (1, 0, 0, 0)
    assert unit.accepted_on_time_pct is None
