"""handlers/supervision/rankings.py: periods read in county time, the
composite score by the county's weights, rankings of departments, townships
and property companies, and the cases overdue within a period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from handlers.errors import Invalid
from handlers.supervision.escalation import sweep
from handlers.supervision.rankings import composite, overdue_in_period, period, rankings
from handlers.supervision.reports import UnitStats
from tests.unit.handlers.conftest import World, county

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEIGHTS = {
    "accept_on_time": 0.25,
    "resolve_on_time": 0.35,
    "satisfaction": 0.25,
    "returned": -0.075,
    "reopened": -0.075,
}


@pytest.mark.parametrize(
    ("text", "title", "start", "end"),
    [
        ("2026-06", "2026年6月", date(2026, 6, 1), date(2026, 7, 1)),
        ("2026-12", "2026年12月", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-Q2", "2026年第二季度", date(2026, 4, 1), date(2026, 7, 1)),
        ("2026-Q4", "2026年第四季度", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026", "2026年", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_a_period_is_a_month_quarter_or_year_in_county_time(
    text: str, title: str, start: date, end: date
) -> None:
    span = period(text, SHANGHAI)
    assert (span.label, span.title) == (text, title)
    assert (span.start, span.end) == (
        datetime.combine(start, time(0), tzinfo=SHANGHAI),
        datetime.combine(end, time(0), tzinfo=SHANGHAI),
    )
    assert span.start.astimezone(UTC).hour == 16  # the county's midnight


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-Q5", "2026-6", "26-06", "1999", "2101-01", "", "２０２６"]
)
def test_anything_else_is_not_a_period(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        period(text, SHANGHAI)
    assert refused.value.code == "invalid_period"


def _unit(**figures: object) -> UnitStats:
    unit = UnitStats(1, "综合执法局", "department")
    for name, value in figures.items():
        setattr(unit, name, value)
    return unit


def test_the_composite_score_by_hand() -> None:
    unit = _unit(
        received=5,
        accept_due=5,
        accepted_on_time=4,
        resolve_due=4,
        resolved_on_time=3,
        ratings=[4, 4],
        returned=1,
    )
    # 0.25 × 80 + 0.35 × 75 + 0.25 × (4 / 5 × 100) − 0.075 × 20 − 0.075 × 0
    assert composite(unit, WEIGHTS) == 64.75
    assert composite(unit, dict(county().ranking_weights)) == 64.75


def test_reopened_cases_weigh_against_a_unit_like_returned_ones() -> None:
    returned = _unit(received=5, returned=1)
    reopened = _unit(received=5, reopened=1)
    # Nothing due and nothing rated counts as full marks: 85 − 0.075 × 20.
    assert composite(returned, WEIGHTS) == composite(reopened, WEIGHTS) == 83.5


def test_a_unit_that_received_nothing_has_no_score() -> None:
    assert composite(_unit(), WEIGHTS) is None


def test_the_weights_are_the_countys() -> None:
    unit = _unit(received=2, accept_due=2, accepted_on_time=1)
    assert composite(unit, {"accept_on_time": 1.0}) == 50.0
    assert composite(unit, {"satisfaction": 1.0}) == 100.0


def _month(world: World) -> None:
    """综合执法局 accepts on time; 公安局 lets its accept deadline pass."""
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    for _ in range(2):
        world.accept(world.file(reporter).id, enforcement)
    world.file(reporter, "owner_data_leaked", "望湖雅居")
    world.clock.at = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)


def test_units_are_ranked_by_score_and_those_with_nothing_come_last(world: World) -> None:
    _month(world)
    ranked = rankings(world.ctx, period("2026-06", SHANGHAI))
    assert ranked.weights == dict(world.ctx.county.ranking_weights)
    departments = [(r.rank, r.stats.name, r.score) for r in ranked.departments]
    # 综合执法局: 0.25 × 100 (accepted on time) + 0.35 × 0 (resolve deadline passed)
    # + 0.25 × 100 (nothing rated); 公安局: only the unrated satisfaction.
    assert departments[:2] == [(1, "综合执法局", 50.0), (2, "公安局", 25.0)]
    assert [d[2] for d in departments[2:]] == [None] * 7
    assert [d[0] for d in departments] == list(range(1, 10))
    townships = [(r.stats.name, r.score) for r in ranked.townships]
    assert townships[:2] == [("杨和镇", 50.0), ("望洪镇", 25.0)]
    assert len(townships) == 7


def test_equal_scores_rank_the_busier_unit_first_then_by_name(world: World) -> None:
    reporter = world.user("reporter").id
    world.file(reporter, "owner_data_leaked")  # 公安局, once
    world.file(reporter)  # 综合执法局, twice
    world.file(reporter)
    ranked = rankings(world.ctx, period("2026-06", SHANGHAI))
    assert [(r.stats.name, r.score) for r in ranked.departments[:2]] == [
        ("综合执法局", 85.0),
        ("公安局", 85.0),
    ]
    nothing = [r.stats.name for r in ranked.departments[2:]]
    assert nothing == sorted(nothing)


def _confirm(world: World, category: str, community: str = "幸福里小区") -> None:
    housing = world.user(f"housing-{category}-{community}", "住建局").id
    case_id = world.file(world.user(f"r-{category}-{community}").id, category, community).id
    world.accept(case_id, housing)
    world.resolve(case_id, housing, violation="confirmed")


def test_companies_rank_by_ladder_step_then_violations_in_the_period(world: World) -> None:
    _confirm(world, "irregular_contract")  # 宁苑
    _confirm(world, "utilities_cut_for_fees")  # 宁苑, step 2
    _confirm(world, "irregular_contract", "望湖雅居")  # 河畔, step 1
    ranked = rankings(world.ctx, period("2026-06", SHANGHAI)).companies
    assert [(c.rank, c.name, c.violations, c.ladder_step, c.blacklisted) for c in ranked] == [
        (1, "宁苑物业服务有限公司", 2, 2, False),
        (2, "河畔物业管理有限公司", 1, 1, False),
        (3, "嘉和物业服务有限公司", 0, 0, False),
        (4, "安泰物业服务有限公司", 0, 0, False),
    ]


def test_a_past_periods_company_standing_is_as_it_was_at_its_end(world: World) -> None:
    _confirm(world, "irregular_contract")
    may = {
        c.name: (c.violations, c.ladder_step)
        for c in rankings(world.ctx, period("2026-05", SHANGHAI)).companies
    }
    assert may["宁苑物业服务有限公司"] == (0, 0)
    world.clock.advance(days=40)
    june = {
        c.name: (c.violations, c.ladder_step)
        for c in rankings(world.ctx, period("2026-06", SHANGHAI)).companies
    }
    assert june["宁苑物业服务有限公司"] == (1, 1)


def test_a_blacklisted_company_is_marked(world: World) -> None:
    for category in (
        "irregular_contract",
        "utilities_cut_for_fees",
        "service_abandoned",
        "common_parts_exploited",
    ):
        _confirm(world, category)
    top = rankings(world.ctx, period("2026", SHANGHAI)).companies[0]
    assert (top.name, top.ladder_step, top.blacklisted) == ("宁苑物业服务有限公司", 4, True)


def test_the_bulletin_lists_cases_that_missed_a_deadline_within_the_period(world: World) -> None:
    reporter = world.user("reporter").id
    enforcement = world.user("enforcement", "综合执法局").id
    missed = world.file(reporter).id  # accept deadline Wednesday 3 June 10:00, missed
    warned = world.file(reporter).id
    world.accept(warned, enforcement)  # only its 80 % warning will fire by the 8th
    world.clock.at = datetime(2026, 6, 8, 3, 0, tzinfo=UTC)
    sweep(world.ctx)
    june = overdue_in_period(world.ctx, period("2026-06", SHANGHAI))
    assert [(r.case.id, r.deadline) for r in june] == [(missed, datetime(2026, 6, 3, 2, 0, tzinfo=UTC))]
    assert june[0].case.primary_department is not None
    assert june[0].case.primary_department.name == "综合执法局"
    assert overdue_in_period(world.ctx, period("2026-05", SHANGHAI)) == []
