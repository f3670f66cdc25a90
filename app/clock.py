"""The one clock every process reads.

``CLOCK_OFFSET_SECONDS`` shifts it for the web and the worker alike, so a trainer
can show next month's escalations today. Code asks a ``Clock`` for the time;
it never calls ``datetime.now()`` in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, offset_seconds: int = 0, source: Callable[[], datetime] | None = None):
        self.offset = timedelta(seconds=offset_seconds)
        self._source = source or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """Aware UTC "now", shifted by the configured offset."""
        return self._source() + self.offset


class FixedClock(Clock):
    """A clock that stands still until moved; for tests and benchmarks."""

    def __init__(self, at: datetime):
        super().__init__(0)
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at.astimezone(UTC)
        self._source = lambda: self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)
