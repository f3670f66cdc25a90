"""Supervisors (督办): re-dispatch, reject, merge, decide extensions."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import CaseOut, CaseRef, Listing, answer, case_out, iso
from app.api.web import CaseId, Paging, blueprint, ctx, supervisor
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


def _answer(case_id: int) -> Response:
    c = ctx()
    return answer(case_out(case_for(c, case_id, supervisor()), c.county))


@bp.post("/cases/<case_id>/dispatch", responses={200: CaseOut})
def dispatch(path: CaseId, body: Dispatch) -> Response:
    """Re-route a returned case by the responsibility list."""
    dispatch_case(ctx(), path.case_id, supervisor().id, body.category)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/reject", responses={200: CaseOut})
def reject(path: CaseId, body: Reject) -> Response:
    """Reject an invalid case; the resident sees the reason."""
    reject_case(ctx(), path.case_id, supervisor().id, body.reason)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/merge", responses={200: CaseOut})
def merge(path: CaseId, body: Merge) -> Response:
    """Merge a duplicate into the surviving case."""
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


@bp.get("/extensions", responses={200: Listing[ExtensionOut]})
def extension_requests(query: ExtensionFilter) -> Response:
    """Extension requests (?status=pending by default), oldest first."""
    supervisor()
    rows, total = extensions(ctx(), query.status, query.page, query.per_page)
    items = [_extension(e) for e in rows]
    return answer(Listing[ExtensionOut](items=items, page=query.page, per_page=query.per_page, total=total))


class ExtensionPath(Query):
    extension_id: ParamId = Field(title="延期申请")


@bp.post("/extensions/<extension_id>/approve", responses={200: ExtensionOut})
def approve(path: ExtensionPath, body: Approve) -> Response:
    """Approve: the resolve deadline becomes the requested time."""
    return answer(_extension(decide_extension(ctx(), path.extension_id, supervisor().id, True, body.note)))


@bp.post("/extensions/<extension_id>/deny", responses={200: ExtensionOut})
def deny(path: ExtensionPath, body: Deny) -> Response:
    """Deny, with a reason."""
    return answer(_extension(decide_extension(ctx(), path.extension_id, supervisor().id, False, body.reason)))
