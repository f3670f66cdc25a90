"""Rankings (评比), bulletins (通报) and property companies, for supervisors."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, render_template, request

from app.api import ctx
from app.api.security import roles_required
from app.api.shapes import iso
from app.models.people import ADMIN, SUPERVISOR
from app.xlsx import workbook, xlsx_response
from handlers.errors import Invalid
from handlers.property.companies import company_overview
from handlers.supervision.rankings import overdue_in_period, parse_period, rankings

bp = Blueprint("property", __name__, url_prefix="/api/v1/supervision")
SUPERVISORS = (SUPERVISOR, ADMIN)
STEP_NAMES = {0: "无", 1: "约谈整改", 2: "降星", 3: "清退", 4: "黑名单"}
UNIT_HEADERS = [
    "名次",
    "单位",
    "受理数",
    "按时签收率(%)",
    "按时办结率(%)",
    "当前超期",
    "退回率(%)",
    "重新办理率(%)",
    "满意度",
    "综合得分",
]


def _tz() -> ZoneInfo:
    return ZoneInfo(ctx().county.timezone)


def _period_arg() -> str:
    period = request.args.get("period", "").strip()
    if not period:
        raise Invalid("请指定统计周期，例如 period=2025-06、2025-Q2 或 2025", "missing_period")
    return period


def _unit_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["rank"],
            r["name"],
            r["received"],
            r["accepted_on_time_pct"],
            r["resolved_on_time_pct"],
            r["overdue_now"],
            r["returned_pct"],
            r["reopened_pct"],
            r["satisfaction"],
            r["score"],
        ]
        for r in rows
    ]


def _company_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["rank"],
            r["name"],
            r["violations"],
            STEP_NAMES.get(r["ladder_step"], r["ladder_step"]),
            "是" if r["blacklisted"] else "",
        ]
        for r in rows
    ]


def _ranking_sheets(data: dict[str, Any]) -> list[Any]:
    return [
        ("部门排名", UNIT_HEADERS, _unit_rows(data["departments"])),
        ("乡镇(街道)排名", UNIT_HEADERS, _unit_rows(data["townships"])),
        (
            "物业企业",
            ["名次", "企业", "查实违规(条)", "九不准档次", "黑名单"],
            _company_rows(data["property_companies"]),
        ),
    ]


@bp.get("/rankings")
@roles_required(*SUPERVISORS)
def ranking() -> Any:
    """Departments, townships and property companies ranked for a period."""
    return jsonify(rankings(ctx(), parse_period(_period_arg(), _tz())))


@bp.get("/rankings.xlsx")
@roles_required(*SUPERVISORS)
def ranking_xlsx() -> Any:
    """The rankings as an Excel workbook."""
    period = parse_period(_period_arg(), _tz())
    data = rankings(ctx(), period)
    book = workbook(_ranking_sheets(data))
    return xlsx_response(book, f"评比排名-{period.label}.xlsx")


def _bulletin(period_text: str) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    period = parse_period(period_text, _tz())
    context = ctx()
    return period, rankings(context, period), overdue_in_period(context, period)


@bp.get("/bulletins/<period>")
@roles_required(*SUPERVISORS)
def bulletin(period: str) -> Any:
    """The printable bulletin (通报) of a period, HTML; append .xlsx for the workbook."""
    if period.endswith(".xlsx"):
        return bulletin_xlsx(period.removesuffix(".xlsx"))
    parsed, data, overdue = _bulletin(period)
    context = ctx()
    html = render_template(
        "bulletin.html",
        county=context.county.county,
        period=parsed,
        data=data,
        overdue=overdue,
        steps=STEP_NAMES,
        generated=context.now().astimezone(_tz()).strftime("%Y年%m月%d日 %H:%M"),
    )
    return Response(html, mimetype="text/html")


def bulletin_xlsx(period: str) -> Any:
    parsed, data, overdue = _bulletin(period)
    book = workbook(
        [
            *_ranking_sheets(data),
            (
                "超期工单",
                ["工单编号", "问题类别", "小区", "乡镇(街道)", "主办部门", "期限", "督办级别", "状态"],
                [
                    [
                        o["number"],
                        o["category"],
                        o["community"],
                        o["township"],
                        o["department"],
                        o["deadline"],
                        o["escalation_step"],
                        o["status"],
                    ]
                    for o in overdue
                ],
            ),
        ]
    )
    return xlsx_response(book, f"通报-{parsed.label}.xlsx")


@bp.get("/property-companies")
@roles_required(*SUPERVISORS)
def property_companies() -> Any:
    """Each company: communities, confirmed violations in the window, ladder step, star ratings."""
    tz = _tz()
    items = []
    for view in company_overview(ctx()):
        items.append(
            {
                "id": view.company.id,
                "name": view.company.name,
                "credit_code": view.company.credit_code,
                "violations": view.violations,
                "ladder_step": view.ladder_step,
                "ladder_step_name": STEP_NAMES.get(view.ladder_step, ""),
                "blacklisted": view.company.blacklisted_at is not None,
                "communities": view.communities,
                "ladder": [
                    s | {"reached_at": iso(s["reached_at"], tz), "withdrawn_at": iso(s["withdrawn_at"], tz)}
                    for s in view.steps
                ],
            }
        )
    return jsonify({"items": items, "page": 1, "per_page": len(items), "total": len(items)})
