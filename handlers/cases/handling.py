"""Departments handle a case: accept (签收), progress, resolve (办结),
return (退回), ask for more time (延期).

Who may take which step from which state is the lifecycle table's
(routing/lifecycle.py): only the primary (主办) department accepts, returns,
asks for an extension and resolves; co-handlers (协办) and the township
(属地) may add progress.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Extension, User, Violation
from handlers.cases.access import own_unused_photos, take
from handlers.cases.clocks import advance
from handlers.cases.content import screen_as
from handlers.cases.timeline import record
from handlers.commands import Command
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid
from handlers.notifications.notify import case_payload, enqueue, supervisors, tell_reporter
from handlers.property.violations import confirm_violation
from routing import CountyConfig
from routing.lifecycle import RESOLVED, RETURNED
from routing.periods import FIRST_YEAR, LAST_YEAR, parse_day

Note = Annotated[str, Field(min_length=1, max_length=1000, title="说明")]
Reason = Annotated[str, Field(min_length=2, max_length=500, title="原因")]
PhotoIds = Annotated[list[str], Field(max_length=9, title="照片")]
# An extension is counted against working time; a year is more than any case needs.
MAX_EXTENSION = timedelta(days=366)


class Nothing(Command):
    """A step that needs no words (accept: ``{}``)."""


class Progress(Command):
    note: Note
    photo_ids: PhotoIds = []


class Resolve(Command):
    note: Note
    photo_ids: PhotoIds = []
    violation: Literal["confirmed", "denied"] | None = Field(
        default=None, title="违规认定", description="涉及“九不准”的类别必填：confirmed 查实，denied 不属实"
    )


class Return(Command):
    reason: Reason


class ExtensionRequest(Command):
    reason: Reason
    until: str = Field(
        min_length=10, max_length=40, title="延期至", description="日期（指当天结束，县区时间）或带时区的时间"
    )


def _staff(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or not user.is_staff or user.department_id is None:
        raise Forbidden("仅部门工作人员可以办理工单", "staff_only")
    return user


def accept_case(ctx: Context, case_id: int, user_id: int) -> None:
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case, step = take(s, case_id, user, "accept", ctx.county)
        county = ctx.county_of(case.config_version)
        late = bool(case.accept_due_at and now > case.accept_due_at)
        advance(case, step, county, now)
        record(s, case, "accepted", now, by=user, late=late)
        tell_reporter(s, now, case, county, "accepted")
        uow.commit()
    ctx.wake_outbox()


def add_progress(ctx: Context, case_id: int, user_id: int, cmd: Progress) -> None:
    flagged = screen_as(ctx, user_id, cmd.note)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case, step = take(s, case_id, user, "progress", ctx.county)
        case.needs_review = case.needs_review or flagged
        own_unused_photos(s, user.id, cmd.photo_ids)
        advance(case, step, ctx.county_of(case.config_version), now)
        record(s, case, "progress", now, by=user, note=cmd.note, photo_ids=cmd.photo_ids)
        uow.commit()


def _violation_clause(county: CountyConfig, category_code: str, violation: str | None) -> int | None:
    """The 九不准 clause a resolution confirms or denies; a clause category needs an answer."""
    category = county.categories.get(category_code)
    clause = category.clause if category is not None else None
    if clause is not None and violation not in ("confirmed", "denied"):
        raise Invalid("该类问题涉及“九不准”，请认定是否查实（confirmed 或 denied）", "violation_required")
    if clause is None and violation is not None:
        raise Invalid("该类问题不涉及“九不准”认定", "violation_not_applicable")
    return clause


def resolve_case(ctx: Context, case_id: int, user_id: int, cmd: Resolve) -> None:
    if not cmd.photo_ids:
        raise Invalid("办结需要至少一张现场照片作为证据", "evidence_required")
    flagged = screen_as(ctx, user_id, cmd.note)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case, step = take(s, case_id, user, "resolve", ctx.county)
        case.needs_review = case.needs_review or flagged
        county = ctx.county_of(case.config_version)
        clause = _violation_clause(county, case.category, cmd.violation)
        if cmd.violation == "denied" and s.scalar(
            select(Violation.id).where(Violation.case_id == case.id, Violation.withdrawn_at.is_(None))
        ):
            raise Invalid(
                "该工单已认定查实违规；如认定有误，请由督办人员复核撤销", "violation_already_confirmed"
            )
        own_unused_photos(s, user.id, cmd.photo_ids)
        late = bool(case.resolve_due_at and now > case.resolve_due_at)
        advance(case, step, county, now)
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
            late=late,
        )
        if clause is not None and cmd.violation == "confirmed":
            confirm_violation(s, ctx, case, clause, user, cmd.note, now)
        tell_reporter(s, now, case, county, RESOLVED, cmd.note)
        uow.commit()
    ctx.wake_outbox()


def return_case(ctx: Context, case_id: int, user_id: int, cmd: Return) -> None:
    reason = cmd.reason
    flagged = screen_as(ctx, user_id, reason)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case, step = take(s, case_id, user, "return", ctx.county)
        case.needs_review = case.needs_review or flagged
        county = ctx.county_of(case.config_version)
        advance(case, step, county, now)
        record(s, case, "returned", now, by=user, note=reason)
        # The leading group office re-dispatches it.
        payload = case_payload(case, county) | {"step": "退回待派", "note": reason}
        enqueue(s, now, "escalation", case, supervisors(s), payload)
        tell_reporter(s, now, case, county, RETURNED, reason)
        uow.commit()
    ctx.wake_outbox()


def deadline_from(text: str, tz: ZoneInfo) -> datetime:
    """A date means its end, county time; a time without an offset is county time."""
    try:
        if len(text) == 10:
            return datetime.combine(parse_day(text), time(23, 59, 59), tzinfo=tz)
        value = datetime.fromisoformat(text)
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError("year out of range")
    except ValueError as exc:
        raise Invalid(
            "延期时间格式不正确，例如 2026-06-30 或 2026-06-30T18:00:00+08:00", "invalid_until"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def request_extension(ctx: Context, case_id: int, user_id: int, cmd: ExtensionRequest) -> Extension:
    reason, until = cmd.reason, deadline_from(cmd.until, ctx.county.tz)
    flagged = screen_as(ctx, user_id, reason)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _staff(s, user_id)
        case, _step = take(s, case_id, user, "extension", ctx.county)
        if until <= now or (case.resolve_due_at is not None and until <= case.resolve_due_at):
            raise Invalid("延期时间应晚于当前办结期限", "invalid_until")
        if until > now + MAX_EXTENSION:
            raise Invalid("延期时间最长为一年", "invalid_until")
        if s.scalar(select(Extension.id).where(Extension.case_id == case.id, Extension.status == "pending")):
            raise Conflict("已有待审批的延期申请", "extension_pending")
        extension = Extension(
            case_id=case.id, requested_by_id=user.id, reason=reason, until=until, created_at=now
        )
        s.add(extension)
        case.updated_at = now
        case.needs_review = case.needs_review or flagged
        record(s, case, "extension_requested", now, by=user, note=reason, until=until.isoformat())
        payload = case_payload(case, ctx.county_of(case.config_version)) | {
            "step": "延期审批",
            "note": reason,
        }
        enqueue(s, now, "escalation", case, supervisors(s), payload)
        uow.commit()
        uow.session.expunge(extension)
    ctx.wake_outbox()
    return extension
