"""A department's queue: its open cases, soonest deadline first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from app.models import Assignment, Case, User
from handlers.context import Context
from handlers.errors import Forbidden, Invalid
from routing.lifecycle import HANDLING, STATUSES


@dataclass(frozen=True)
class QueueRow:
    case: Case
    my_role: str  # the department's role on the case: 主办, 协办, 属地
    overdue: bool  # a deadline passed and the department still owes the work


def department_queue(
    ctx: Context, user: User, status: str | None, overdue: bool | None, page: int, per_page: int
) -> tuple[list[QueueRow], int]:
    if not user.is_staff or user.department_id is None:
        raise Forbidden("仅部门工作人员可以查看工单队列", "staff_only")
    if status is not None and status not in STATUSES:
        raise Invalid("未知的工单状态", "invalid_status")
    now: datetime = ctx.now()
    conditions = [Assignment.department_id == user.department_id]
    if status is None:
        conditions.append(Assignment.open.is_(True))
    else:
        conditions.append(Case.status == status)
    if overdue is True:
        conditions.append(and_(Case.due_at.is_not(None), Case.due_at < now, Assignment.open.is_(True)))
    elif overdue is False:
        conditions.append((Case.due_at.is_(None)) | (Case.due_at >= now))
    where = and_(*conditions)
    with ctx.uow() as uow:
        s = uow.session
        total = (
            s.scalar(select(func.count(Assignment.id)).join(Case, Case.id == Assignment.case_id).where(where))
            or 0
        )
        rows = s.execute(
            select(Case, Assignment.role)
            .join(Assignment, Assignment.case_id == Case.id)
            .where(where)
            .options(selectinload(Case.assignments))
            .order_by(Assignment.due_at.is_(None), Assignment.due_at, Case.created_at, Case.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        result = [
            QueueRow(case, role, bool(case.due_at and case.due_at < now and case.status in HANDLING))
            for case, role in rows
        ]
        s.expunge_all()
    return result, total
