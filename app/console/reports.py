"""Statistics, rankings, bulletins and property companies: tables with
charts (ECharts, served from the app), exports, a print view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import redirect, request
from werkzeug.wrappers import Response

from app.api.property import PeriodQuery, bulletin_export, bulletin_of, rankings_export, rankings_of
from app.api.reports import StatsQuery, stats_export
from app.api.web import ctx
from app.console.forms import args
from app.console.paging import query_string
from app.console.web import bp, needs, page
from app.models.people import SUPERVISORS
from handlers.places.communities import community_page
from handlers.property.companies import company_overview
from handlers.supervision.reports import UnitStats, unit_stats


def _month(now: datetime) -> str:
    return now.astimezone(ctx().county.tz).strftime("%Y-%m")


def _bars(
    names: list[str], series: list[tuple[str, list[Any], str]], percent_axis: bool, unit: str = "件"
) -> dict[str, Any]:
    """An ECharts option: one category per unit, bars of counts, lines of percentages."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 48, "top": 36, "bottom": 90},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 40, "interval": 0}},
        "yAxis": [{"type": "value", "name": unit, "minInterval": 1}]
        + ([{"type": "value", "name": "%", "max": 100}] if percent_axis else []),
        "series": [
            {"name": name, "type": kind, "data": data, "yAxisIndex": 1 if kind == "line" else 0}
            for name, data, kind in series
        ],
    }


def _stats_chart(units: list[UnitStats]) -> dict[str, Any]:
    return _bars(
        [u.name for u in units],
        [
            ("受理", [u.received for u in units], "bar"),
            ("当前超期", [u.overdue_now for u in units], "bar"),
            ("按时办结率", [u.resolved_on_time_pct for u in units], "line"),
        ],
        percent_axis=True,
    )


@bp.get("/stats")
@needs(*SUPERVISORS)
def stats() -> tuple[str, int]:
    q = args(StatsQuery)
    start, end = q.bounds()
    departments, townships = unit_stats(ctx(), start, end)
    return page(
        "stats.html",
        q=q,
        start=start,
        end=end,
        departments=departments,
        townships=townships,
        charts={
            "chart-departments": _stats_chart(departments),
            "chart-townships": _stats_chart(townships),
        },
        export=query_string(),
    )


@bp.get("/stats.xlsx")
@needs(*SUPERVISORS)
def stats_xlsx() -> Response:
    return stats_export(args(StatsQuery))


def _score_chart(rows: list[Any]) -> dict[str, Any]:
    ranked = [r for r in rows if r.score is not None]
    return _bars([r.name for r in ranked], [("综合得分", [r.score for r in ranked], "bar")], False, "分")


@bp.get("/rankings")
@needs(*SUPERVISORS)
def rankings() -> tuple[str, int]:
    q = args(PeriodQuery, period=request.args.get("period") or _month(ctx().now()))
    data = rankings_of(q.period)
    return page(
        "rankings.html",
        q=q,
        data=data,
        charts={
            "chart-departments": _score_chart(data.departments),
            "chart-townships": _score_chart(data.townships),
        },
    )


@bp.get("/rankings.xlsx")
@needs(*SUPERVISORS)
def rankings_xlsx() -> Response:
    q = args(PeriodQuery, period=request.args.get("period") or _month(ctx().now()))
    return rankings_export(rankings_of(q.period))


@bp.get("/bulletins")
@needs(*SUPERVISORS)
def bulletins() -> Response:
    return redirect(f"/console/bulletins/{request.args.get('period') or _month(ctx().now())}")


@bp.get("/bulletins/<period>")
@needs(*SUPERVISORS)
def bulletin(period: str) -> Response | tuple[str, int]:
    """The bulletin ready to print (the console's chrome is not printed)."""
    text = args(PeriodQuery, period=period.removesuffix(".xlsx")).period
    if period.endswith(".xlsx"):
        return bulletin_export(text)
    return page("bulletin.html", text=text, **bulletin_of(text))


@bp.get("/property")
@needs(*SUPERVISORS)
def property_companies() -> tuple[str, int]:
    c = ctx()
    views = company_overview(c)
    disclosures = {
        served.id: community_page(c, served.id).disclosures for view in views for served in view.communities
    }
    return page("property.html", views=views, disclosures=disclosures, export=query_string())
