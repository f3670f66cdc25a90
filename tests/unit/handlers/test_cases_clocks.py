"""handlers/cases/clocks.py: deadlines from the category's durations on the
county's calendar, the ladder's steps of each running deadline, and when the
sweep must next look at a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import Case
from handlers.cases.clocks import due_and_next, min_span, plan, rating_deadline, schedule
from handlers.supervision.actions import decide_extension
from routing import Duration
from tests.unit.handlers.conftest import START, World, county, county_with


def _utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in June 2026, given in county time (UTC+8)."""
    return datetime(2026, 6, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


def _plan(world: World, case: Case) -> list[tuple[str, str, datetime]]:
    return [(d.deadline_kind, d.step, d.due_at) for d in plan(case, world.ctx.county)]


def test_a_working_time_case_gets_its_ladder_in_due_order(world: World) -> None:
    # Filed Tuesday 10:00: accept by Wednesday 10:00 (1wd), resolve by next Tuesday 10:00 (5wd).
    case = world.file(world.user("reporter").id, "dog_unleashed")
    assert _plan(world, case) == [
        ("accept", "overdue", _utc(3, 10, 0, 1)),
        ("accept", "supervision", _utc(4, 10)),
        ("accept", "leader", _utc(8, 10)),
        # 80 % of 35 working hours is 28: Monday 10:00.
        ("resolve", "warning", _utc(8, 10)),
        ("resolve", "overdue", _utc(9, 10, 0, 1)),
        ("resolve", "supervision", _utc(10, 10)),
        ("resolve", "leader", _utc(12, 10)),
    ]
    assert case.next_escalation_at == _utc(3, 10, 0, 1)
    assert case.due_at == case.accept_due_at


def test_an_urgent_case_warns_at_80_percent_of_calendar_time(world: World) -> None:
    case = world.file(world.user("reporter").id, "fire_lane_blocked")
    steps = _plan(world, case)
    assert ("resolve", "warning", START + timedelta(hours=24 * 0.8)) in steps
    assert ("accept", "overdue", START + timedelta(minutes=30, seconds=1)) in steps
    # "Overdue by one working day" is working time even for an urgent case.
    assert ("accept", "supervision", _utc(3, 10, 30)) in steps


def test_a_case_filed_on_friday_evening_counts_from_monday_morning(world: World) -> None:
    world.clock.at = _utc(5, 18)
    case = world.file(world.user("reporter").id, "dog_unleashed")
    assert case.accept_due_at == _utc(8, 17, 30)


def test_an_official_holiday_is_not_working_time(world: World) -> None:
    # Thursday 2026-06-18; Friday the 19th is the Dragon Boat Festival.
    world.clock.at = _utc(18, 10)
    case = world.file(world.user("reporter").id, "dog_unleashed")
    assert case.accept_due_at == _utc(22, 10)


def test_accepting_ends_the_accept_deadline_and_its_steps(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    case_id = world.file(reporter).id
    world.accept(case_id, primary)
    case = world.case(case_id)
    assert {kind for kind, _step, _at in _plan(world, case)} == {"resolve"}
    assert case.due_at == case.resolve_due_at
    assert case.next_escalation_at == _utc(8, 10)


def test_steps_already_fired_are_not_scheduled_again(world: World) -> None:
    case = world.file(world.user("reporter").id)
    assert case.accept_due_at is not None
    fired = {("accept", case.accept_due_at, "overdue"), ("accept", case.accept_due_at, "supervision")}
    schedule(case, world.ctx.county, fired=fired)
    assert case.next_escalation_at == _utc(8, 10)
    everything = {(d.deadline_kind, d.deadline_at, d.step) for d in plan(case, world.ctx.county)}
    schedule(case, world.ctx.county, fired=everything)
    assert case.next_escalation_at is None


def test_a_finished_case_has_no_clock_running(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    case_id = world.file(reporter).id
    world.accept(case_id, primary)
    world.resolve(case_id, primary)
    case = world.case(case_id)
    assert _plan(world, case) == []
    assert (case.due_at, case.next_escalation_at) == (None, None)


def test_an_approved_extension_moves_the_resolve_deadline_and_rearms_its_ladder(world: World) -> None:
    from handlers.cases.handling import ExtensionRequest, request_extension

    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    office = world.user("office", "住建局", "supervisor").id
    case_id = world.file(reporter).id
    world.accept(case_id, primary)
    extension = request_extension(
        world.ctx, case_id, primary, ExtensionRequest(reason="需要协调", until="2026-06-19T17:00:00")
    )
    decide_extension(world.ctx, extension.id, office, approve=True)
    case = world.case(case_id)
    assert case.resolve_due_at == case.due_at == _utc(19, 17)
    steps = _plan(world, case)
    assert [(k, s) for k, s, _at in steps] == [
        ("resolve", "warning"),
        ("resolve", "overdue"),
        ("resolve", "supervision"),
        ("resolve", "leader"),
    ]
    # The window still starts at dispatch: 89.5 working hours to the new
    # deadline (the 19th is a holiday), 80 % of them end Tuesday the 16th 11:36.
    assert steps[0][2] == _utc(16, 11, 36)
    assert steps[1][2] == _utc(19, 17, 0, 1)
    assert case.next_escalation_at == steps[0][2]


def test_an_extension_approved_before_acceptance_keeps_the_accept_deadline_first(world: World) -> None:
    from handlers.cases.handling import ExtensionRequest, request_extension

    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    office = world.user("office", "住建局", "supervisor").id
    case_id = world.file(reporter).id
    extension = request_extension(
        world.ctx, case_id, primary, ExtensionRequest(reason="需要协调", until="2026-06-30")
    )
    decide_extension(world.ctx, extension.id, office, approve=True)
    case = world.case(case_id)
    assert case.status == "dispatched"
    assert case.due_at == case.accept_due_at == _utc(3, 10)
    assert case.resolve_due_at == _utc(30, 23, 59, 59)


def test_the_rating_deadline_runs_from_the_resolution_on_the_countys_window(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    case_id = world.file(reporter).id
    world.accept(case_id, primary)
    world.resolve(case_id, primary)
    case = world.case(case_id)
    assert rating_deadline(case, world.ctx.county) == START + timedelta(days=7)
    world.ctx.county = county_with(rating_window="3wd")
    assert rating_deadline(case, world.ctx.county) == _utc(5, 10)


def test_min_span_is_a_lower_bound_of_the_calendar_time_a_duration_takes(world: World) -> None:
    county = world.ctx.county
    assert min_span(county, Duration(7, "d")) == timedelta(days=7)
    assert min_span(county, Duration(90, "m")) == timedelta(minutes=90)
    # A working day is the configured periods: 3.5 h + 3.5 h.
    assert min_span(county, Duration(2, "wd")) == timedelta(hours=14)
    assert min_span(county, Duration(3, "wh")) == timedelta(hours=3)
    start = _utc(5, 10)
    assert county.calendar.add(start, Duration(2, "wd")) - start >= min_span(county, Duration(2, "wd"))


@dataclass(frozen=True)
class _Clocks:
    category: str
    status: str
    accept_due_at: datetime | None
    resolve_started_at: datetime | None
    resolve_due_at: datetime | None


_COUNTY = county()
_CATEGORIES = sorted(_COUNTY.categories)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    category=st.sampled_from(_CATEGORIES),
    status=st.sampled_from(["dispatched", "accepted", "reopened", "resolved"]),
    filed_minutes=st.integers(0, 60 * 24 * 40),
    now_minutes=st.integers(-60 * 24, 60 * 24 * 60),
    fired_bits=st.integers(0, 2**16 - 1),
)
def test_the_sweeps_shortcut_answers_what_the_whole_plan_answers(
    category: str, status: str, filed_minutes: int, now_minutes: int, fired_bits: int
) -> None:
    """``due_and_next`` skips steps that cannot be due yet; whatever the case,
    the moment and the steps already fired, it answers what ``plan`` gives:
    the unfired steps due by now, and the earliest unfired one after."""
    started = START + timedelta(minutes=filed_minutes)
    kind = _COUNTY.categories[category]
    accept = started + timedelta(hours=8 * (1 + filed_minutes % 3))
    resolve = started + timedelta(days=1 + filed_minutes % 9)
    case = _Clocks(category, status, accept if kind.accept_within else None, started, resolve)
    now = started + timedelta(minutes=now_minutes)
    whole = plan(case, _COUNTY)
    fired = {(d.deadline_kind, d.deadline_at, d.step) for i, d in enumerate(whole) if fired_bits >> i & 1}
    unfired = [d for d in whole if (d.deadline_kind, d.deadline_at, d.step) not in fired]
    due, nxt = due_and_next(case, _COUNTY, now, fired)
    assert due == [d for d in unfired if d.due_at <= now]
    assert nxt == min((d.due_at for d in unfired if d.due_at > now), default=None)
