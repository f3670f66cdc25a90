"""Periods supervisors report on: a month (``2025-06``), a quarter
(``2025-Q2``) or a year (``2025``), and date ranges; read in the county's
time zone. Years run 2000–2100: anything else is not a period of this product."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FIRST_YEAR, LAST_YEAR = 2000, 2100
# The shapes, also published as the API's patterns: ASCII digits, years 2000–2100.
_YEAR = r"(20[0-9]{2}|2100)"
PERIOD_PATTERN = _YEAR + r"(?:-(0[1-9]|1[0-2])|-Q([1-4]))?"
DATE_PATTERN = _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_PERIOD = re.compile(PERIOD_PATTERN)
_DATE = re.compile(DATE_PATTERN)


@dataclass(frozen=True)
class Span:
    label: str  # as asked: 2025-06
    title: str  # as printed: 2025年6月
    start: datetime
    end: datetime  # exclusive


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return year


def span_of(text: str, tz: ZoneInfo) -> Span:
    """A month, quarter or year; ValueError for anything else."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a period: {text!r}")
    year = _year(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        first, after = date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)
        title = f"{year}年{month}月"
    elif match.group(3):
        quarter = int(match.group(3))
        first, after = date(year, 3 * quarter - 2, 1), date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        title = f"{year}年第{'一二三四'[quarter - 1]}季度"
    else:
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
        title = f"{year}年"
    return Span(
        text.strip(),
        title,
        datetime.combine(first, time(0), tzinfo=tz),
        datetime.combine(after, time(0), tzinfo=tz),
    )


def parse_day(text: str) -> date:
    """``2026-06-01``, ASCII digits, a real day in 2000–2100; ValueError otherwise."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    return date(_year(match.group(1)), int(match.group(2)), int(match.group(3)))


def date_range(
    first: date | None, last: date | None, tz: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """From the start of ``first`` (default: this month's first day) to the end
    of ``last`` (default: now), county time; ValueError if it ends before it starts."""
    start_day = first or now.astimezone(tz).date().replace(day=1)
    start = datetime.combine(start_day, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz) if last else now
    if end <= start:
        raise ValueError("the range ends before it starts")
    return start, end
