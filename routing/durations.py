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
            raise ValueError(f"{self} 按工作时间计算，不是日历时间")
        return timedelta(seconds=self.amount * CALENDAR_UNITS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(text: object) -> Duration:
    """``"30m"`` -> Duration(30, "m"). Raises ValueError naming the text."""
    if not isinstance(text, str):
        raise ValueError(f"时长应写成文本，如 '30m' 或 '5wd'，当前为 {text!r}")
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"时长 {text!r} 格式不正确：应为数字加单位 s、m、h、d、wh、wd 之一")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"时长 {text!r} 应大于零")
    return Duration(amount, match.group(2))
