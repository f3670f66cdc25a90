"""Rankings (评比), bulletins (通报) and property companies, for supervisors."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template
from pydantic import BaseModel, Field

from app.api.answers import answer, iso
from app.api.reports import UnitStatsOut, unit_out
from app.api.web import blueprint, ctx, errors, supervisor
from app.xlsx import XLSX, workbook, xlsx_response
from handlers.commands import Query
from handlers.property.companies import CompanyView, company_overview
from handlers.supervision.rankings import (
    OverdueInPeriod,
    RankedUnit,
    Rankings,
    overdue_in_period,
    period,
    rankings,
)
from routing.periods import PERIOD_PATTERN

bp = blueprint("property", "/api/v1/supervision", "评比与物业")
HTML = {"description": "可打印的 HTML 通报", "content": {"text/html": {"schema": {"type": "string"}}}}


class PeriodQuery(Query):
    period: str = Field(
        min_length=4,
        max_length=7,
        pattern=f"^{PERIOD_PATTERN}$",
        title="统计周期",
        description="2025-06、2025-Q2 或 2025（2000 至 2100 年）",
    )


class RankedUnitOut(UnitStatsOut):
    rank: int
    score: float | None


class CompanyRankOut(BaseModel):
    rank: int
    id: int
    name: str
    violations: int
    ladder_step: int
    ladder_step_name: str
    blacklisted: bool


class RankingsOut(BaseModel):
    period: str
    title: str
    from_: str = Field(alias="from")
    to: str
    weights: dict[str, float]
    departments: list[RankedUnitOut]
    townships: list[RankedUnitOut]
    property_companies: list[CompanyRankOut]


def _ranked(rows: list[RankedUnit]) -> list[RankedUnitOut]:
    return [RankedUnitOut(**unit_out(r.stats).model_dump(), rank=r.rank, score=r.score) for r in rows]


def _rankings_out(data: Rankings) -> RankingsOut:
    county = ctx().county
    return RankingsOut.model_validate(
        {
            "period": data.period.label,
            "title": data.period.title,
            "from": data.period.start.isoformat(),
            "to": data.period.end.isoformat(),
            "weights": data.weights,
            "departments": _ranked(data.departments),
            "townships": _ranked(data.townships),
            "property_companies": [
                CompanyRankOut(
                    rank=c.rank,
                    id=c.id,
                    name=c.name,
                    violations=c.violations,
                    ladder_step=c.ladder_step,
                    ladder_step_name=county.ladder_name(c.ladder_step),
                    blacklisted=c.blacklisted,
                )
                for c in data.companies
            ],
        }
    )


def rankings_of(text: str) -> RankingsOut:
    """The rankings of a period (2025-06, 2025-Q2, 2025), as the API answers them."""
    return _rankings_out(rankings(ctx(), period(text, ctx().county.tz)))


def _for(text: str) -> RankingsOut:
    supervisor()
    return rankings_of(text)


@bp.get("/rankings", responses={200: RankingsOut} | errors(403))
def ranking(query: PeriodQuery) -> Response:
    """某一周期内部门、乡镇和物业企业的评比排名"""
    return answer(_for(query.period))


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


def _sheets(data: RankingsOut) -> list[Any]:
    def units(rows: list[RankedUnitOut]) -> list[list[Any]]:
        return [
            [
                r.rank,
                r.name,
                r.received,
                r.accepted_on_time_pct,
                r.resolved_on_time_pct,
                r.overdue_now,
                r.returned_pct,
                r.reopened_pct,
                r.satisfaction,
                r.score,
            ]
            for r in rows
        ]

    companies = [
        [c.rank, c.name, c.violations, c.ladder_step_name, "是" if c.blacklisted else ""]
        for c in data.property_companies
    ]
    return [
        ("部门排名", UNIT_HEADERS, units(data.departments)),
        ("乡镇(街道)排名", UNIT_HEADERS, units(data.townships)),
        ("物业企业", ["名次", "企业", "查实违规(条)", "九不准档次", "黑名单"], companies),
    ]


@bp.get("/rankings.xlsx", responses={200: XLSX} | errors(403))
def ranking_xlsx(query: PeriodQuery) -> Response:
    """导出评比排名 Excel"""
    return rankings_export(_for(query.period))


def rankings_export(data: RankingsOut) -> Response:
    """The rankings' workbook (the API's export and the console's)."""
    return xlsx_response(workbook(_sheets(data)), f"评比排名-{data.period}.xlsx")


def _overdue_rows(rows: list[OverdueInPeriod]) -> list[dict[str, str]]:
    county = ctx().county
    out = []
    for row in rows:
        case = row.case
        category = county.categories.get(case.category)
        out.append(
            {
                "number": case.number,
                "category": category.name if category else case.category,
                "community": case.community.name,
                "township": case.community.township.name,
                "department": case.primary_department.name if case.primary_department else "",
                "deadline": row.deadline.astimezone(county.tz).strftime("%Y-%m-%d %H:%M"),
                "escalation_step": county.step_label(case.escalation_step),
                "status": county.labels.status(case.status),
            }
        )
    return out


class BulletinPath(Query):
    period: str = Field(
        min_length=4,
        max_length=12,
        pattern=rf"^{PERIOD_PATTERN}(\.xlsx)?$",
        title="统计周期",
        description="2025-06、2025-Q2、2025；加 .xlsx 得工作簿",
    )


@bp.get("/bulletins/<period>", responses={200: HTML} | errors(403))
def bulletin(path: BulletinPath) -> Response:
    """某一周期的可打印通报（HTML）；周期后加 .xlsx 得 Excel 工作簿"""
    text = path.period
    supervisor()
    if text.endswith(".xlsx"):
        return bulletin_export(text.removesuffix(".xlsx"))
    return Response(render_template("bulletin.html", **bulletin_of(text)), mimetype="text/html")


def bulletin_of(text: str) -> dict[str, Any]:
    """What the bulletin of a period says, for its template (the API's page and the console's)."""
    data = rankings_of(text)
    c = ctx()
    span = period(data.period, c.county.tz)
    return {
        "county_name": c.county.county,
        "period": span,
        "data": data.model_dump(by_alias=True),
        "overdue": _overdue_rows(overdue_in_period(c, span)),
        "generated": c.now().astimezone(c.county.tz).strftime("%Y年%m月%d日 %H:%M"),
        "rankings": data,
    }


BULLETIN_KEYS = [
    "number",
    "category",
    "community",
    "township",
    "department",
    "deadline",
    "escalation_step",
    "status",
]
BULLETIN_HEADERS = ["工单编号", "问题类别", "小区", "乡镇(街道)", "主办部门", "期限", "督办级别", "状态"]


def bulletin_export(text: str) -> Response:
    """The bulletin as a workbook: the rankings' sheets and the period's overdue cases."""
    parts = bulletin_of(text)
    data: RankingsOut = parts["rankings"]
    sheet = ("超期工单", BULLETIN_HEADERS, [[o[k] for k in BULLETIN_KEYS] for o in parts["overdue"]])
    return xlsx_response(workbook([*_sheets(data), sheet]), f"通报-{data.period}.xlsx")


class ServedCommunityOut(BaseModel):
    id: int
    name: str
    township: str
    star_rating: int | None
    below_standard: bool
    more_inspections: bool
    removal_proposed: bool
    flag_reason: str


class LadderOut(BaseModel):
    step: int
    name: str
    reached_at: str | None
    measures: str
    violations: list[int]
    withdrawn_at: str | None


class CompanyOut(BaseModel):
    id: int
    name: str
    credit_code: str
    violations: int = Field(description="查实且未撤销的违规件数")
    clauses_violated: int = Field(description="其中违反的“九不准”条数（第几档按此计算，除非县里配置按件数）")
    ladder_step: int
    ladder_step_name: str
    blacklisted: bool
    communities: list[ServedCommunityOut]
    ladder: list[LadderOut]


def _company(view: CompanyView) -> CompanyOut:
    county = ctx().county
    tz = county.tz
    return CompanyOut(
        id=view.company.id,
        name=view.company.name,
        credit_code=view.company.credit_code,
        violations=view.violations,
        clauses_violated=view.clauses,
        ladder_step=view.ladder_step,
        ladder_step_name=county.ladder_name(view.ladder_step),
        blacklisted=view.company.blacklisted_at is not None,
        communities=[
            ServedCommunityOut(
                id=c.id,
                name=c.name,
                township=c.township,
                star_rating=c.star_rating,
                below_standard=c.below_standard,
                more_inspections=c.flags.more_inspections,
                removal_proposed=c.flags.removal,
                flag_reason=c.flags.reason,
            )
            for c in view.communities
        ],
        ladder=[
            LadderOut(
                step=s.step,
                name=county.ladder_name(s.step),
                reached_at=iso(s.reached_at, tz),
                measures=s.measures,
                violations=s.violations,
                withdrawn_at=iso(s.withdrawn_at, tz),
            )
            for s in view.steps
        ],
    )


class CompaniesOut(BaseModel):
    items: list[CompanyOut]
    page: int
    per_page: int
    total: int


@bp.get("/property-companies", responses={200: CompaniesOut} | errors(403))
def property_companies() -> Response:
    """各物业企业：服务的小区、查实的违规、“九不准”处置档次、星级"""
    supervisor()
    items = [_company(v) for v in company_overview(ctx())]
    return answer(CompaniesOut(items=items, page=1, per_page=len(items), total=len(items)))
