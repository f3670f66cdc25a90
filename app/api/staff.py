"""Department staff: the queue and the handling steps."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import CaseOut, CaseSummary, Listing, answer, case_out, case_summary, iso
from app.api.web import CaseId, Paging, blueprint, ctx, errors, staff
from handlers.cases.handling import (
    ExtensionRequest,
    Nothing,
    Progress,
    Resolve,
    Return,
    accept_case,
    add_progress,
    request_extension,
    resolve_case,
    return_case,
)
from handlers.cases.queries import case_for
from handlers.cases.queue import department_queue
from handlers.cases.referral import Refer, refer_case

bp = blueprint("staff", "/api/v1/staff", "部门办理")
# A handling step: not staff or not the primary (403), no such case (404), wrong state (409).
HANDLING = errors(403, 404, 409)


class QueueFilter(Paging):
    status: str | None = Field(default=None, max_length=16, title="状态")
    overdue: Literal["true", "false", "1", "0"] | None = Field(default=None, title="是否超期")


class QueueItem(CaseSummary):
    my_role: str = Field(description="本部门在工单中的角色")
    overdue: bool
    due_at: str | None


def _answer(case_id: int) -> Response:
    c = ctx()
    return answer(case_out(case_for(c, case_id, staff()), c.county))


@bp.get("/cases", responses={200: Listing[QueueItem]} | errors(403))
def queue(query: QueueFilter) -> Response:
    """本部门的工单队列：期限最近的在前，同期限的先到先办"""
    c = ctx()
    overdue = None if query.overdue is None else query.overdue in ("true", "1")
    rows, total = department_queue(c, staff(), query.status or None, overdue, query.page, query.per_page)
    items = [
        QueueItem(
            **case_summary(r.case, c.county).model_dump(),
            my_role=r.my_role,
            overdue=r.overdue,
            due_at=iso(r.case.due_at, c.county.tz),
        )
        for r in rows
    ]
    return answer(Listing[QueueItem](items=items, page=query.page, per_page=query.per_page, total=total))


@bp.post("/cases/<case_id>/accept", responses={200: CaseOut} | HANDLING)
def accept(path: CaseId, body: Nothing) -> Response:
    """签收（主办部门）"""
    accept_case(ctx(), path.case_id, staff().id)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/progress", responses={200: CaseOut} | HANDLING)
def progress(path: CaseId, body: Progress) -> Response:
    """填写办理进展，可附照片（工单涉及的任一部门）"""
    add_progress(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/resolve", responses={200: CaseOut} | HANDLING)
def resolve(path: CaseId, body: Resolve) -> Response:
    """办结，须附办理结果照片（主办部门）"""
    resolve_case(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/return", responses={200: CaseOut} | HANDLING)
def return_(path: CaseId, body: Return) -> Response:
    """退回：不属于本部门，由领导小组办公室重新派发（主办部门）"""
    return_case(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


class ExtensionRequested(BaseModel):
    id: int
    status: str
    until: str | None
    reason: str


@bp.post("/cases/<case_id>/extension", responses={201: ExtensionRequested} | HANDLING)
def extension(path: CaseId, body: ExtensionRequest) -> Response:
    """申请延期，由督办人员审批（主办部门）"""
    ext = request_extension(ctx(), path.case_id, staff().id, body)
    out = ExtensionRequested(
        id=ext.id, status=ext.status, until=iso(ext.until, ctx().county.tz), reason=ext.reason
    )
    return answer(out, 201)


@bp.post("/cases/<case_id>/refer", responses={201: CaseOut} | HANDLING)
def refer(path: CaseId, body: Refer) -> Response:
    """移交：为另一部门（公安、消防、综合执法、市场监管等）生成关联工单

    By the primary department or a supervisor; answers this case, which lists
    the new one in ``referred_to``."""
    refer_case(ctx(), path.case_id, staff().id, body)
    c = ctx()
    return answer(case_out(case_for(c, path.case_id, staff()), c.county), 201)
