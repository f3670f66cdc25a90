"""A resident rates a resolved case (closing it) or reopens it, within the
rating window; after it the worker closes the case (handlers/cases/closing.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy.orm import Session

from app.models import Case, User
from handlers.cases.access import take
from handlers.cases.clocks import advance, rating_deadline
from handlers.cases.content import screen_as
from handlers.cases.timeline import record
from handlers.commands import Command
from handlers.context import Context
from handlers.errors import Conflict, NotFound
from handlers.notifications.notify import case_payload, enqueue, staff_of
from routing.lifecycle import Step


def _reporter_step(
    s: Session, case_id: int, user_id: int, name: str, ctx: Context, now: datetime
) -> tuple[Case, Step, User]:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound("找不到该工单", "case_not_found")
    case, step = take(s, case_id, user, name, ctx.county)
    if now > rating_deadline(case, ctx.county_of(case.config_version)):
        raise Conflict("已超过评价期限，工单已自动关闭", "rating_window_over")
    return case, step, user


class Rating(Command):
    score: int = Field(ge=1, le=5, title="评分")
    comment: str = Field(default="", max_length=500, title="评价")


class Reopen(Command):
    reason: str = Field(min_length=2, max_length=500, title="原因")


def rate_case(ctx: Context, case_id: int, user_id: int, cmd: Rating) -> None:
    flagged = screen_as(ctx, user_id, cmd.comment)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        case, step, user = _reporter_step(s, case_id, user_id, "rate", ctx, now)
        case.needs_review = case.needs_review or flagged
        case.rating = cmd.score
        case.rating_comment = cmd.comment
        advance(case, step, ctx.county_of(case.config_version), now)
        record(s, case, "rated", now, by=user, note=cmd.comment, score=cmd.score)
        record(s, case, "closed", now, note="居民已评价，工单关闭")
        uow.commit()


def reopen_case(ctx: Context, case_id: int, user_id: int, cmd: Reopen) -> None:
    flagged = screen_as(ctx, user_id, cmd.reason)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        case, step, user = _reporter_step(s, case_id, user_id, "reopen", ctx, now)
        case.needs_review = case.needs_review or flagged
        county = ctx.county_of(case.config_version)
        advance(case, step, county, now)
        record(s, case, "reopened", now, by=user, note=cmd.reason)
        if case.primary_department_id is not None:
            deadline = case.resolve_due_at.isoformat() if case.resolve_due_at else ""
            payload = case_payload(case, county) | {"deadline": deadline, "role": "重新办理"}
            enqueue(s, now, "new_case", case, staff_of(s, [case.primary_department_id]), payload)
        uow.commit()
    ctx.wake_outbox()
