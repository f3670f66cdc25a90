"""Rankings (定期评比) and bulletins (通报) for a month, quarter or year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.models import Case, Escalation, PropertyCompany, Violation
from handlers.context import Context
from handlers.errors import Invalid
from handlers.labels import STATUS_LABELS
from handlers.property.violations import current_ladder_step
from handlers.supervision.reports import UnitStats, unit_stats

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    label: str
    title: str
    start: datetime
    end: datetime


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """``2025-06``, ``2025-Q2`` or ``2025``, read in the county's time zone."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise Invalid("统计周期格式应为 2025-06、2025-Q2 或 2025", "invalid_period")
    year = int(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        first, after = date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)
        title = f"{year}年{month}月"
    elif match.group(3):
        quarter = int(match.group(3))
        first = date(year, 3 * quarter - 2, 1)
        after = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        title = f"{year}年第{'一二三四'[quarter - 1]}季度"
    else:
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
        title = f"{year}年"
    return Period(
        text.strip(),
        title,
        datetime.combine(first, time(0), tzinfo=tz),
        datetime.combine(after, time(0), tzinfo=tz),
    )


def composite(row: dict[str, Any], weights: dict[str, float]) -> float | None:
    """The weighted score of a unit; None when it received nothing."""
    if not row["received"]:
        return None
    satisfaction = row["satisfaction"]
    values = {
        "accept_on_time": row["accepted_on_time_pct"] if row["accepted_on_time_pct"] is not None else 100.0,
        "resolve_on_time": row["resolved_on_time_pct"] if row["resolved_on_time_pct"] is not None else 100.0,
        "satisfaction": satisfaction / 5 * 100 if satisfaction is not None else 100.0,
        "returned": row["returned_pct"] or 0.0,
        "reopened": row["reopened_pct"] or 0.0,
    }
    return round(sum(weights.get(k, 0.0) * v for k, v in values.items()), 2)


def _ranked(units: list[UnitStats], weights: dict[str, float]) -> list[dict[str, Any]]:
    rows = [u.as_dict() for u in units]
    for row in rows:
        row["score"] = composite(row, weights)
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), -r["received"], r["name"]))
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def rankings(ctx: Context, period: Period) -> dict[str, Any]:
    county = ctx.county
    now = ctx.now()
    departments, townships = unit_stats(ctx, period.start, period.end)
    weights = county.ranking_weights
    with ctx.uow() as uow:
        s = uow.session
        in_period: dict[int, int] = {
            company_id: count
            for company_id, count in s.execute(
                select(Violation.company_id, func.count(Violation.id))
                .where(
                    Violation.withdrawn_at.is_(None),
                    Violation.confirmed_at >= period.start,
                    Violation.confirmed_at < period.end,
                )
                .group_by(Violation.company_id)
            ).all()
        }
        as_of = min(now, period.end)
        companies: list[dict[str, Any]] = []
        for company in s.scalars(select(PropertyCompany).order_by(PropertyCompany.id)):
            companies.append(
                {
                    "id": company.id,
                    "name": company.name,
                    "violations": in_period.get(company.id, 0),
                    "ladder_step": current_ladder_step(s, company.id, as_of, county),
                    "blacklisted": company.blacklisted_at is not None,
                }
            )
    companies.sort(key=lambda c: (-c["ladder_step"], -c["violations"], c["name"]))
    for position, row in enumerate(companies, start=1):
        row["rank"] = position
    return {
        "period": period.label,
        "title": period.title,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "weights": weights,
        "departments": _ranked(departments, weights),
        "townships": _ranked(townships, weights),
        "property_companies": companies,
    }


def overdue_in_period(ctx: Context, period: Period) -> list[dict[str, Any]]:
    """Cases that went past a deadline within the period, for the bulletin."""
    county = ctx.county
    tz = ZoneInfo(county.timezone)
    step_labels = {step.name: step.label for step in county.escalation}
    with ctx.uow() as uow:
        s = uow.session
        first_overdue: dict[int, datetime] = {
            case_id: deadline
            for case_id, deadline in s.execute(
                select(Escalation.case_id, func.min(Escalation.deadline_at))
                .where(
                    Escalation.step == "overdue",
                    Escalation.deadline_at >= period.start,
                    Escalation.deadline_at < period.end,
                )
                .group_by(Escalation.case_id)
            )
        }
        cases = s.scalars(select(Case).where(Case.id.in_(list(first_overdue)))).all()
        rows = sorted(((c, first_overdue[c.id]) for c in cases), key=lambda r: (r[1], r[0].id))
        out = []
        for case, deadline in rows:
            category = county.categories.get(case.category)
            out.append(
                {
                    "number": case.number,
                    "category": category.name if category else case.category,
                    "community": case.community.name,
                    "township": case.community.township.name,
                    "department": case.primary_department.name if case.primary_department else "",
                    "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "escalation_step": step_labels.get(
                        case.escalation_step or "overdue", case.escalation_step
                    ),
                    "status": STATUS_LABELS.get(case.status, case.status),
                }
            )
    return out
