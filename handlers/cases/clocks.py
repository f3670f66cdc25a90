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
from typing import Protocol

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import object_session

from app.models import Case, Escalation
from routing import CountyConfig, Duration, EscalationStep, step_due_at
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


class Clocked(Protocol):
    """What the clocks read of a case: a ``Case``, or the sweep's light copy of one."""

    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def accept_due_at(self) -> datetime | None: ...
    @property
    def resolve_started_at(self) -> datetime | None: ...
    @property
    def resolve_due_at(self) -> datetime | None: ...


def running_deadlines(case: Clocked) -> list[tuple[str, datetime, datetime]]:
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


def _is_working(case: Clocked, county: CountyConfig, kind: str) -> bool:
    category = county.categories.get(case.category)
    if category is None:
        return False
    within = category.accept_within if kind == ACCEPT else category.resolve_within
    return bool(within and within.is_working)


@dataclass(frozen=True)
class _Rung:
    """A step of one deadline's ladder; ``span``: for a step after the
    deadline, the least calendar time its delay spans."""

    step: EscalationStep
    span: timedelta | None


@dataclass(frozen=True)
class _Rungs:
    by_kind: dict[str, tuple[_Rung, ...]]
    fractions: frozenset[str]  # the deadlines with a step at a fraction of their window


# Per ladder (held, so its id is not reused) and working day length.
_RUNGS: dict[int, tuple[tuple[EscalationStep, ...], int, _Rungs]] = {}


def _rungs(county: CountyConfig) -> _Rungs:
    """The ladder by deadline, worked out once per list version rather than
    per case (a sweep plans a thousand cases of one version)."""
    ladder, day = county.escalation, county.calendar.day_seconds
    known = _RUNGS.get(id(ladder))
    if known is None or known[0] is not ladder or known[1] != day:
        if len(_RUNGS) >= 64:
            _RUNGS.clear()
        by_kind = {
            kind: tuple(
                _Rung(s, None if s.after is None else min_span(county, s.after))
                for s in ladder
                if kind in s.deadlines
            )
            for kind in (ACCEPT, RESOLVE)
        }
        fractions = frozenset(k for s in ladder if s.fraction is not None for k in s.deadlines)
        known = _RUNGS[id(ladder)] = (ladder, day, _Rungs(by_kind, fractions))
    return known[2]


def _window(
    county: CountyConfig, rungs: _Rungs, kind: str, start: datetime, deadline: datetime, working: bool
) -> float | None:
    """The working time of a window, counted once for all its steps (and only
    when a step falls at a fraction of it)."""
    if not working or kind not in rungs.fractions:
        return None
    return county.calendar.working_seconds_between(start, deadline)


def _by_due(step: DueStep) -> tuple[datetime, str]:
    return (step.due_at, step.deadline_kind)


def plan(case: Clocked, county: CountyConfig) -> list[DueStep]:
    """Every ladder step of the running deadlines, in due order."""
    steps = []
    rungs = _rungs(county)
    for kind, start, deadline in running_deadlines(case):
        working = _is_working(case, county, kind)
        window = _window(county, rungs, kind, start, deadline, working)
        for rung in rungs.by_kind.get(kind, ()):
            due = step_due_at(county.calendar, rung.step, start, deadline, working, window)
            steps.append(DueStep(kind, deadline, start, rung.step.name, due))
    return sorted(steps, key=_by_due)


def due_and_next(
    case: Clocked, county: CountyConfig, now: datetime, fired: set[tuple[str, datetime, str]]
) -> tuple[list[DueStep], datetime | None]:
    """What the sweep needs of ``plan``: the steps due by ``now`` and not yet
    fired, in due order, and when the earliest other step not yet fired falls
    due (the case's next look). The same answers as ``plan`` with less work:
    an after-deadline step that cannot be due yet (its deadline plus the least
    calendar time its delay spans is still ahead) is computed only while it
    could still be the earliest of the rest, and a fired step not at all."""
    due: list[DueStep] = []
    nxt: datetime | None = None
    later: list[tuple[datetime, int, str, datetime, datetime, EscalationStep, bool]] = []
    rungs = _rungs(county)
    calendar = county.calendar
    for kind, start, deadline in running_deadlines(case):
        working = _is_working(case, county, kind)
        window = _window(county, rungs, kind, start, deadline, working)
        for rung in rungs.by_kind.get(kind, ()):
            step = rung.step
            if rung.span is not None:
                bound = deadline + rung.span
                if bound > now:
                    later.append((bound, len(later), kind, start, deadline, step, working))
                    continue
            if fired and (kind, deadline, step.name) in fired:
                continue
            at = step_due_at(calendar, step, start, deadline, working, window)
            if at <= now:
                due.append(DueStep(kind, deadline, start, step.name, at))
            elif nxt is None or at < nxt:
                nxt = at
    for bound, _, kind, start, deadline, step, working in sorted(later):
        if nxt is not None and bound >= nxt:
            break
        if not fired or (kind, deadline, step.name) not in fired:
            at = step_due_at(calendar, step, start, deadline, working)
            nxt = at if nxt is None or at < nxt else nxt
    if len(due) > 1:
        due.sort(key=_by_due)
    return due, nxt


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
    case.next_escalation_at = next_escalation(done, steps)


def next_escalation(fired: set[tuple[str, datetime, str]], planned: list[DueStep]) -> datetime | None:
    """The earliest planned step not yet fired (None: nothing left to look at)."""
    pending = [d.due_at for d in planned if (d.deadline_kind, d.deadline_at, d.step) not in fired]
    return min(pending) if pending else None


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
