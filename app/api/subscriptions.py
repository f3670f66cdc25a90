"""Subscribe-message templates, users' answers, and failed notifications."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from app.api import ctx
from app.api.paging import paging
from app.api.schema import parse_body
from app.api.security import current_user, login_required, roles_required
from app.api.shapes import iso, page_json
from app.models import Case, Notification, User
from app.models.people import ADMIN, STAFF_ROLES, SUPERVISOR
from handlers.errors import Invalid
from handlers.notifications.subscriptions import record_answers, templates_for

bp = Blueprint("subscriptions", __name__, url_prefix="/api/v1")


@bp.get("/subscribe-templates")
@login_required
def subscribe_templates() -> Any:
    """{purpose: template_id} the client should ask the user to accept."""
    return jsonify(templates_for(ctx().county))


@bp.post("/staff/subscriptions")
@login_required
def subscriptions() -> Any:
    """What wx.requestSubscribeMessage answered: {template_id: accept|reject|ban|filter}."""
    from pydantic import RootModel

    class Answers(RootModel[dict[str, Any]]):
        pass

    data = parse_body(Answers).root  # type: ignore[attr-defined]
    if len(data) > 50:
        raise Invalid("一次最多提交 50 个模板", "too_many_templates")
    quotas = record_answers(ctx(), current_user().id, data)
    return jsonify({"quota": quotas})


@bp.get("/supervision/failed-notifications")
@roles_required(SUPERVISOR, ADMIN)
def failed_notifications() -> Any:
    """Notifications that can never be delivered, newest first."""
    page, per_page = paging()
    context = ctx()
    tz = ZoneInfo(context.county.timezone)
    # Sends that can never succeed, and staff nobody can reach (no
    # subscription, no WeCom id); a resident who did not subscribe chose so.
    where = (Notification.status == "failed") | (
        (Notification.status == "no_channel") & User.role.in_(STAFF_ROLES)
    )
    with context.uow() as uow:
        s = uow.session
        total = (
            s.scalar(
                select(func.count(Notification.id)).join(User, User.id == Notification.user_id).where(where)
            )
            or 0
        )
        rows = s.execute(
            select(Notification, User, Case.number)
            .join(User, User.id == Notification.user_id)
            .outerjoin(Case, Case.id == Notification.case_id)
            .where(where)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        items = [
            {
                "id": n.id,
                "status": n.status,
                "purpose": n.purpose,
                "case": {"id": n.case_id, "number": number} if n.case_id else None,
                "recipient": {
                    "id": u.id,
                    "role": u.role,
                    "department": u.department.name if u.department else None,
                },
                "attempts": n.attempts,
                "error": n.last_error,
                "created_at": iso(n.created_at, tz),
            }
            for n, u, number in rows
        ]
    return jsonify(page_json(items, page, per_page, total))
