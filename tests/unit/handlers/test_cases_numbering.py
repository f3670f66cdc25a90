"""handlers/cases/numbering.py: public case numbers — the county's prefix,
the county's date, a daily sequence."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handlers.cases.numbering import next_case_number
from tests.unit.handlers.conftest import World, county_with


def test_numbers_follow_each_other_within_a_day(world: World) -> None:
    with world.db.uow() as uow:
        numbers = [next_case_number(uow.session, "YN", date(2026, 6, 3)) for _ in range(3)]
        uow.commit()
    assert numbers == ["YN20260603-0001", "YN20260603-0002", "YN20260603-0003"]


def test_each_day_starts_again_at_one(world: World) -> None:
    with world.db.uow() as uow:
        first = next_case_number(uow.session, "YN", date(2026, 6, 3))
        other_day = next_case_number(uow.session, "YN", date(2026, 6, 4))
        again = next_case_number(uow.session, "YN", date(2026, 6, 3))
    assert (first, other_day, again) == ("YN20260603-0001", "YN20260604-0001", "YN20260603-0002")


def test_a_number_is_spent_only_when_its_transaction_commits(world: World) -> None:
    with world.db.uow() as uow:
        next_case_number(uow.session, "YN", date(2026, 6, 3))
        uow.rollback()
    with world.db.uow() as uow:
        assert next_case_number(uow.session, "YN", date(2026, 6, 3)) == "YN20260603-0001"


def test_a_case_filed_after_county_midnight_takes_the_county_date(world: World) -> None:
    reporter = world.user("reporter").id
    # 2026-06-02 17:00 UTC is 01:00 on the 3rd in the county.
    world.clock.at = datetime(2026, 6, 2, 17, 0, tzinfo=UTC)
    assert world.file(reporter).number == "YN20260603-0001"
    assert world.file(reporter).number == "YN20260603-0002"


def test_the_prefix_is_the_countys(world: World) -> None:
    world.ctx.county = county_with(number_prefix="HL")
    assert world.file(world.user("reporter").id).number == "HL20260602-0001"
