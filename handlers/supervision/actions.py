"""The leading group office: re-dispatch, reject, merge, decide extensions."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Case, Extension, User
from app.models.cases import DISPATCHED, MERGED, OPEN_STATUSES, REJECTED, RETURNED, SUBMITTED
from app.models.people import ADMIN, SUPERVISOR
from handlers.cases.clocks import extension_approved, start_clocks, stop_clocks
from handlers.cases.dispatching import announce, assign, routed_departments
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, tell_reporter


def _supervisor(s, user_id: int) -> User:  # type: ignore[no-untyped-def]
    user = s.get(User, user_id)
    if user is None or user.role not in (SUPERVISOR, ADMIN):
        raise Forbidden("仅督办人员可以进行此操作", "supervisor_only")
    return user


def _case(s, case_id: int) -> Case:  # type: ignore[no-untyped-def]
    case = s.get(Case, case_id, with_for_update={"of": Case})
    if case is None:
        raise NotFound("找不到该工单", "case_not_found")
    return case


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
        case = _case(s, case_id)
        if case.status not in (RETURNED, SUBMITTED):
            raise Conflict("只有被退回或待派发的工单可以重新派发", "invalid_state")
        routed, departments = routed_departments(s, county, category.code, case.community.township.name)
        for assignment in list(case.assignments):
            case.assignments.remove(assignment)
        s.flush()
        case.category = category.code
        case.route = category.route
        case.urgent = category.urgent
        case.config_version = county.version
        case.status = DISPATCHED
        case.updated_at = now
        start_clocks(case, county, now)
        assign(s, case, routed, departments, now)
        announce(s, case, routed, departments, now, county, f"重新派发（{category.name}）", by=user)
        uow.commit()
    ctx.wake_outbox()


def reject_case(ctx: Context, case_id: int, user_id: int, reason: str) -> None:
    if not reason.strip():
        raise Invalid("请说明不予受理的原因（居民可见）", "invalid_reason")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        case = _case(s, case_id)
        if case.status not in OPEN_STATUSES:
            raise Conflict("该工单已办结或已关闭，不能不予受理", "invalid_state")
        case.status = REJECTED
        case.reject_reason = reason
        case.updated_at = now
        stop_clocks(case)
        record(s, case, "rejected", now, by=user, note=reason)
        tell_reporter(s, now, case, ctx.county, REJECTED, reason)
        uow.commit()
    ctx.wake_outbox()


def merge_case(ctx: Context, case_id: int, user_id: int, into_id: int) -> None:
    if case_id == into_id:
        raise Invalid("不能合并到自身", "invalid_merge")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        case = _case(s, case_id)
        target = s.get(Case, into_id)
        if target is None:
            raise NotFound("找不到要合并到的工单", "merge_target_not_found")
        if case.status not in OPEN_STATUSES:
            raise Conflict("只有未办结的工单可以合并", "invalid_state")
        if target.status in (MERGED, REJECTED) or target.merged_into_id is not None:
            raise Conflict("目标工单已合并或未受理，不能合并到它", "invalid_merge_target")
        case.status = MERGED
        case.merged_into_id = target.id
        case.updated_at = now
        stop_clocks(case)
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
        tell_reporter(s, now, case, ctx.county, MERGED, f"已并入工单 {target.number}")
        uow.commit()
    ctx.wake_outbox()


def pending_extensions(ctx: Context, status: str, page: int, per_page: int) -> tuple[list[Extension], int]:
    from sqlalchemy import func

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
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _supervisor(s, user_id)
        extension = s.get(Extension, extension_id, with_for_update={"of": Extension})
        if extension is None:
            raise NotFound("找不到该延期申请", "extension_not_found")
        if extension.status != "pending":
            raise Conflict("该延期申请已处理", "extension_decided")
        case = _case(s, extension.case_id)
        extension.status = "approved" if approve else "denied"
        extension.decided_by_id = user.id
        extension.decided_at = now
        extension.decision_note = reason
        if approve:
            if case.status not in OPEN_STATUSES:
                raise Conflict("工单已办结或关闭，无需延期", "invalid_state")
            extension_approved(case, ctx.county, extension.until, now)
            record(
                s, case, "extension_approved", now, by=user, note=reason, until=extension.until.isoformat()
            )
        else:
            record(s, case, "extension_denied", now, by=user, note=reason)
        requester = s.get(User, extension.requested_by_id)
        if requester is not None:
            enqueue(
                s,
                now,
                "escalation",
                case,
                [requester],
                case_payload(case, ctx.county)
                | {"step": "延期已批准" if approve else "延期未批准", "note": reason},
            )
        uow.commit()
        _ = extension.case.number
        s.expunge_all()
    ctx.wake_outbox()
    return extension
