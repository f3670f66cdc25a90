"""Durations with a unit: ``s m h d`` on the calendar, ``wh wd`` on working time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

CALENDAR_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WORKING_UNITS = ("wh", "wd")
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|m|h|d|wh|wd)\s*$")


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str

    @property
    def is_working(self) -> bool:
        return self.unit in WORKING_UNITS

    def calendar_delta(self) -> timedelta:
        if self.is_working:
            raise ValueError(f"{self} runs on working time, not the calendar")
        return timedelta(seconds=self.amount * CALENDAR_UNITS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(text: object) -> Duration:
    """``"30m"`` -> Duration(30, "m"). Raises ValueError naming the text."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be text such as '30m' or '5wd', got {text!r}")
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"bad duration {text!r}: use a number and one of s, m, h, d, wh, wd")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"bad duration {text!r}: must be greater than zero")
    return Duration(amount, match.group(2))
