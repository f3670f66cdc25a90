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

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import object_session

from app.models import Case, Escalation
from routing import CountyConfig, Duration, step_due_at
from routing.lifecycle import (
    ACCEPTED,
    ACCEPTED_CLOCK,
    CLOSED,
    DISPATCHED,
    EXTEND,
    REOPENED,
    RESOLVED,
    RESTART_RESOLVE,
    START,
    STOP,
    Step,
)

ACCEPT = "accept"
RESOLVE = "resolve"


def past_deadline(now: datetime) -> ColumnElement[bool]:
    """Past a deadline that still runs: only cases whose clocks run carry ``due_at``."""
    return Case.due_at < now


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


def plan(case: Case, county: CountyConfig) -> list[DueStep]:
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
    county: CountyConfig,
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


def start_clocks(case: Case, county: CountyConfig, now: datetime) -> None:
    """Both deadlines from now, by the case's category (filing and dispatch)."""
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


def _accepted(case: Case, county: CountyConfig, now: datetime) -> None:
    case.accepted_at = now
    case.due_at = case.resolve_due_at
    _sync_assignments(case)
    schedule(case, county)


def _stop(case: Case) -> None:
    case.due_at = None
    case.next_escalation_at = None
    for assignment in case.assignments:
        assignment.open = False
        assignment.due_at = None


def _restart_resolve(case: Case, county: CountyConfig, now: datetime) -> None:
    """A reopened case: back to the departments, resolve clock anew."""
    category = county.categories[case.category]
    case.resolved_at = None
    case.resolve_started_at = now
    case.resolve_due_at = county.calendar.add(now, category.resolve_within)
    case.due_at = case.resolve_due_at
    case.escalation_step = None
    for assignment in case.assignments:
        assignment.open = True
        assignment.due_at = case.due_at
    schedule(case, county)


def _extend(case: Case, county: CountyConfig, until: datetime) -> None:
    """The resolve deadline moves; the ladder re-arms for the new deadline."""
    case.resolve_due_at = until
    if case.status != DISPATCHED:
        case.due_at = until
    case.escalation_step = None
    _sync_assignments(case)
    schedule(case, county)


def advance(
    case: Case, step: Step, county: CountyConfig, now: datetime, until: datetime | None = None
) -> None:
    """Move the case as the lifecycle step says: its status, then its clocks."""
    if step.to_state is not None:
        case.status = step.to_state
    case.updated_at = now
    if step.to_state == RESOLVED:
        case.resolved_at = now
    if step.to_state == CLOSED:
        case.closed_at = now
    if step.clocks == START:
        start_clocks(case, county, now)
    elif step.clocks == ACCEPTED_CLOCK:
        _accepted(case, county, now)
    elif step.clocks == RESTART_RESOLVE:
        _restart_resolve(case, county, now)
    elif step.clocks == EXTEND:
        assert until is not None
        _extend(case, county, until)
    elif step.clocks == STOP:
        _stop(case)


def rating_deadline(case: Case, county: CountyConfig) -> datetime:
    assert case.resolved_at is not None
    return county.calendar.add(case.resolved_at, county.rating_window)


def min_span(county: CountyConfig, duration: Duration) -> timedelta:
    """A lower bound of the calendar time a duration spans, for index range queries."""
    if duration.is_working:
        per_unit = 3600 if duration.unit == "wh" else county.calendar.day_seconds
        return timedelta(seconds=duration.amount * per_unit)
    return duration.calendar_delta()
