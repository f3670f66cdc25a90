"""Supervisors (督办): re-dispatch, reject, merge, decide extensions."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import CaseOut, CaseRef, Listing, answer, case_out, iso
from app.api.web import CaseId, Paging, blueprint, ctx, errors, supervisor
from app.models import Extension
from handlers.cases.queries import case_for
from handlers.commands import ParamId, Query
from handlers.supervision.actions import (
    Approve,
    Deny,
    Dispatch,
    Merge,
    Reject,
    decide_extension,
    dispatch_case,
    extensions,
    merge_case,
    reject_case,
)

bp = blueprint("supervision", "/api/v1/supervision", "督办")
# Not a supervisor (403), no such case or request (404), wrong state (409).
DECISION = errors(403, 404, 409)


def _answer(case_id: int) -> Response:
    c = ctx()
    return answer(case_out(case_for(c, case_id, supervisor()), c.county))


@bp.post("/cases/<case_id>/dispatch", responses={200: CaseOut} | DECISION)
def dispatch(path: CaseId, body: Dispatch) -> Response:
    """按责任清单重新派发被退回的工单"""
    dispatch_case(ctx(), path.case_id, supervisor().id, body.category)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/reject", responses={200: CaseOut} | DECISION)
def reject(path: CaseId, body: Reject) -> Response:
    """不予受理（无效工单），居民可看到理由"""
    reject_case(ctx(), path.case_id, supervisor().id, body.reason)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/merge", responses={200: CaseOut} | DECISION)
def merge(path: CaseId, body: Merge) -> Response:
    """把重复工单合并到保留的工单"""
    merge_case(ctx(), path.case_id, supervisor().id, body.into)
    return _answer(path.case_id)


class ExtensionOut(BaseModel):
    id: int
    case: CaseRef
    until: str | None
    reason: str
    status: str
    requested_at: str | None
    decision_note: str


def _extension(ext: Extension) -> ExtensionOut:
    tz = ctx().county.tz
    return ExtensionOut(
        id=ext.id,
        case=CaseRef(id=ext.case.id, number=ext.case.number),
        until=iso(ext.until, tz),
        reason=ext.reason,
        status=ext.status,
        requested_at=iso(ext.created_at, tz),
        decision_note=ext.decision_note,
    )


class ExtensionFilter(Paging):
    status: Literal["pending", "approved", "denied"] = Field(default="pending", title="状态")


@bp.get("/extensions", responses={200: Listing[ExtensionOut]} | errors(403))
def extension_requests(query: ExtensionFilter) -> Response:
    """延期申请（默认 status=pending 待审批），先申请的在前"""
    supervisor()
    rows, total = extensions(ctx(), query.status, query.page, query.per_page)
    items = [_extension(e) for e in rows]
    return answer(Listing[ExtensionOut](items=items, page=query.page, per_page=query.per_page, total=total))


class ExtensionPath(Query):
    extension_id: ParamId = Field(title="延期申请")


@bp.post("/extensions/<extension_id>/approve", responses={200: ExtensionOut} | DECISION)
def approve(path: ExtensionPath, body: Approve) -> Response:
    """批准延期：办结期限改为申请的时间"""
    return answer(_extension(decide_extension(ctx(), path.extension_id, supervisor().id, True, body.note)))


@bp.post("/extensions/<extension_id>/deny", responses={200: ExtensionOut} | DECISION)
def deny(path: ExtensionPath, body: Deny) -> Response:
    """不批准延期，须说明理由"""
    return answer(_extension(decide_extension(ctx(), path.extension_id, supervisor().id, False, body.reason)))
