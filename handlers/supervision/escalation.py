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
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from app.models import Case, Escalation, User
from app.models.people import HANDLER, HEAD
from handlers.cases.clocks import DueStep, plan, schedule
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.notifications.notify import case_payload, enqueue, staff_of_all, supervisors
from routing import TOWNSHIP_ROLE as LOCAL
from routing import CountyConfig, order

BATCH = 1000
DEADLINE_LABEL = {"accept": "签收", "resolve": "办结"}


def _insert_all(
    s: Session, due: list[tuple[Case, DueStep]], now: datetime
) -> set[tuple[int, str, datetime, str]]:
    """Insert the batch's steps at once; answers the keys this call inserted
    (a step another worker recorded first is skipped by the unique key)."""
    if not due:
        return set()
    s.flush()
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted: set[tuple[int, str, datetime, str]] = set()
    for start in range(0, len(due), 500):
        chunk = due[start : start + 500]
        stmt = (
            insert(Escalation)
            .values(
                [
                    {
                        "case_id": case.id,
                        "deadline_kind": step.deadline_kind,
                        "deadline_at": step.deadline_at,
                        "step": step.step,
                        "due_at": step.due_at,
                        "fired_at": now,
                    }
                    for case, step in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["case_id", "deadline_kind", "deadline_at", "step"])
            .returning(Escalation.case_id, Escalation.deadline_kind, Escalation.deadline_at, Escalation.step)
        )
        inserted.update((c, k, at, st) for c, k, at, st in s.execute(stmt))
    return inserted


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

    def for_step(self, case: Case, notify: tuple[str, ...]) -> list[User]:
        users: list[User] = []
        primary = [case.primary_department_id] if case.primary_department_id else []
        if "primary_staff" in notify:
            users += self.staff(primary, (HANDLER, HEAD))
        if "department_heads" in notify:
            users += self.staff(primary, (HEAD,))
        if "township" in notify:
            townships = [a.department_id for a in case.assignments if a.role == LOCAL]
            users += self.staff(townships, (HANDLER, HEAD))
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


def _fire(
    s: Session, case: Case, due: DueStep, now: datetime, county: CountyConfig, people: Recipients
) -> None:
    step = next(x for x in county.escalation if x.name == due.step)
    late = overdue_text((now - due.deadline_at).total_seconds())
    note = f"{step.label}：{DEADLINE_LABEL[due.deadline_kind]}期限 {due.deadline_at.astimezone(county.calendar.tz):%Y-%m-%d %H:%M}"
    if late:
        note += f"，已超期 {late}"
    record(
        s,
        case,
        "escalated",
        now,
        note=note,
        step=due.step,
        deadline=due.deadline_kind,
        deadline_at=due.deadline_at.isoformat(),
    )
    enqueue(
        s,
        now,
        "escalation",
        case,
        people.for_step(case, step.notify),
        case_payload(case, county)
        | {"step": step.label, "note": note, "deadline": due.deadline_at.isoformat(), "level": due.step},
    )


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
            # Through the index on next_escalation_at: only what is due is read.
            stmt = (
                select(Case)
                .where(Case.next_escalation_at <= now)
                .order_by(Case.next_escalation_at, Case.id)
                .limit(batch)
                .options(selectinload(Case.assignments))
            )
            if s.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=Case)
            cases = [c for c in s.scalars(stmt) if c.id not in seen]
            if not cases:
                return fired
            seen.update(c.id for c in cases)
            people = Recipients(s)
            done: dict[int, set[tuple[str, datetime, str]]] = defaultdict(set)
            for kind, at, step, case_id in s.execute(
                select(
                    Escalation.deadline_kind, Escalation.deadline_at, Escalation.step, Escalation.case_id
                ).where(Escalation.case_id.in_([c.id for c in cases]))
            ):
                done[case_id].add((kind, at, step))
            county = {case.id: ctx.county_of(case.config_version) for case in cases}
            planned = {case.id: plan(case, county[case.id]) for case in cases}
            due = [
                (case, step)
                for case in cases
                for step in planned[case.id]
                if step.due_at <= now
                and (step.deadline_kind, step.deadline_at, step.step) not in done[case.id]
            ]
            inserted = _insert_all(s, due, now)
            steps: list[str] = []
            for case, step in due:
                if (case.id, step.deadline_kind, step.deadline_at, step.step) in inserted:
                    _fire(s, case, step, now, county[case.id], people)
                    steps.append(step.step)
                done[case.id].add((step.deadline_kind, step.deadline_at, step.step))
                rank = order(county[case.id].escalation)
                if case.escalation_step is None or rank[step.step] > rank.get(case.escalation_step, -1):
                    case.escalation_step = step.step
            for case in cases:
                schedule(case, county[case.id], done[case.id], planned[case.id])
            uow.commit()
        for name in steps:  # counted once committed
            ctx.metrics.escalated(name)
        fired += len(steps)
        ctx.wake_outbox()
        if len(cases) < batch:
            return fired
