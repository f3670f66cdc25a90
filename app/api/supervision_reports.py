"""Supervisors' lists: overdue cases and per-unit statistics, with exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request

from app.api import ctx
from app.api.paging import paging
from app.api.security import roles_required
from app.api.shapes import iso, page_json
from app.models.people import ADMIN, SUPERVISOR
from app.xlsx import workbook, xlsx_response
from handlers.errors import Invalid
from handlers.labels import STATUS_LABELS
from handlers.supervision.reports import OverdueFilter, overdue_cases, unit_stats

bp = Blueprint("supervision_reports", __name__, url_prefix="/api/v1/supervision")
SUPERVISORS = (SUPERVISOR, ADMIN)
STEP_LABELS = {"warning": "预警", "overdue": "超期", "supervision": "督办", "leader": "挂牌督办", None: ""}


def _tz() -> ZoneInfo:
    return ZoneInfo(ctx().county.timezone)


def _filter() -> OverdueFilter:
    args = request.args
    return OverdueFilter(
        department=args.get("department") or None,
        township=args.get("township") or None,
        category=args.get("category") or None,
        step=args.get("step") or None,
    )


def _overdue_item(case: Any, now: datetime, county: Any, tz: ZoneInfo) -> dict[str, Any]:
    category = county.categories.get(case.category)
    overdue_seconds = int((now - case.due_at).total_seconds())
    return {
        "id": case.id,
        "number": case.number,
        "category": case.category,
        "category_name": category.name if category else case.category,
        "community": {"id": case.community.id, "name": case.community.name},
        "township": case.community.township.name,
        "department": case.primary_department.name if case.primary_department else None,
        "status": case.status,
        "deadline": "accept" if case.status == "dispatched" else "resolve",
        "due_at": iso(case.due_at, tz),
        "overdue_seconds": overdue_seconds,
        "overdue_hours": round(overdue_seconds / 3600, 1),
        "escalation_step": case.escalation_step,
        "urgent": case.urgent,
        "needs_review": case.needs_review,
    }


@bp.get("/overdue")
@roles_required(*SUPERVISORS)
def overdue() -> Any:
    """Overdue cases, most overdue first (filters: department, township, category, step)."""
    page, per_page = paging()
    context = ctx()
    cases, total, now = overdue_cases(context, _filter(), page, per_page)
    tz = _tz()
    return jsonify(
        page_json([_overdue_item(c, now, context.county, tz) for c in cases], page, per_page, total)
    )


@bp.get("/overdue.xlsx")
@roles_required(*SUPERVISORS)
def overdue_xlsx() -> Any:
    """The overdue list as an Excel workbook, one row per case."""
    context = ctx()
    cases, _total, now = overdue_cases(context, _filter(), 1, 100_000)
    tz = _tz()
    headers = [
        "工单编号",
        "问题类别",
        "小区",
        "乡镇(街道)",
        "主办部门",
        "状态",
        "期限",
        "超期(小时)",
        "督办级别",
        "问题描述",
    ]
    rows = []
    for case in cases:
        item = _overdue_item(case, now, context.county, tz)
        rows.append(
            [
                item["number"],
                item["category_name"],
                item["community"]["name"],
                item["township"],
                item["department"],
                STATUS_LABELS.get(case.status, case.status),
                case.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if case.due_at else "",
                item["overdue_hours"],
                STEP_LABELS.get(case.escalation_step, case.escalation_step),
                case.description,
            ]
        )
    data = workbook([("超期工单", headers, rows)])
    return xlsx_response(data, f"超期工单-{now.astimezone(tz):%Y%m%d}.xlsx")


def period_bounds(tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """``from``/``to`` dates in county time; default this month to now."""

    def parse(name: str) -> date | None:
        raw = request.args.get(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise Invalid(f"{name} 应为日期，例如 2026-06-01", "invalid_date") from exc

    local_now = now.astimezone(tz)
    start_day = parse("from") or local_now.date().replace(day=1)
    end_day = parse("to")
    start = datetime.combine(start_day, time(0), tzinfo=tz)
    end = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=tz) if end_day else now
    if end <= start:
        raise Invalid("结束日期应晚于开始日期", "invalid_period")
    return start, end


@bp.get("/stats")
@roles_required(*SUPERVISORS)
def stats() -> Any:
    """Per department and per township: received, on-time %, overdue now, returned, satisfaction."""
    context = ctx()
    tz = _tz()
    start, end = period_bounds(tz, context.now())
    departments, townships = unit_stats(context, start, end)
    return jsonify(
        {
            "from": iso(start, tz),
            "to": iso(end, tz),
            "departments": [u.as_dict() for u in departments],
            "townships": [u.as_dict() for u in townships],
        }
    )


STATS_HEADERS = [
    "单位",
    "受理数",
    "按时签收率(%)",
    "按时办结率(%)",
    "当前超期",
    "退回数",
    "重新办理数",
    "满意度(5分制)",
]


def _stats_rows(units: list[Any]) -> list[list[Any]]:
    rows = []
    for unit in units:
        d = unit.as_dict()
        rows.append(
            [
                d["name"],
                d["received"],
                d["accepted_on_time_pct"],
                d["resolved_on_time_pct"],
                d["overdue_now"],
                d["returned"],
                d["reopened"],
                d["satisfaction"],
            ]
        )
    return rows


@bp.get("/stats.xlsx")
@roles_required(*SUPERVISORS)
def stats_xlsx() -> Any:
    """The statistics as an Excel workbook: departments and townships."""
    context = ctx()
    tz = _tz()
    start, end = period_bounds(tz, context.now())
    departments, townships = unit_stats(context, start, end)
    data = workbook(
        [
            ("部门", STATS_HEADERS, _stats_rows(departments)),
            ("乡镇(街道)", STATS_HEADERS, _stats_rows(townships)),
        ]
    )
    return xlsx_response(data, f"办理情况统计-{start:%Y%m%d}-{end.astimezone(tz):%Y%m%d}.xlsx")
