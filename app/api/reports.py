"""Supervisors' lists: overdue cases and per-unit statistics, with exports."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import Listing, answer, iso
from app.api.web import Paging, blueprint, ctx, errors, supervisor
from app.xlsx import XLSX, workbook, xlsx_response
from handlers.commands import Query
from handlers.errors import Invalid
from handlers.supervision.reports import OverdueFilter, OverdueRow, UnitStats, overdue_cases, unit_stats
from routing.periods import DATE_PATTERN, date_range, parse_day

bp = blueprint("reports", "/api/v1/supervision", "督办")


class OverdueFilters(Query):
    department: str | None = Field(default=None, max_length=64, title="主办部门")
    township: str | None = Field(default=None, max_length=64, title="乡镇(街道)")
    category: str | None = Field(default=None, max_length=64, title="问题类别")
    step: str | None = Field(default=None, max_length=16, title="督办级别")

    def filter(self) -> OverdueFilter:
        return OverdueFilter(
            self.department or None, self.township or None, self.category or None, self.step or None
        )


class OverdueQuery(OverdueFilters, Paging):
    pass


class OverdueItem(BaseModel):
    id: int
    number: str
    category: str
    category_name: str
    community: dict[str, int | str]
    township: str
    department: str | None
    status: str
    deadline: str = Field(description="accept 或 resolve：已过的期限")
    due_at: str | None
    overdue_seconds: int
    overdue_hours: float
    escalation_step: str | None
    urgent: bool
    needs_review: bool
    description: str


def overdue_item(row: OverdueRow) -> OverdueItem:
    case, county = row.case, ctx().county
    category = county.categories.get(case.category)
    return OverdueItem(
        id=case.id,
        number=case.number,
        category=case.category,
        category_name=category.name if category else case.category,
        community={"id": case.community.id, "name": case.community.name},
        township=case.community.township.name,
        department=case.primary_department.name if case.primary_department else None,
        status=case.status,
        deadline=row.deadline,
        due_at=iso(case.due_at, county.tz),
        overdue_seconds=row.overdue_seconds,
        overdue_hours=round(row.overdue_seconds / 3600, 1),
        escalation_step=case.escalation_step,
        urgent=case.urgent,
        needs_review=case.needs_review,
        description=case.description,
    )


@bp.get("/overdue", responses={200: Listing[OverdueItem]} | errors(403))
def overdue(query: OverdueQuery) -> Response:
    """超期工单，超期最久的在前（可按主办部门、乡镇、类别、督办级别筛选）"""
    supervisor()
    rows, total = overdue_cases(ctx(), query.filter(), query.page, query.per_page)
    items = [overdue_item(r) for r in rows]
    return answer(Listing[OverdueItem](items=items, page=query.page, per_page=query.per_page, total=total))


OVERDUE_HEADERS = [
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


@bp.get("/overdue.xlsx", responses={200: XLSX} | errors(403))
def overdue_xlsx(query: OverdueFilters) -> Response:
    """导出超期工单 Excel，每件一行"""
    supervisor()
    return overdue_export(query)


def overdue_export(query: OverdueFilters) -> Response:
    """The overdue list's workbook (the API's export and the console's)."""
    c = ctx()
    county = c.county
    rows, _total = overdue_cases(c, query.filter(), 1, 100_000)
    lines = []
    for row in rows:
        item = overdue_item(row)
        due = row.case.due_at.astimezone(county.tz).strftime("%Y-%m-%d %H:%M") if row.case.due_at else ""
        lines.append(
            [
                item.number,
                item.category_name,
                row.case.community.name,
                item.township,
                item.department,
                county.labels.status(item.status),
                due,
                item.overdue_hours,
                county.step_label(item.escalation_step),
                item.description,
            ]
        )
    data = workbook([("超期工单", OVERDUE_HEADERS, lines)])
    return xlsx_response(data, f"超期工单-{c.now().astimezone(county.tz):%Y%m%d}.xlsx")


class StatsQuery(Query):
    from_: str | None = Field(
        default=None,
        alias="from",
        pattern=f"^{DATE_PATTERN}$",
        title="开始日期",
        description="如 2026-06-01；默认本月 1 日",
    )
    to: str | None = Field(
        default=None, pattern=f"^{DATE_PATTERN}$", title="结束日期", description="默认到现在"
    )

    def bounds(self) -> tuple[datetime, datetime]:
        """``from``/``to`` dates in county time; default this month to now."""
        c = ctx()
        try:
            first = parse_day(self.from_) if self.from_ else None
            last = parse_day(self.to) if self.to else None
        except ValueError as exc:
            raise Invalid("日期格式应为 2026-06-01（2000 至 2100 年）", "invalid_date") from exc
        try:
            return date_range(first, last, c.county.tz, c.now())
        except ValueError as exc:
            raise Invalid("结束日期应晚于开始日期", "invalid_period") from exc


class UnitStatsOut(BaseModel):
    id: int
    name: str
    kind: str
    received: int
    accepted_on_time_pct: float | None
    resolved_on_time_pct: float | None
    overdue_now: int
    returned: int
    returned_pct: float | None
    reopened: int
    reopened_pct: float | None
    satisfaction: float | None
    rated: int


def unit_out(u: UnitStats) -> UnitStatsOut:
    return UnitStatsOut(
        id=u.id,
        name=u.name,
        kind=u.kind,
        received=u.received,
        accepted_on_time_pct=u.accepted_on_time_pct,
        resolved_on_time_pct=u.resolved_on_time_pct,
        overdue_now=u.overdue_now,
        returned=u.returned,
        returned_pct=u.returned_pct,
        reopened=u.reopened,
        reopened_pct=u.reopened_pct,
        satisfaction=u.satisfaction,
        rated=len(u.ratings),
    )


class StatsOut(BaseModel):
    from_: str | None = Field(alias="from")
    to: str | None
    departments: list[UnitStatsOut]
    townships: list[UnitStatsOut]


@bp.get("/stats", responses={200: StatsOut} | errors(403))
def stats(query: StatsQuery) -> Response:
    """各部门、各乡镇的办理情况：受理数、按时签收率、按时办结率、当前超期、退回、满意度"""
    supervisor()
    start, end = query.bounds()
    departments, townships = unit_stats(ctx(), start, end)
    tz = ctx().county.tz
    return answer(
        StatsOut.model_validate(
            {
                "from": iso(start, tz),
                "to": iso(end, tz),
                "departments": [unit_out(u) for u in departments],
                "townships": [unit_out(u) for u in townships],
            }
        )
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


def _stats_rows(units: list[UnitStats]) -> list[list[object]]:
    return [
        [
            u.name,
            u.received,
            u.accepted_on_time_pct,
            u.resolved_on_time_pct,
            u.overdue_now,
            u.returned,
            u.reopened,
            u.satisfaction,
        ]
        for u in units
    ]


@bp.get("/stats.xlsx", responses={200: XLSX} | errors(403))
def stats_xlsx(query: StatsQuery) -> Response:
    """导出办理情况统计 Excel（部门、乡镇各一张表）"""
    supervisor()
    return stats_export(query)


def stats_export(query: StatsQuery) -> Response:
    """The statistics' workbook (the API's export and the console's)."""
    start, end = query.bounds()
    departments, townships = unit_stats(ctx(), start, end)
    data = workbook(
        [
            ("部门", STATS_HEADERS, _stats_rows(departments)),
            ("乡镇(街道)", STATS_HEADERS, _stats_rows(townships)),
        ]
    )
    tz = ctx().county.tz
    return xlsx_response(data, f"办理情况统计-{start:%Y%m%d}-{end.astimezone(tz):%Y%m%d}.xlsx")
