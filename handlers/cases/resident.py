"""A resident rates a resolved case (closing it) or reopens it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Case, User
from app.models.cases import CLOSED, REOPENED, RESOLVED
from handlers.cases.clocks import rating_deadline, restart_resolve_clock
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Conflict, Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, staff_of


def _own_resolved_case(s: Session, case_id: int, user_id: int, now: datetime, county: Any) -> Case:
    case = s.get(Case, case_id, with_for_update={"of": Case})
    if case is None or case.reporter_id != user_id:
        raise NotFound("找不到该工单", "case_not_found")
    if case.status != RESOLVED:
        raise Conflict("工单办结后才能评价或重新打开", "not_resolved")
    if case.resolved_at is not None and now > rating_deadline(case, county):
        raise Conflict("已超过评价期限，工单已自动关闭", "rating_window_over")
    return case


def rate_case(ctx: Context, case_id: int, user_id: int, score: int, comment: str = "") -> None:
    if not 1 <= score <= 5:
        raise Invalid("评分应为 1 到 5 分", "invalid_score")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        case = _own_resolved_case(s, case_id, user_id, now, ctx.county)
        user = s.get(User, user_id)
        case.rating = score
        case.rating_comment = comment
        case.status = CLOSED
        case.closed_at = now
        case.updated_at = now
        case.next_escalation_at = None
        record(s, case, "rated", now, by=user, note=comment, score=score)
        record(s, case, "closed", now, label="系统", note="居民已评价，工单关闭")
        uow.commit()


def reopen_case(ctx: Context, case_id: int, user_id: int, reason: str) -> None:
    if not reason.strip():
        raise Invalid("请说明重新打开的原因", "invalid_reason")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        case = _own_resolved_case(s, case_id, user_id, now, ctx.county)
        user = s.get(User, user_id)
        case.status = REOPENED
        case.resolved_at = None
        case.updated_at = now
        restart_resolve_clock(case, ctx.county, now)
        for assignment in case.assignments:
            assignment.open = True
            assignment.due_at = case.due_at
        record(s, case, "reopened", now, by=user, note=reason)
        if case.primary_department_id is not None:
            enqueue(
                s,
                now,
                "new_case",
                case,
                staff_of(s, [case.primary_department_id]),
                case_payload(case, ctx.county)
                | {
                    "deadline": case.resolve_due_at.isoformat() if case.resolve_due_at else "",
                    "role": "重新办理",
                },
            )
        uow.commit()
    ctx.wake_outbox()
