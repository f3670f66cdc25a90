"""The nine-prohibitions ladder counts as the county's version says: distinct
clauses cumulatively by default (seed 003), or confirmed cases within a window."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from app.models import Community, LadderRecord
from handlers.cases import handling
from handlers.cases.photos import upload_photo
from handlers.cases.submit import NewCase, submit_case
from routing import CountyConfig
from tests.unit.handlers.conftest import World


def _counting(world: World, count_by: str, window_days: int | None) -> None:
    county: CountyConfig = world.ctx.county
    ladder = replace(county.violation_ladder, count_by=count_by, window_days=window_days)
    world.ctx = replace(world.ctx, county=replace(county, violation_ladder=ladder))


def _confirm(world: World, category: str) -> int:
    reporter = world.user(f"owner-{category}")
    housing = world.user(f"housing-{category}", "住建局")
    with world.db.uow() as uow:
        here = uow.session.scalar(select(Community.id).where(Community.name == "幸福里小区"))
    assert here is not None
    case, _ = submit_case(
        world.ctx,
        reporter.id,
        NewCase(category=category, community_id=here, description="物业违规，请核查处理"),
    )
    handling.accept_case(world.ctx, case.id, housing.id)
    photo = upload_photo(world.ctx, housing.id, b"JPEG evidence " + category.encode()).id
    cmd = handling.Resolve(note="核查属实", photo_ids=[photo], violation="confirmed")
    handling.resolve_case(world.ctx, case.id, housing.id, cmd)
    return case.id


def _steps(world: World) -> list[int]:
    with world.db.uow() as uow:
        return list(uow.session.scalars(select(LadderRecord.step).where(LadderRecord.withdrawn_at.is_(None))))


def test_by_default_two_cases_under_one_clause_stay_at_step_one(world: World) -> None:
    _confirm(world, "unauthorised_price_rise")
    _confirm(world, "irregular_contract")  # clause 7 too
    assert _steps(world) == [1]
    world.clock.advance(days=800)  # no window: seed 003 counts cumulatively
    _confirm(world, "utilities_cut_for_fees")
    assert _steps(world) == [1, 2]


def test_a_county_may_count_cases_within_a_window(world: World) -> None:
    _counting(world, "case", 30)
    _confirm(world, "unauthorised_price_rise")
    _confirm(world, "irregular_contract")
    assert _steps(world) == [1, 2]
    world.clock.advance(days=40)  # both have left the window, and the steps they reached with them
    _confirm(world, "utilities_cut_for_fees")
    assert _steps(world) == [1, 2, 1]  # one case inside the window: the ladder starts again
