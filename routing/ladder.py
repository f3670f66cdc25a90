"""The escalation ladder: when each step of a deadline falls due."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.calendar import WorkingCalendar
from routing.model import EscalationStep


def step_due_at(
    calendar: WorkingCalendar,
    step: EscalationStep,
    start: datetime,
    deadline: datetime,
    working: bool,
    window: float | None = None,
) -> datetime:
    """A fraction step falls that far into the window (on working time for a
    working-time window); an after-deadline step that long after the deadline.
    ``window``: the working seconds from start to deadline, when the caller
    has them already (several steps of one deadline)."""
    if step.fraction is not None:
        if working:
            if window is None:
                window = calendar.working_seconds_between(start, deadline)
            return calendar.add_working_seconds(start, window * step.fraction)
        return (start + (deadline - start) * step.fraction).astimezone(UTC)
    assert step.after is not None
    return calendar.add(deadline, step.after)


def order(steps: tuple[EscalationStep, ...]) -> dict[str, int]:
    """Rank of each step name in the ladder, lowest first."""
    return {s.name: i for i, s in enumerate(steps)}
