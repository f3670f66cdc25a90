"""Residents: file cases, follow them, rate or reopen them."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request
from pydantic import Field

from app.api import ctx
from app.api.paging import paging
from app.api.schema import Body, body
from app.api.security import current_user, login_required
from app.api.shapes import case_json, case_summary_json, page_json
from handlers.cases.queries import case_for, my_cases
from handlers.cases.resident import rate_case, reopen_case
from handlers.cases.submit import SubmitCase, submit_case
from handlers.errors import Invalid

bp = Blueprint("resident", __name__, url_prefix="/api/v1/cases")


class CaseBody(Body):
    category: str = Field(min_length=1, max_length=64)
    community_id: int = Field(ge=1, le=2**31 - 1)
    description: str = Field(min_length=5, max_length=1000)
    location_text: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    photo_ids: list[str] = Field(default_factory=list, max_length=9)
    anonymous: bool = False


class RatingBody(Body):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)


class ReopenBody(Body):
    reason: str = Field(min_length=2, max_length=500)


def _tz() -> ZoneInfo:
    return ZoneInfo(ctx().county.timezone)


@bp.post("")
@login_required
@body(CaseBody)
def file_case(data: CaseBody) -> Any:
    """File a case (Idempotency-Key header makes a retry answer the first case)."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 128:
        raise Invalid("Idempotency-Key 最长 128 个字符", "invalid_idempotency_key")
    context = ctx()
    case, created = submit_case(
        context,
        SubmitCase(
            reporter_id=current_user().id,
            category=data.category,
            community_id=data.community_id,
            description=data.description,
            location_text=data.location_text,
            lat=data.lat,
            lng=data.lng,
            photo_ids=data.photo_ids,
            anonymous=data.anonymous,
            idempotency_key=key,
        ),
    )
    view = case_for(context, case.id, current_user())
    answer = case_json(view.case, context.county, _tz(), view.photos_by_event, True)
    return jsonify(answer), 201 if created else 200


@bp.get("/mine")
@login_required
def mine() -> Any:
    """The caller's cases, newest first."""
    page, per_page = paging()
    context = ctx()
    cases, total = my_cases(context, current_user().id, page, per_page)
    tz = _tz()
    return jsonify(
        page_json([case_summary_json(c, context.county, tz) for c in cases], page, per_page, total)
    )


@bp.get("/<int:case_id>")
@login_required
def detail(case_id: int) -> Any:
    """One case with its timeline and photos."""
    context = ctx()
    view = case_for(context, case_id, current_user())
    return jsonify(case_json(view.case, context.county, _tz(), view.photos_by_event, view.viewer_is_reporter))


@bp.post("/<int:case_id>/rating")
@login_required
@body(RatingBody)
def rating(data: RatingBody, case_id: int) -> Any:
    """Rate the handling (1–5); closes the case."""
    context = ctx()
    rate_case(context, case_id, current_user().id, data.score, data.comment)
    view = case_for(context, case_id, current_user())
    return jsonify(case_json(view.case, context.county, _tz(), view.photos_by_event, True))


@bp.post("/<int:case_id>/reopen")
@login_required
@body(ReopenBody)
def reopen(data: ReopenBody, case_id: int) -> Any:
    """Send a resolved case back to the primary department."""
    context = ctx()
    reopen_case(context, case_id, current_user().id, data.reason)
    view = case_for(context, case_id, current_user())
    return jsonify(case_json(view.case, context.county, _tz(), view.photos_by_event, True))
