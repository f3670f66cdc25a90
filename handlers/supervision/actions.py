"""The leading group office: re-dispatch, reject, merge, decide extensions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Case, Extension, User
from app.models.people import SUPERVISORS
from handlers.cases.access import take
from handlers.cases.clocks import advance
from handlers.cases.content import screen_as
from handlers.cases.dispatching import announce, assign, routed_departments
from handlers.cases.timeline import record
from handlers.commands import Command, Id
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, tell_reporter
from routing.lifecycle import MERGED, REJECTED

Reason = Annotated[str, Field(min_length=2, max_length=500, title="原因")]


class Dispatch(Command):
    category: str = Field(min_length=1, max_length=64, title="问题类别")


class Reject(Command):
    reason: Reason = Field(description="居民可见")


class Merge(Command):
    into: Id = Field(title="合并到的工单")


class Approve(Command):
    note: str = Field(default="", max_length=500, title="说明")


class Deny(Command):
    reason: Reason


def _supervisor(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or user.role not in SUPERVISORS:
        raise Forbidden("仅督办人员可以进行此操作", "supervisor_only")
    return user


def dispatch_case(ctx: Context, case_id: int, user_id: int, category_code: str) -> None:
    """Re-route a returned case by the responsibility list, clocks started anew."""
    county = ctx.county
    category = county.categories.get(category_code)
    if category is None:
        raise Invalid("请选择有效的问题类别", "unknown_category")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        case, step = take(s, case_id, user, "dispatch", county)
        routed, departments = routed_departments(s, county, category.code, case.community.township.name)
        case.assignments.clear()
        s.flush()
        case.category, case.route, case.urgent = category.code, category.route, category.urgent
        case.config_version = county.version
        assign(s, case, routed, departments, now)
        advance(case, step, county, now)
        announce(s, case, routed, departments, now, county, f"重新派发（{category.name}）", by=user)
        uow.commit()
    ctx.wake_outbox()


def reject_case(ctx: Context, case_id: int, user_id: int, reason: str) -> None:
    if not reason.strip():
        raise Invalid("请说明不予受理的原因（居民可见）", "invalid_reason")
    flagged = screen_as(ctx, user_id, reason)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        case, step = take(s, case_id, user, "reject", ctx.county)
        case.needs_review = case.needs_review or flagged
        county = ctx.county_of(case.config_version)
        case.reject_reason = reason
        advance(case, step, county, now)
        record(s, case, "rejected", now, by=user, note=reason)
        tell_reporter(s, now, case, county, REJECTED, reason)
        uow.commit()
    ctx.wake_outbox()


def merge_case(ctx: Context, case_id: int, user_id: int, into_id: int) -> None:
    if case_id == into_id:
        raise Invalid("不能合并到自身", "invalid_merge")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        target = s.get(Case, into_id)
        if target is None:
            raise NotFound("找不到要合并到的工单", "merge_target_not_found")
        case, step = take(s, case_id, user, "merge", ctx.county)
        if target.status in (MERGED, REJECTED) or target.merged_into_id is not None:
            raise Conflict("目标工单已合并或不予受理，不能合并到它", "invalid_merge_target")
        case.merged_into_id = target.id
        county = ctx.county_of(case.config_version)
        advance(case, step, county, now)
        record(
            s,
            case,
            "merged",
            now,
            by=user,
            note=f"与工单 {target.number} 重复，已合并办理",
            into=target.number,
        )
        record(s, target, "merged", now, by=user, note=f"合并了重复工单 {case.number}", merged=case.number)
        tell_reporter(s, now, case, county, MERGED, f"已并入工单 {target.number}")
        # Cases merged into this one follow the survivor too, with their reporters.
        s.execute(update(Case).where(Case.merged_into_id == case.id).values(merged_into_id=target.id))
        uow.commit()
    ctx.wake_outbox()


def extensions(ctx: Context, status: str, page: int, per_page: int) -> tuple[list[Extension], int]:
    """Extension requests by status, oldest first, each with its case's number."""
    if status not in ("pending", "approved", "denied"):
        raise Invalid("status 应为 pending、approved 或 denied", "invalid_filter")
    with ctx.uow() as uow:
        s = uow.session
        where = Extension.status == status
        total = s.scalar(select(func.count(Extension.id)).where(where)) or 0
        rows = list(
            s.scalars(
                select(Extension)
                .where(where)
                .order_by(Extension.created_at, Extension.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
        for row in rows:
            _ = row.case.number
        s.expunge_all()
    return rows, total


def decide_extension(
    ctx: Context, extension_id: int, user_id: int, approve: bool, reason: str = ""
) -> Extension:
    if not approve and not reason.strip():
        raise Invalid("请说明不同意延期的原因", "invalid_reason")
    flagged = screen_as(ctx, user_id, reason)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        extension = s.get(Extension, extension_id, with_for_update={"of": Extension})
        if extension is None:
            raise NotFound("找不到该延期申请", "extension_not_found")
        if extension.status != "pending":
            raise Conflict("该延期申请已处理", "extension_decided")
        case, step = take(
            s, extension.case_id, user, "approve_extension" if approve else "deny_extension", ctx.county
        )
        extension.status = "approved" if approve else "denied"
        extension.decided_by_id, extension.decided_at, extension.decision_note = user.id, now, reason
        county = ctx.county_of(case.config_version)
        advance(case, step, county, now, until=extension.until)
        case.needs_review = case.needs_review or flagged
        if approve:
            record(
                s, case, "extension_approved", now, by=user, note=reason, until=extension.until.isoformat()
            )
        else:
            record(s, case, "extension_denied", now, by=user, note=reason)
        requester = s.get(User, extension.requested_by_id)
        payload = case_payload(case, county) | {
            "step": "延期已批准" if approve else "延期未批准",
            "note": reason,
        }
        enqueue(s, now, "escalation", case, [requester] if requester else [], payload)
        uow.commit()
        _ = extension.case.number
        s.expunge_all()
    ctx.wake_outbox()
    return extension
