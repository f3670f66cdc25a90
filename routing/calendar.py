"""The working calendar: official Chinese holidays and adjusted working days
(调休), working hours, the county's time zone.

The ``chinese_calendar`` package knows a year once the State Council has
published its holidays. The county's file may list a year itself; a year
known to neither falls back to Monday–Friday with a warning, never an error.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from routing.durations import Duration

log = logging.getLogger(__name__)

# How far a working-time addition may search before the configuration is
# declared impossible (no working day at all in ten years).
_MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    start: time
    end: time

    @property
    def seconds(self) -> int:
        return (self.end.hour * 3600 + self.end.minute * 60) - (
            self.start.hour * 3600 + self.start.minute * 60
        )


@dataclass
class WorkingCalendar:
    timezone: str = "Asia/Shanghai"
    periods: tuple[Period, ...] = (Period(time(8, 30), time(12, 0)), Period(time(14, 0), time(17, 30)))
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    # Years the configuration itself lists (holidays or workdays).
    configured_years: frozenset[int] = frozenset()
    _warned: set[int] = field(default_factory=set, repr=False)
    _days: dict[date, bool] = field(default_factory=dict, repr=False)
    # Each day's working periods as aware datetimes, computed once per day.
    _spans: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict, repr=False)
    _spans_int: dict[date, tuple[list[tuple[int, int]], int]] = field(default_factory=dict, repr=False)
    # The running count of working time: _cum[i] is the working microseconds
    # from the start of _first to the start of _first + i days.
    _first: date | None = field(default=None, repr=False)
    _cum: list[int] = field(default_factory=list, repr=False)
    # The last moment placed on the count: (moment, the count's first day then,
    # its place); a case's start and deadline are placed for several steps.
    _placed: tuple[datetime | None, date | None, tuple[int, int]] = field(
        default=(None, None, (0, 0)), repr=False
    )

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        self._day_seconds = sum(p.seconds for p in self.periods)

    @property
    def day_seconds(self) -> int:
        return self._day_seconds

    def knows_year(self, year: int) -> bool:
        if year in self.configured_years:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def unknown_years(self, years: Iterable[int]) -> list[int]:
        return [y for y in years if not self.knows_year(y)]

    def is_working_day(self, day: date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        if day.year not in self.configured_years:
            try:
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                if day.year not in self._warned:
                    self._warned.add(day.year)
                    log.warning(
                        "no official holiday calendar for %s: Monday to Friday count as working days; "
                        "upgrade chinese-calendar or list the year in the county's configuration",
                        day.year,
                    )
        return day.weekday() < 5

    def _periods_of(self, day: date) -> list[tuple[datetime, datetime]]:
        known = self._spans.get(day)
        if known is None:
            known = self._spans[day] = self._day_periods(day)
        return known

    def _day_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, p.start, tzinfo=self.tz), datetime.combine(day, p.end, tzinfo=self.tz))
            for p in self.periods
        ]

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(a <= local < b for a, b in self._periods_of(local.date()))

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline ``duration`` after ``start``, in UTC.

        ``wh`` adds working hours; ``wd`` adds whole working days of working
        time (a day being the configured periods' total), so a case filed at
        10:00 on a Friday with 1wd is due at 10:00 on the next working day. A
        start outside working time counts from the next working moment; a
        working-time result never falls inside non-working time.
        """
        _require_aware(start)
        if not duration.is_working:
            return (start + duration.calendar_delta()).astimezone(UTC)
        seconds = duration.amount * (3600 if duration.unit == "wh" else self.day_seconds)
        return self.add_working_seconds(start, seconds)

    def _spans_us(self, day: date) -> tuple[list[tuple[int, int]], int]:
        """The day's working periods as microseconds since the epoch (whole
        numbers: the arithmetic below is exact and cheap) and their total."""
        known = self._spans_int.get(day)
        if known is None:
            spans = [(_us(a), _us(b)) for a, b in self._periods_of(day)]
            known = self._spans_int[day] = (spans, sum(b - a for a, b in spans))
        return known

    def _index(self, day: date, ahead: int = 0) -> int:
        """The day's place in the running count of working time, which is
        extended (``ahead`` days past it too) to cover it."""
        if self._first is None or day < self._first:
            # Start (again) a month before: earlier days are asked rarely.
            self._first = day - timedelta(days=31)
            self._cum = [0]
        i = (day - self._first).days
        while len(self._cum) <= i + ahead + 1:
            known = len(self._cum) - 1
            self._cum.append(self._cum[-1] + self._spans_us(self._first + timedelta(days=known))[1])
        return i

    def _worked(self, moment: int, day: date) -> tuple[int, int]:
        """(day's index, working microseconds from the count's first day to
        ``moment``, which falls on ``day``)."""
        i = self._index(day)
        done = self._cum[i]
        for begin, end in self._spans_us(day)[0]:
            if moment <= begin:
                break
            done += min(moment, end) - begin
        return i, done

    def _place(self, moment: datetime) -> tuple[int, int]:
        """``_worked`` of a moment, the last one kept: the same moment placed
        again (while the count keeps its first day) costs a comparison."""
        known, first, place = self._placed
        if known is moment and first == self._first:
            return place
        place = self._worked(_us(moment), moment.astimezone(self.tz).date())
        self._placed = (moment, self._first, place)  # one assignment: a thread sees all or nothing
        return place

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        _require_aware(start)
        if seconds <= 0:
            return start.astimezone(UTC)
        # Whole seconds (whole working days and hours) need no rounding.
        remaining = seconds * 1_000_000 if type(seconds) is int else timedelta(seconds=seconds) // _MICRO
        i, done = self._place(start)
        target = done + remaining
        first = self._first
        assert first is not None  # set by _worked
        cum = self._cum
        # The first day whose working time reaches the target: a bisection of
        # the running count, extended as far as it must go.
        while cum[-1] < target:
            if len(cum) - 1 - i >= _MAX_DAYS:
                raise ValueError("no working time found within ten years: check the working calendar")
            self._index(first + timedelta(days=len(cum) - 1), ahead=64)
        k = bisect_left(cum, target, lo=i + 1)
        if k - 1 - i >= _MAX_DAYS:
            raise ValueError("no working time found within ten years: check the working calendar")
        day = first + timedelta(days=k - 1)
        running = cum[k - 1]
        for begin, end in self._spans_us(day)[0]:
            if running + (end - begin) >= target:
                return _EPOCH + timedelta(microseconds=begin + (target - running))
            running += end - begin
        raise AssertionError("the running count of working time disagrees with the day's periods")

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return 0.0
        _, a = self._place(start)  # the count begins at or before the start
        _, b = self._worked(_us(end), end.astimezone(self.tz).date())
        return (b - a) / 1_000_000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_DAY = timedelta(days=1)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the working calendar needs aware times")


def parse_period(text: str) -> Period:
    """``"08:30-12:00"`` -> Period."""
    try:
        a, b = (part.strip() for part in text.split("-"))
        start, end = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError as exc:
        raise ValueError(f"工作时段 {text!r} 格式不正确，应为 HH:MM-HH:MM") from exc
    if end <= start:
        raise ValueError(f"工作时段 {text!r} 的结束时间应晚于开始时间")
    return Period(start, end)
