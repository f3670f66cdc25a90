"""Departments handle a case: accept (签收), progress, resolve (办结),
return (退回), ask for more time (延期).

Only the primary (主办) department accepts, returns, asks for an extension
and resolves; co-handlers (协办) and the township (属地) may add progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assignment, Case, Extension, Photo, User
from app.models.cases import ACCEPTED, DISPATCHED, REOPENED, RESOLVED, RETURNED
from handlers.cases.clocks import accepted, resolved, returned
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, supervisors, tell_reporter

HANDLING_OPEN = (DISPATCHED, ACCEPTED, REOPENED)


@dataclass
class Resolve:
    note: str
    photo_ids: list[str] = field(default_factory=list)
    violation: str | None = None


def _staff(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or not user.is_staff or user.department_id is None:
        raise Forbidden("仅部门工作人员可以办理工单", "staff_only")
    return user


def _case_for_staff(s: Session, case_id: int, user: User, primary_only: bool) -> Case:
    case = s.get(Case, case_id, with_for_update={"of": Case})
    if case is None:
        raise NotFound("找不到该工单", "case_not_found")
    role = s.scalar(
        select(Assignment.role).where(
            Assignment.case_id == case.id, Assignment.department_id == user.department_id
        )
    )
    if role is None:
        # Not this department's case: a handling step by a department that is
        # not the primary is refused, whether or not it co-handles.
        raise Forbidden("该工单不由本部门办理", "not_assigned")
    if primary_only and case.primary_department_id != user.department_id:
        raise Forbidden("只有主办部门可以进行此操作", "not_primary")
    return case


def _require_status(case: Case, allowed: tuple[str, ...], action: str) -> None:
    if case.status not in allowed:
        raise Conflict(f"工单当前状态（{case.status}）不能{action}", "invalid_state")


def _own_photos(s: Session, user: User, photo_ids: list[str]) -> None:
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid("照片重复", "duplicate_photos")
    if not photo_ids:
        return
    photos = {p.id: p for p in s.scalars(select(Photo).where(Photo.id.in_(photo_ids)))}
    for pid in photo_ids:
        photo = photos.get(pid)
        if photo is None or photo.owner_id != user.id:
            raise Invalid("照片不存在或不属于您，请重新上传", "unknown_photo")
        if photo.case_id is not None:
            raise Invalid("照片已用于其他记录，请重新上传", "photo_used")


def accept_case(ctx: Context, case_id: int, user_id: int) -> None:
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case = _case_for_staff(s, case_id, user, primary_only=True)
        _require_status(case, (DISPATCHED,), "签收")
        case.status = ACCEPTED
        accepted(case, ctx.county, now)
        record(s, case, "accepted", now, by=user, late=bool(case.accept_due_at and now > case.accept_due_at))
        tell_reporter(s, now, case, ctx.county, ACCEPTED)
        uow.commit()
    ctx.wake_outbox()


def add_progress(ctx: Context, case_id: int, user_id: int, note: str, photo_ids: list[str]) -> None:
    if not note.strip():
        raise Invalid("请填写进展说明", "invalid_note")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case = _case_for_staff(s, case_id, user, primary_only=False)
        _require_status(case, HANDLING_OPEN, "添加进展")
        _own_photos(s, user, photo_ids)
        case.updated_at = now
        record(s, case, "progress", now, by=user, note=note, photo_ids=photo_ids)
        uow.commit()


def resolve_case(ctx: Context, case_id: int, user_id: int, cmd: Resolve) -> None:
    if not cmd.note.strip():
        raise Invalid("请填写办结说明", "invalid_note")
    if not cmd.photo_ids:
        raise Invalid("办结需要至少一张现场照片作为证据", "evidence_required")
    now = ctx.now()
    county = ctx.county
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case = _case_for_staff(s, case_id, user, primary_only=True)
        _require_status(case, (ACCEPTED, REOPENED), "办结")
        category = county.categories.get(case.category)
        clause = category.clause if category is not None else None
        if clause is not None and cmd.violation not in ("confirmed", "denied"):
            raise Invalid("该类问题涉及“九不准”，请认定是否查实（confirmed 或 denied）", "violation_required")
        if clause is None and cmd.violation is not None:
            raise Invalid("该类问题不涉及“九不准”认定", "violation_not_applicable")
        _own_photos(s, user, cmd.photo_ids)
        case.status = RESOLVED
        resolved(case, county, now)
        case.violation = cmd.violation
        record(
            s,
            case,
            "resolved",
            now,
            by=user,
            note=cmd.note,
            photo_ids=cmd.photo_ids,
            violation=cmd.violation,
            late=bool(case.resolve_due_at and now > case.resolve_due_at),
        )
        if clause is not None and cmd.violation == "confirmed":
            from handlers.property.violations import confirm_violation

            confirm_violation(s, ctx, case, clause, user, cmd.note, now)
        tell_reporter(s, now, case, county, RESOLVED, cmd.note)
        uow.commit()
    ctx.wake_outbox()


def return_case(ctx: Context, case_id: int, user_id: int, reason: str) -> None:
    if not reason.strip():
        raise Invalid("请说明退回原因", "invalid_reason")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case = _case_for_staff(s, case_id, user, primary_only=True)
        _require_status(case, (DISPATCHED, ACCEPTED), "退回")
        case.status = RETURNED
        returned(case, now)
        record(s, case, "returned", now, by=user, note=reason)
        # The leading group office re-dispatches it.
        enqueue(
            s,
            now,
            "escalation",
            case,
            supervisors(s),
            case_payload(case, ctx.county) | {"step": "退回待派", "note": reason},
        )
        tell_reporter(s, now, case, ctx.county, RETURNED, reason)
        uow.commit()
    ctx.wake_outbox()


def end_of_day(value: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(value, time(23, 59, 59), tzinfo=tz)


def request_extension(ctx: Context, case_id: int, user_id: int, reason: str, until: datetime) -> Extension:
    if not reason.strip():
        raise Invalid("请说明延期原因", "invalid_reason")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case = _case_for_staff(s, case_id, user, primary_only=True)
        _require_status(case, HANDLING_OPEN, "申请延期")
        if until <= now or (case.resolve_due_at is not None and until <= case.resolve_due_at):
            raise Invalid("延期时间应晚于当前办结期限", "invalid_until")
        pending = s.scalar(
            select(Extension.id).where(Extension.case_id == case.id, Extension.status == "pending")
        )
        if pending is not None:
            raise Conflict("已有待审批的延期申请", "extension_pending")
        extension = Extension(
            case_id=case.id, requested_by_id=user.id, reason=reason, until=until, created_at=now
        )
        s.add(extension)
        s.flush()
        record(s, case, "extension_requested", now, by=user, note=reason, until=until.isoformat())
        enqueue(
            s,
            now,
            "escalation",
            case,
            supervisors(s),
            case_payload(case, ctx.county) | {"step": "延期审批", "note": reason},
        )
        uow.commit()
        uow.session.expunge(extension)
    ctx.wake_outbox()
    return extension
