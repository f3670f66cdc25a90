"""The leading group office's desk: overdue cases and their export,
extension requests, notifications that could not be sent."""

from __future__ import annotations

from typing import Any

from flask import redirect, request
from werkzeug.wrappers import Response

from app.api.reports import OverdueQuery, overdue_export, overdue_item
from app.api.subscriptions import NotificationPath
from app.api.supervision import ExtensionFilter, ExtensionPath
from app.api.web import Paging, ctx
from app.console.forms import DONE, args, attempt, done, form
from app.console.paging import Pager, query_string
from app.console.web import bp, needs, page, viewer
from app.models.people import SUPERVISORS
from handlers.notifications.failures import failed_notifications, retry_notification
from handlers.places.communities import all_units
from handlers.supervision.actions import Approve, Deny, decide_extension, extensions
from handlers.supervision.reports import overdue_cases


@bp.get("/overdue")
def overdue() -> Response | tuple[str, int]:
    if viewer().role not in SUPERVISORS:
        # A head's overdue list is their department's queue (the API's rule).
        return redirect("/console/cases?overdue=1")
    q = args(OverdueQuery, per_page=request.args.get("per_page", "50"))
    rows, total = overdue_cases(ctx(), q.filter(), q.page, q.per_page)
    units = all_units(ctx())
    return page(
        "overdue.html",
        q=q,
        rows=[(overdue_item(r), r) for r in rows],
        pager=Pager(q.page, q.per_page, total),
        departments=[u.name for u in units if not u.is_township],
        townships=[u.name for u in units if u.is_township],
        export=query_string(),
    )


@bp.get("/overdue.xlsx")
@needs(*SUPERVISORS)
def overdue_xlsx() -> Response:
    return overdue_export(args(OverdueQuery))


def _extensions_page(error: str = "", status: int = 200) -> tuple[str, int]:
    q = args(ExtensionFilter)
    rows, total = extensions(ctx(), q.status, q.page, q.per_page)
    return page(
        "extensions.html",
        status=status,
        q=q,
        rows=rows,
        pager=Pager(q.page, q.per_page, total),
        error=error,
        notice=DONE.get(request.args.get("ok", "")),
    )


@bp.get("/extensions")
@needs(*SUPERVISORS)
def extension_list() -> tuple[str, int]:
    return _extensions_page()


def _decide(extension_id: str, approve: bool) -> Response | Any:
    eid = args(ExtensionPath, extension_id=extension_id).extension_id

    def run() -> None:
        reason = form(Approve, "note").note if approve else form(Deny, "reason").reason
        decide_extension(ctx(), eid, viewer().id, approve, reason)

    return attempt(
        run, lambda: done("/console/extensions", "approve" if approve else "deny"), _extensions_page
    )


@bp.post("/extensions/<extension_id>/approve")
@needs(*SUPERVISORS)
def extension_approve(extension_id: str) -> Response | Any:
    return _decide(extension_id, True)


@bp.post("/extensions/<extension_id>/deny")
@needs(*SUPERVISORS)
def extension_deny(extension_id: str) -> Response | Any:
    return _decide(extension_id, False)


PURPOSES = {"new_case": "新工单通知", "escalation": "督办提醒", "case_update": "办理进度通知"}
FAILURES = {"failed": "发送失败", "no_channel": "无法送达（未订阅消息且无企业微信）"}


def _failures_page(error: str = "", status: int = 200) -> tuple[str, int]:
    q = args(Paging)
    rows, total = failed_notifications(ctx(), q.page, q.per_page)
    return page(
        "failures.html",
        status=status,
        rows=rows,
        pager=Pager(q.page, q.per_page, total),
        purposes=PURPOSES,
        failures=FAILURES,
        error=error,
        notice=DONE.get(request.args.get("ok", "")),
    )


@bp.get("/failed-notifications")
@needs(*SUPERVISORS)
def failures() -> tuple[str, int]:
    return _failures_page()


@bp.post("/failed-notifications/<notification_id>/retry")
@needs(*SUPERVISORS)
def retry(notification_id: str) -> Response | Any:
    nid = args(NotificationPath, notification_id=notification_id).notification_id
    return attempt(
        lambda: retry_notification(ctx(), nid, viewer().id),
        lambda: done("/console/failed-notifications", "retry"),
        _failures_page,
    )
