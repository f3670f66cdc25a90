"""A case's clocks: deadlines from the category's durations on the county's
calendar, and when the escalation sweep must next look at the case.

Two deadlines run: accept (from dispatch until 签收) and resolve (from
dispatch, again from a reopen, until 办结). Each has its ladder of steps
(routing.ladder); ``next_escalation_at`` is the earliest step not yet fired
of a deadline still running, so the sweep reads only what is due, through an
index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.models import Case, Escalation
from app.models.cases import ACCEPTED, DISPATCHED, REOPENED
from routing import step_due_at

ACCEPT = "accept"
RESOLVE = "resolve"


@dataclass(frozen=True)
class DueStep:
    deadline_kind: str
    deadline_at: datetime
    window_start: datetime
    step: str
    due_at: datetime


def running_deadlines(case: Case) -> list[tuple[str, datetime, datetime]]:
    """(kind, window start, deadline) of the deadlines still running."""
    out = []
    start = case.resolve_started_at
    if case.status == DISPATCHED and case.accept_due_at is not None and start is not None:
        # While a case waits for 签收 both windows run from its dispatch.
        out.append((ACCEPT, start, case.accept_due_at))
    if (
        case.status in (DISPATCHED, ACCEPTED, REOPENED)
        and case.resolve_due_at is not None
        and start is not None
    ):
        out.append((RESOLVE, start, case.resolve_due_at))
    return out


def plan(case: Case, county: Any) -> list[DueStep]:
    """Every ladder step of the running deadlines, in due order."""
    steps = []
    category = county.categories.get(case.category)
    for kind, start, deadline in running_deadlines(case):
        within = None
        if category is not None:
            within = category.accept_within if kind == ACCEPT else category.resolve_within
        working = bool(within and within.is_working)
        for step in county.escalation:
            if kind not in step.deadlines:
                continue
            due = step_due_at(county.calendar, step, start, deadline, working)
            steps.append(DueStep(kind, deadline, start, step.name, due))
    return sorted(steps, key=lambda d: (d.due_at, d.deadline_kind))


def fired_steps(case: Case) -> set[tuple[str, datetime, str]]:
    session = object_session(case)
    if session is None or case.id is None:
        return set()
    rows = session.execute(
        select(Escalation.deadline_kind, Escalation.deadline_at, Escalation.step).where(
            Escalation.case_id == case.id
        )
    ).all()
    return {(k, at, s) for k, at, s in rows}


def schedule(
    case: Case,
    county: Any,
    fired: set[tuple[str, datetime, str]] | None = None,
    planned: list[DueStep] | None = None,
) -> None:
    """Set ``next_escalation_at`` to the earliest step not yet fired."""
    done = fired_steps(case) if fired is None else fired
    steps = plan(case, county) if planned is None else planned
    pending = [d.due_at for d in steps if (d.deadline_kind, d.deadline_at, d.step) not in done]
    case.next_escalation_at = min(pending) if pending else None


def _sync_assignments(case: Case) -> None:
    for assignment in case.assignments:
        assignment.due_at = case.due_at


def start_clocks(case: Case, county: Any, now: datetime) -> None:
    category = county.categories[case.category]
    case.accept_due_at = county.calendar.add(now, category.accept_within)
    case.resolve_started_at = now
    case.resolve_due_at = county.calendar.add(now, category.resolve_within)
    case.accepted_at = None
    case.resolved_at = None
    case.due_at = case.accept_due_at
    case.escalation_step = None
    _sync_assignments(case)
    schedule(case, county, fired=set())


def accepted(case: Case, county: Any, now: datetime) -> None:
    case.accepted_at = now
    case.updated_at = now
    case.due_at = case.resolve_due_at
    _sync_assignments(case)
    schedule(case, county)


def resolved(case: Case, county: Any, now: datetime) -> None:
    case.resolved_at = now
    case.updated_at = now
    case.due_at = None
    case.next_escalation_at = None
    for assignment in case.assignments:
        assignment.open = False
        assignment.due_at = None


def returned(case: Case, now: datetime) -> None:
    """A returned case waits for the dispatch office; the department's clocks stop."""
    case.updated_at = now
    stop_clocks(case)


def stop_clocks(case: Case) -> None:
    case.due_at = None
    case.next_escalation_at = None
    for assignment in case.assignments:
        assignment.open = False
        assignment.due_at = None


def restart_resolve_clock(case: Case, county: Any, now: datetime) -> None:
    """A reopened case: back to the primary department, resolve clock anew."""
    category = county.categories[case.category]
    case.resolve_started_at = now
    case.resolve_due_at = county.calendar.add(now, category.resolve_within)
    case.due_at = case.resolve_due_at
    case.escalation_step = None
    schedule(case, county)


def extension_approved(case: Case, county: Any, until: datetime, now: datetime) -> None:
    """The resolve deadline moves; the ladder re-arms for the new deadline."""
    case.resolve_due_at = until
    if case.status != DISPATCHED:
        case.due_at = until
    case.escalation_step = None
    case.updated_at = now
    _sync_assignments(case)
    schedule(case, county)


def rating_deadline(case: Case, county: Any) -> datetime:
    assert case.resolved_at is not None
    return county.calendar.add(case.resolved_at, county.rating_window)  # type: ignore[no-any-return]


def min_span(county: Any, duration: Any) -> timedelta:
    """A lower bound of the calendar time a duration spans, for index range queries."""
    if duration.is_working:
        per_unit = 3600 if duration.unit == "wh" else county.calendar.day_seconds
        return timedelta(seconds=duration.amount * per_unit)
    return duration.calendar_delta()  # type: ignore[no-any-return]
