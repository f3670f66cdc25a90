"""Department staff: the queue and the handling steps."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import CaseOut, CaseSummary, Listing, answer, case_out, case_summary, iso
from app.api.web import CaseId, Paging, blueprint, ctx, staff
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


@bp.get("/cases", responses={200: Listing[QueueItem]})
def queue(query: QueueFilter) -> Response:
    """The department's queue, soonest deadline first, ties oldest first."""
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


@bp.post("/cases/<case_id>/accept", responses={200: CaseOut})
def accept(path: CaseId, body: Nothing) -> Response:
    """签收."""
    accept_case(ctx(), path.case_id, staff().id)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/progress", responses={200: CaseOut})
def progress(path: CaseId, body: Progress) -> Response:
    """A progress note, with photos (any department on the case)."""
    add_progress(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/resolve", responses={200: CaseOut})
def resolve(path: CaseId, body: Resolve) -> Response:
    """办结, with evidence photos."""
    resolve_case(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


@bp.post("/cases/<case_id>/return", responses={200: CaseOut})
def return_(path: CaseId, body: Return) -> Response:
    """退回: not ours; the leading group office re-dispatches it."""
    return_case(ctx(), path.case_id, staff().id, body)
    return _answer(path.case_id)


class ExtensionRequested(BaseModel):
    id: int
    status: str
    until: str | None
    reason: str


@bp.post("/cases/<case_id>/extension", responses={201: ExtensionRequested})
def extension(path: CaseId, body: ExtensionRequest) -> Response:
    """延期: ask the supervisors for more time."""
    ext = request_extension(ctx(), path.case_id, staff().id, body)
    out = ExtensionRequested(
        id=ext.id, status=ext.status, until=iso(ext.until, ctx().county.tz), reason=ext.reason
    )
    return answer(out, 201)


@bp.post("/cases/<case_id>/refer", responses={201: CaseOut})
def refer(path: CaseId, body: Refer) -> Response:
    """移交: a linked case for another department (公安、消防、综合执法、市场监管…),
    by the primary department or a supervisor; answers this case, which lists
    the new one in ``referred_to``."""
    refer_case(ctx(), path.case_id, staff().id, body)
    c = ctx()
    return answer(case_out(case_for(c, path.case_id, staff()), c.county), 201)
