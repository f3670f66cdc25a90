"""The escalation sweep: every ladder step that fell due, once per case and
deadline, however many workers run and however late the sweep comes.

Only cases whose ``next_escalation_at`` has passed are read, through its
index, so the cost follows the work due, not the size of the table. Each step
is an ``Escalation`` row under a unique key (case, deadline kind, deadline,
step) inserted with ON CONFLICT DO NOTHING: only the worker whose insert
landed writes the timeline event and the notifications.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import Assignment, Case, Escalation, User
from app.models.cases import LOCAL
from app.models.people import HANDLER, HEAD
from handlers.clocks import DueStep, plan, schedule
from handlers.context import Context
from handlers.notify import case_payload, enqueue, staff_of, supervisors
from handlers.timeline import record
from routing import order

BATCH = 500
DEADLINE_LABEL = {"accept": "签收", "resolve": "办结"}


def _insert_once(s: Session, case: Case, due: DueStep, now: datetime) -> bool:
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Escalation)
        .values(
            case_id=case.id,
            deadline_kind=due.deadline_kind,
            deadline_at=due.deadline_at,
            step=due.step,
            due_at=due.due_at,
            fired_at=now,
        )
        .on_conflict_do_nothing(index_elements=["case_id", "deadline_kind", "deadline_at", "step"])
        .returning(Escalation.id)
    )
    return s.execute(stmt).scalar_one_or_none() is not None


def recipients(s: Session, case: Case, notify: tuple[str, ...]) -> list[User]:
    users: list[User] = []
    primary = [case.primary_department_id] if case.primary_department_id else []
    if "primary_staff" in notify:
        users += staff_of(s, primary, (HANDLER, HEAD))
    if "department_heads" in notify:
        users += staff_of(s, primary, (HEAD,))
    if "township" in notify:
        townships = s.scalars(
            select(Assignment.department_id).where(Assignment.case_id == case.id, Assignment.role == LOCAL)
        ).all()
        users += staff_of(s, townships, (HANDLER, HEAD))
    if "supervisors" in notify:
        users += supervisors(s)
    return users


def _fire(s: Session, case: Case, due: DueStep, now: datetime, county: Any) -> None:
    step = next(x for x in county.escalation if x.name == due.step)
    overdue_hours = max(0.0, (now - due.deadline_at).total_seconds() / 3600)
    note = f"{step.label}：{DEADLINE_LABEL[due.deadline_kind]}期限 {due.deadline_at.astimezone(county.calendar.tz):%Y-%m-%d %H:%M}"
    if overdue_hours:
        note += f"，已超期 {overdue_hours:.1f} 小时"
    record(
        s,
        case,
        "escalated",
        now,
        label="系统",
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
        recipients(s, case, step.notify),
        case_payload(case, county)
        | {"step": step.label, "note": note, "deadline": due.deadline_at.isoformat(), "level": due.step},
    )


def sweep(ctx: Context, batch: int = BATCH) -> int:
    """Fire every step due by now; answers how many were fired by this call."""
    county = ctx.county
    rank = order(county.escalation)
    now = ctx.now()
    fired = 0
    last_id = 0
    while True:
        with ctx.uow() as uow:
            s = uow.session
            stmt = (
                select(Case)
                .where(Case.next_escalation_at <= now, Case.id > last_id)
                .order_by(Case.id)
                .limit(batch)
            )
            if s.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=Case)
            cases = list(s.scalars(stmt))
            if not cases:
                return fired
            last_id = cases[-1].id
            done: dict[int, set[tuple[str, datetime, str]]] = defaultdict(set)
            for kind, at, step, case_id in s.execute(
                select(
                    Escalation.deadline_kind, Escalation.deadline_at, Escalation.step, Escalation.case_id
                ).where(Escalation.case_id.in_([c.id for c in cases]))
            ):
                done[case_id].add((kind, at, step))
            for case in cases:
                for due in plan(case, county):
                    key = (due.deadline_kind, due.deadline_at, due.step)
                    if due.due_at > now or key in done[case.id]:
                        continue
                    if _insert_once(s, case, due, now):
                        _fire(s, case, due, now, county)
                        fired += 1
                    done[case.id].add(key)
                    if case.escalation_step is None or rank[due.step] > rank.get(case.escalation_step, -1):
                        case.escalation_step = due.step
                schedule(case, county, done[case.id])
            uow.commit()
        ctx.wake_outbox()
        if len(cases) < batch:
            return fired
