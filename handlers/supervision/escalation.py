"""The escalation sweep: every ladder step that fell due, once per case and
deadline, however many workers run and however late the sweep comes.

Only cases whose ``next_escalation_at`` has passed are read, through its
index, so the cost follows the work due, not the size of the table. Each step
is an ``Escalation`` row under a unique key (case, deadline kind, deadline,
step) inserted with ON CONFLICT DO NOTHING: only the worker whose insert
landed writes the timeline event and the notifications.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import executemany, update_rows
from app.models import Assignment, Case, CaseEvent, Community, Escalation, User
from app.models.people import HANDLER, HEAD
from handlers.cases.clocks import DueStep, due_and_next
from handlers.cases.timeline import event_row
from handlers.context import Context
from handlers.notifications.notify import OUTBOX, outbox_rows, staff_of_all, supervisors
from handlers.ports import JSONDict
from routing import TOWNSHIP_ROLE as LOCAL
from routing import CountyConfig, order

BATCH = 1000
# The tables the sweep writes set-wise (Core, no ORM object per row).
ESCALATIONS = cast(Table, Escalation.__table__)
CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
DEADLINE_LABEL = {"accept": "签收", "resolve": "办结"}


Key = tuple[int, str, datetime, str]
ON_KEY = ["case_id", "deadline_kind", "deadline_at", "step"]


def _insert_all(s: Session, due: list[tuple[DueCase, DueStep]], now: datetime) -> set[Key]:
    """Insert the batch's steps; answers the keys this call inserted (a step
    another worker recorded first is skipped by the unique key).

    The cases are locked (SQLite's write lock, PostgreSQL's FOR UPDATE) and
    their fired steps read since, so normally every row lands: one plain
    executemany, checked by its row count, inside a savepoint. Should a row
    have been skipped after all, the savepoint is undone and the rows are
    inserted again with RETURNING, which names the ones that landed."""
    if not due:
        return set()
    table = ESCALATIONS
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=ON_KEY)
    rows = [
        {
            "case_id": case.id,
            "deadline_kind": step.deadline_kind,
            "deadline_at": step.deadline_at,
            "step": step.step,
            "due_at": step.due_at,
            "fired_at": now,
        }
        for case, step in due
    ]
    conn = s.connection()
    savepoint = conn.begin_nested()
    if executemany(conn, stmt, rows) == len(rows):
        savepoint.commit()
        return {(case.id, step.deadline_kind, step.deadline_at, step.step) for case, step in due}
    savepoint.rollback()
    returning = stmt.returning(table.c.case_id, table.c.deadline_kind, table.c.deadline_at, table.c.step)
    return {(c, k, at, st) for c, k, at, st in conn.execute(returning, rows)}


class Recipients:
    """Who hears of a step, read once per sweep batch rather than per case."""

    def __init__(self, s: Session):
        self.s = s
        self._staff: dict[int, list[User]] | None = None
        self._supervisors: list[User] | None = None

    def _by_department(self) -> dict[int, list[User]]:
        if self._staff is None:
            self._staff = defaultdict(list)
            for user in staff_of_all(self.s):
                self._staff[user.department_id].append(user)  # type: ignore[index]
        return self._staff

    def staff(self, department_ids: list[int], roles: tuple[str, ...]) -> list[User]:
        by_department = self._by_department()
        return [u for d in department_ids for u in by_department.get(d, []) if u.role in roles]

    def supervisors(self) -> list[User]:
        if self._supervisors is None:
            self._supervisors = supervisors(self.s)
        return self._supervisors

    def for_step(self, case: DueCase, notify: tuple[str, ...]) -> list[User]:
        users: list[User] = []
        primary = [case.primary_department_id] if case.primary_department_id else []
        if "primary_staff" in notify:
            users += self.staff(primary, (HANDLER, HEAD))
        if "department_heads" in notify:
            users += self.staff(primary, (HEAD,))
        if "township" in notify:
            users += self.staff(case.townships, (HANDLER, HEAD))
        if "supervisors" in notify:
            users += self.supervisors()
        return users


def overdue_text(seconds: float) -> str:
    """How late, as a person says it: 40 分钟, 5.5 小时, 3 天 2 小时; "" when not late."""
    if seconds < 60:
        return ""
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} 小时"
    days, rest = divmod(int(seconds), 86400)
    return f"{days} 天 {rest // 3600} 小时" if rest >= 3600 else f"{days} 天"


class Written:
    """The timeline events and notifications of a sweep batch, written with one
    executemany each instead of an ORM object per row."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []
        self.notifications: list[dict[str, object]] = []
        # Cases whose step reached or next look moved (id and the two columns).
        self.clocks: list[dict[str, object]] = []

    def flush(self, s: Session) -> None:
        """Write the batch with one executemany a table. The loaded cases are
        not changed as objects: the session has nothing left to flush."""
        conn = s.connection()
        update_rows(conn, CASES, self.clocks)
        executemany(conn, insert(EVENTS), self.events)
        executemany(conn, insert(OUTBOX), self.notifications)


def _payload(case: DueCase, county: CountyConfig) -> JSONDict:
    """What ``case_payload`` says of a case, from the sweep's copy of it."""
    category = county.categories.get(case.category)
    return {
        "number": case.number,
        "category": category.name if category else case.category,
        "community": case.community,
    }


def _fire(
    case: DueCase, due: DueStep, now: datetime, county: CountyConfig, people: Recipients, out: Written
) -> None:
    step = next(x for x in county.escalation if x.name == due.step)
    late = overdue_text((now - due.deadline_at).total_seconds())
    note = f"{step.label}：{DEADLINE_LABEL[due.deadline_kind]}期限 {due.deadline_at.astimezone(county.calendar.tz):%Y-%m-%d %H:%M}"
    if late:
        note += f"，已超期 {late}"
    out.events.append(
        event_row(
            case.id,
            "escalated",
            now,
            note=note,
            step=due.step,
            deadline=due.deadline_kind,
            deadline_at=due.deadline_at.isoformat(),
        )
    )
    out.notifications += outbox_rows(
        now,
        "escalation",
        case.id,
        people.for_step(case, step.notify),
        _payload(case, county)
        | {"step": step.label, "note": note, "deadline": due.deadline_at.isoformat(), "level": due.step},
    )


@dataclass(slots=True)
class DueCase:
    """What the sweep reads of a due case: its clocks, what its messages say,
    who hears of it. Plain values from one query, not an ORM object."""

    id: int
    number: str
    category: str
    config_version: str
    status: str
    accept_due_at: datetime | None
    resolve_started_at: datetime | None
    resolve_due_at: datetime | None
    escalation_step: str | None
    next_escalation_at: datetime | None
    primary_department_id: int | None
    community: str
    townships: list[int] = field(default_factory=list)


def _due_cases(s: Session, now: datetime, batch: int) -> list[DueCase]:
    # Through the index on next_escalation_at: only what is due is read.
    stmt = (
        select(
            Case.id,
            Case.number,
            Case.category,
            Case.config_version,
            Case.status,
            Case.accept_due_at,
            Case.resolve_started_at,
            Case.resolve_due_at,
            Case.escalation_step,
            Case.next_escalation_at,
            Case.primary_department_id,
            Community.name,
        )
        .join(Community, Community.id == Case.community_id)
        .where(Case.next_escalation_at <= now)
        .order_by(Case.next_escalation_at, Case.id)
        .limit(batch)
    )
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Case.__table__)
    cases = [DueCase(*row) for row in s.execute(stmt)]
    if cases:
        by_id = {c.id: c for c in cases}
        for case_id, department_id in s.execute(
            select(Assignment.case_id, Assignment.department_id)
            .where(Assignment.case_id.in_(list(by_id)), Assignment.role == LOCAL)
            .order_by(Assignment.id)
        ):
            by_id[case_id].townships.append(department_id)
    return cases


def _fired_of(s: Session, cases: list[DueCase]) -> dict[int, set[tuple[str, datetime, str]]]:
    done: dict[int, set[tuple[str, datetime, str]]] = defaultdict(set)
    for kind, at, step, case_id in s.execute(
        select(Escalation.deadline_kind, Escalation.deadline_at, Escalation.step, Escalation.case_id).where(
            Escalation.case_id.in_([c.id for c in cases])
        )
    ):
        done[case_id].add((kind, at, step))
    return done


def _sweep_batch(ctx: Context, s: Session, cases: list[DueCase], now: datetime) -> list[str]:
    """Fire what is due of these cases and move their clocks on; answers the
    steps this call fired. Rows are written set-wise: the steps, the
    events, the notifications and the cases' new clocks one executemany each."""
    people = Recipients(s)
    done = _fired_of(s, cases)
    county = {case.id: ctx.county_of(case.config_version) for case in cases}
    looked = {case.id: due_and_next(case, county[case.id], now, done[case.id]) for case in cases}
    due = [(case, step) for case in cases for step in looked[case.id][0]]
    inserted = _insert_all(s, due, now)
    out = Written()
    fired: list[str] = []
    reached = {case.id: case.escalation_step for case in cases}
    for case, step in due:
        if (case.id, step.deadline_kind, step.deadline_at, step.step) in inserted:
            _fire(case, step, now, county[case.id], people, out)
            fired.append(step.step)
        rank = order(county[case.id].escalation)
        if reached[case.id] is None or rank[step.step] > rank.get(reached[case.id] or "", -1):
            reached[case.id] = step.step
    for case in cases:
        nxt = looked[case.id][1]
        if nxt != case.next_escalation_at or reached[case.id] != case.escalation_step:
            out.clocks.append({"id": case.id, "escalation_step": reached[case.id], "next_escalation_at": nxt})
    out.flush(s)
    return fired


def sweep(ctx: Context, batch: int = BATCH) -> int:
    """Fire every step due by now; answers how many were fired by this call.
    Each case climbs the ladder of the list version it was routed under.
    A sweep that finished is timed (one that failed is not: the operators'
    alert on sweeps that stopped counts only these)."""
    started = time.perf_counter()
    fired = _sweep(ctx, batch)
    ctx.metrics.sweep_took(time.perf_counter() - started)
    return fired


def _sweep(ctx: Context, batch: int) -> int:
    now = ctx.now()
    fired = 0
    # Each case is handled once per sweep: after it, its next step lies ahead.
    seen: set[int] = set()
    while True:
        with ctx.uow() as uow:
            s = uow.session
            loaded = _due_cases(s, now, batch)
            cases = [c for c in loaded if c.id not in seen]
            if not cases:
                return fired
            seen.update(c.id for c in cases)
            steps = _sweep_batch(ctx, s, cases, now)
            uow.commit()
        for name in steps:  # counted once committed
            ctx.metrics.escalated(name)
        fired += len(steps)
        ctx.wake_outbox()
        if len(loaded) < batch:
            return fired
