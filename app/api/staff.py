"""Department staff: the queue and the handling steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request
from pydantic import Field

from app.api import ctx
from app.api.paging import paging
from app.api.schema import Body, body
from app.api.security import current_user, roles_required
from app.api.shapes import case_json, case_summary_json, iso, page_json
from app.models.people import STAFF_ROLES
from handlers.cases.handling import (
    Resolve,
    accept_case,
    add_progress,
    end_of_day,
    request_extension,
    resolve_case,
    return_case,
)
from handlers.cases.queries import case_for
from handlers.cases.queue import department_queue
from handlers.errors import Invalid

bp = Blueprint("staff", __name__, url_prefix="/api/v1/staff")


class AcceptBody(Body):
    pass


class ProgressBody(Body):
    note: str = Field(min_length=1, max_length=1000)
    photo_ids: list[str] = Field(default_factory=list, max_length=9)


class ResolveBody(Body):
    note: str = Field(min_length=1, max_length=1000)
    photo_ids: list[str] = Field(default_factory=list, max_length=9)
    violation: str | None = Field(default=None, pattern="^(confirmed|denied)$")


class ReturnBody(Body):
    reason: str = Field(min_length=2, max_length=500)


class ExtensionBody(Body):
    reason: str = Field(min_length=2, max_length=500)
    until: str = Field(min_length=10, max_length=40)


def _tz() -> ZoneInfo:
    return ZoneInfo(ctx().county.timezone)


def parse_until(raw: str, tz: ZoneInfo) -> datetime:
    """A date means its end, county time; a time without offset is county time."""
    try:
        if len(raw) == 10:
            return end_of_day(date.fromisoformat(raw), tz)
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(
            "延期时间格式不正确，例如 2026-06-30 或 2026-06-30T18:00:00+08:00", "invalid_until"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _answer(case_id: int) -> Any:
    context = ctx()
    view = case_for(context, case_id, current_user())
    return jsonify(case_json(view.case, context.county, _tz(), view.photos_by_event, view.viewer_is_reporter))


@bp.get("/cases")
@roles_required(*STAFF_ROLES)
def queue() -> Any:
    """The department's queue, soonest deadline first."""
    page, per_page = paging()
    status = request.args.get("status") or None
    raw_overdue = request.args.get("overdue")
    overdue = None
    if raw_overdue:
        if raw_overdue.lower() not in ("1", "true", "0", "false"):
            raise Invalid("overdue 应为 true 或 false", "invalid_filter")
        overdue = raw_overdue.lower() in ("1", "true")
    context = ctx()
    now = context.now()
    rows, total = department_queue(context, current_user(), status, overdue, page, per_page)
    tz = _tz()
    items = [
        case_summary_json(case, context.county, tz)
        | {
            "my_role": role,
            "overdue": bool(case.due_at and case.due_at < now and case.status != "resolved"),
            "due_at": iso(case.due_at, tz),
        }
        for case, role in rows
    ]
    return jsonify(page_json(items, page, per_page, total))


@bp.post("/cases/<int:case_id>/accept")
@roles_required(*STAFF_ROLES)
@body(AcceptBody)
def accept(_data: AcceptBody, case_id: int) -> Any:
    """签收."""
    accept_case(ctx(), case_id, current_user().id)
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/progress")
@roles_required(*STAFF_ROLES)
@body(ProgressBody)
def progress(data: ProgressBody, case_id: int) -> Any:
    """A progress note, with photos."""
    add_progress(ctx(), case_id, current_user().id, data.note, data.photo_ids)
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/resolve")
@roles_required(*STAFF_ROLES)
@body(ResolveBody)
def resolve(data: ResolveBody, case_id: int) -> Any:
    """办结, with evidence photos."""
    resolve_case(ctx(), case_id, current_user().id, Resolve(data.note, data.photo_ids, data.violation))
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/return")
@roles_required(*STAFF_ROLES)
@body(ReturnBody)
def return_(data: ReturnBody, case_id: int) -> Any:
    """退回: not ours; the leading group office re-dispatches it."""
    return_case(ctx(), case_id, current_user().id, data.reason)
    return _answer(case_id)


@bp.post("/cases/<int:case_id>/extension")
@roles_required(*STAFF_ROLES)
@body(ExtensionBody)
def extension(data: ExtensionBody, case_id: int) -> Any:
    """延期: ask the supervisors for more time."""
    tz = _tz()
    ext = request_extension(ctx(), case_id, current_user().id, data.reason, parse_until(data.until, tz))
    return jsonify(
        {"id": ext.id, "status": ext.status, "until": iso(ext.until, tz), "reason": ext.reason}
    ), 201
