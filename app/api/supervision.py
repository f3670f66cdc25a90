"""Supervisors (督办): re-dispatch, reject, merge, decide extensions."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request
from pydantic import Field

from app.api import ctx
from app.api.paging import paging
from app.api.schema import Body, body
from app.api.security import current_user, roles_required
from app.api.shapes import case_json, iso, page_json
from app.models.people import ADMIN, SUPERVISOR
from handlers.cases.queries import case_for
from handlers.errors import Invalid
from handlers.supervision.actions import (
    decide_extension,
    dispatch_case,
    merge_case,
    pending_extensions,
    reject_case,
)

bp = Blueprint("supervision", __name__, url_prefix="/api/v1/supervision")
SUPERVISORS = (SUPERVISOR, ADMIN)


class DispatchBody(Body):
    category: str = Field(min_length=1, max_length=64)


class RejectBody(Body):
    reason: str = Field(min_length=2, max_length=500)


class MergeBody(Body):
    into: int = Field(ge=1, le=2**31 - 1)


class ApproveBody(Body):
    note: str = Field(default="", max_length=500)


class DenyBody(Body):
    reason: str = Field(min_length=2, max_length=500)


def _tz() -> ZoneInfo:
    return ZoneInfo(ctx().county.timezone)


def _answer(case_id: int) -> Any:
    context = ctx()
    view = case_for(context, case_id, current_user())
    return jsonify(case_json(view.case, context.county, _tz(), view.photos_by_event, view.viewer_is_reporter))


@bp.post("/cases/<int:case_id>/dispatch")
@roles_required(*SUPERVISORS)
@body(DispatchBody)
def dispatch(data: DispatchBody, case_id: int) -> Any:
    """Re-route a returned case by the responsibility list."""
    dispatch_case(ctx(), case_id, current_user().id, data.category)
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/reject")
@roles_required(*SUPERVISORS)
@body(RejectBody)
def reject(data: RejectBody, case_id: int) -> Any:
    """Reject an invalid case; the resident sees the reason."""
    reject_case(ctx(), case_id, current_user().id, data.reason)
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/merge")
@roles_required(*SUPERVISORS)
@body(MergeBody)
def merge(data: MergeBody, case_id: int) -> Any:
    """Merge a duplicate into the surviving case."""
    merge_case(ctx(), case_id, current_user().id, data.into)
    return _answer(case_id)


def _extension_json(ext: Any, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": ext.id,
        "case": {"id": ext.case.id, "number": ext.case.number},
        "until": iso(ext.until, tz),
        "reason": ext.reason,
        "status": ext.status,
        "requested_at": iso(ext.created_at, tz),
        "decision_note": ext.decision_note,
    }


@bp.get("/extensions")
@roles_required(*SUPERVISORS)
def extensions() -> Any:
    """Extension requests (?status=pending by default)."""
    status = request.args.get("status", "pending")
    if status not in ("pending", "approved", "denied"):
        raise Invalid("status 应为 pending、approved 或 denied", "invalid_filter")
    page, per_page = paging()
    rows, total = pending_extensions(ctx(), status, page, per_page)
    tz = _tz()
    return jsonify(page_json([_extension_json(e, tz) for e in rows], page, per_page, total))


@bp.post("/extensions/<int:extension_id>/approve")
@roles_required(*SUPERVISORS)
@body(ApproveBody)
def approve(data: ApproveBody, extension_id: int) -> Any:
    """Approve: the resolve deadline becomes the requested time."""
    ext = decide_extension(ctx(), extension_id, current_user().id, True, data.note)
    return jsonify(_extension_json(ext, _tz()))


@bp.post("/extensions/<int:extension_id>/deny")
@roles_required(*SUPERVISORS)
@body(DenyBody)
def deny(data: DenyBody, extension_id: int) -> Any:
    """Deny, with a reason."""
    ext = decide_extension(ctx(), extension_id, current_user().id, False, data.reason)
    return jsonify(_extension_json(ext, _tz()))
