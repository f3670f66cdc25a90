"""Working-time deadlines on real dates of the official calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import Duration, WorkingCalendar, parse_duration, parse_period

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()  # 08:30-12:00, 14:00-17:30: a working day is 7 hours


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def due(start: datetime, text: str, calendar: WorkingCalendar = CAL) -> datetime:
    return calendar.add(start, parse_duration(text)).astimezone(SH)


def test_calendar_units_run_around_the_clock() -> None:
    assert due(local(2025, 9, 30, 23, 50), "30m") == local(2025, 10, 1, 0, 20)
    assert due(local(2025, 9, 30, 16, 0), "24h") == local(2025, 10, 1, 16, 0)


def test_a_case_filed_on_the_eve_of_national_day_2025_waits_for_the_holiday_to_end() -> None:
    # 2025-10-01..08 are holidays; 2025-10-09 is the first working day after.
    assert due(local(2025, 9, 30, 16, 0), "1wd") == local(2025, 10, 9, 16, 0)
    # 5 working days: Oct 9, 10, 11 (Saturday, 调休 working day), 13, 14.
    assert due(local(2025, 9, 30, 16, 0), "5wd") == local(2025, 10, 14, 16, 0)


def test_an_adjusted_working_sunday_counts() -> None:
    # 2025-09-28 is a Sunday worked in exchange for the National Day holiday.
    assert CAL.is_working_day(date(2025, 9, 28))
    assert due(local(2025, 9, 28, 9, 0), "2wh") == local(2025, 9, 28, 11, 0)
    assert due(local(2025, 9, 27, 10, 0), "1wd") == local(2025, 9, 28, 17, 30)


def test_a_friday_evening_report_is_due_at_the_end_of_the_next_working_day() -> None:
    # Friday 2025-06-13 20:00 -> counts from Monday 08:30 -> due Monday 17:30.
    assert due(local(2025, 6, 13, 20, 0), "1wd") == local(2025, 6, 16, 17, 30)
    assert due(local(2025, 6, 13, 10, 0), "1wd") == local(2025, 6, 16, 10, 0)


def test_the_lunch_break_is_not_working_time() -> None:
    assert due(local(2025, 6, 16, 11, 0), "2wh") == local(2025, 6, 16, 15, 0)


def test_spring_festival_2026_is_off() -> None:
    # 2026-02-15..23 off; 2026-02-14 (Saturday) and 2026-02-28 (Saturday) are worked.
    assert not CAL.is_working_day(date(2026, 2, 17))
    assert CAL.is_working_day(date(2026, 2, 14))
    assert due(local(2026, 2, 14, 17, 0), "1wd") == local(2026, 2, 24, 17, 0)


def test_a_year_the_package_does_not_know_falls_back_to_monday_to_friday() -> None:
    assert not CAL.knows_year(2031)
    assert CAL.is_working_day(date(2031, 1, 1))  # a Wednesday: New Year unknown here
    assert not CAL.is_working_day(date(2031, 1, 4))  # Saturday
    assert due(local(2031, 1, 3, 10, 0), "1wd") == local(2031, 1, 6, 10, 0)


def test_holidays_listed_in_the_configuration_come_first() -> None:
    calendar = WorkingCalendar(
        holidays=frozenset({date(2031, 1, 1)}),
        workdays=frozenset({date(2031, 1, 4)}),
        configured_years=frozenset({2031}),
    )
    assert not calendar.is_working_day(date(2031, 1, 1))
    assert calendar.is_working_day(date(2031, 1, 4))
    assert calendar.knows_year(2031)


def test_working_seconds_between_counts_only_working_periods() -> None:
    assert CAL.working_seconds_between(local(2025, 6, 13, 16, 0), local(2025, 6, 16, 9, 30)) == 2.5 * 3600


def test_parse_period_and_duration_reject_nonsense() -> None:
    for bad in ("", "5", "5w", "-1d", "0m", "1.5h", 7):
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
    assert parse_duration("30m") == Duration(30, "m")
    try:
        parse_period("12:00-08:00")
    except ValueError:
        pass
    else:
        raise AssertionError("reversed period accepted")


starts = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
working = st.builds(Duration, st.integers(min_value=1, max_value=40), st.sampled_from(["wh", "wd"]))


def _inside_non_working_time(moment: datetime) -> bool:
    # The end of a working period is a valid deadline; anything strictly
    # outside every period is not.
    local_time = moment.astimezone(SH)
    if CAL.is_working_time(moment):
        return False
    return not any(
        local_time == datetime.combine(local_time.date(), p.end, tzinfo=SH) for p in CAL.periods
    ) or not CAL.is_working_day(local_time.date())


@settings(max_examples=150, deadline=None)
@given(start=starts, duration=working)
def test_a_working_deadline_never_falls_in_non_working_time(start: datetime, duration: Duration) -> None:
    deadline = CAL.add(start, duration)
    assert deadline > start
    assert not _inside_non_working_time(deadline)


@settings(max_examples=150, deadline=None)
@given(start=starts, duration=working, later=st.integers(min_value=0, max_value=7 * 24 * 3600))
def test_a_later_start_never_gives_an_earlier_deadline(
    start: datetime, duration: Duration, later: int
) -> None:
    assert CAL.add(start + timedelta(seconds=later), duration) >= CAL.add(start, duration)


@settings(max_examples=100, deadline=None)
@given(start=starts, hours=st.integers(min_value=1, max_value=60))
def test_adding_working_hours_adds_exactly_that_much_working_time(start: datetime, hours: int) -> None:
    deadline = CAL.add(start, Duration(hours, "wh"))
    assert abs(CAL.working_seconds_between(start, deadline) - hours * 3600) < 1e-3
