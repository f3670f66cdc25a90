"""handlers/cases/closing.py: resolved cases close by themselves once the
rating window has run out with no answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.cases import closing
from handlers.cases.resident import Rating, rate_case
from tests.unit.handlers.conftest import World, county_with


def _resolved(world: World, reporter: int, primary: int) -> int:
    case_id = world.file(reporter).id
    world.accept(case_id, primary)
    world.resolve(case_id, primary)
    return case_id


def test_a_resolved_case_closes_when_the_rating_window_ends(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    case_id = _resolved(world, reporter, primary)
    world.clock.advance(days=7, seconds=-1)
    assert closing.close_expired(world.ctx) == 0
    assert world.case(case_id).status == "resolved"
    world.clock.advance(seconds=1)
    assert closing.close_expired(world.ctx) == 1
    case = world.case(case_id)
    assert (case.status, case.closed_at, case.rating) == ("closed", world.clock.now(), None)
    closed = world.events(case_id, "closed")[0]
    assert (closed.actor_id, closed.note) == (None, "评价期已过，工单自动关闭")


def test_a_second_run_closes_nothing_more(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    case_id = _resolved(world, reporter, primary)
    world.clock.advance(days=8)
    assert closing.close_expired(world.ctx) == 1
    assert closing.close_expired(world.ctx) == 0
    assert world.kinds(case_id).count("closed") == 1


def test_only_resolved_cases_are_closed(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    waiting = world.file(reporter).id
    accepted = world.file(reporter).id
    world.accept(accepted, primary)
    rated = _resolved(world, reporter, primary)
    rate_case(world.ctx, rated, reporter, Rating(score=5))
    world.clock.advance(days=30)
    assert closing.close_expired(world.ctx) == 0
    assert [world.case(c).status for c in (waiting, accepted, rated)] == ["dispatched", "accepted", "closed"]
    assert world.kinds(rated).count("closed") == 1


def test_a_working_day_window_closes_on_working_time(world: World) -> None:
    world.ctx.county = county_with(rating_window="2wd")
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    # Resolved on Friday 2026-06-05 at 10:00 county time: 2wd runs to Tuesday 10:00.
    world.clock.at = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)
    case_id = _resolved(world, reporter, primary)
    world.clock.at = datetime(2026, 6, 8, 10, 0, tzinfo=UTC)  # Monday 18:00
    assert closing.close_expired(world.ctx) == 0
    world.clock.at = datetime(2026, 6, 9, 2, 0, tzinfo=UTC)  # Tuesday 10:00
    assert closing.close_expired(world.ctx) == 1
    assert world.case(case_id).status == "closed"


def test_more_cases_than_a_batch_are_all_closed_in_one_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(closing, "BATCH", 2)
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    cases = []
    for _ in range(5):
        cases.append(_resolved(world, reporter, primary))
        world.clock.advance(minutes=1)
    world.clock.advance(days=7)
    assert closing.close_expired(world.ctx) == 5
    assert {world.case(c).status for c in cases} == {"closed"}


def test_cases_whose_window_has_not_run_out_stay_open_behind_those_that_have(world: World) -> None:
    reporter, primary = world.user("reporter").id, world.user("enforcement", "综合执法局").id
    early = _resolved(world, reporter, primary)
    world.clock.advance(days=3)
    late = _resolved(world, reporter, primary)
    world.clock.advance(days=4, seconds=1)
    assert closing.close_expired(world.ctx) == 1
    assert (world.case(early).status, world.case(late).status) == ("closed", "resolved")
    world.clock.advance(days=3)
    assert closing.close_expired(world.ctx) == 1
    resolved_at = world.case(late).resolved_at
    assert resolved_at is not None and world.clock.now() - resolved_at >= timedelta(days=7)
