"""Rankings (定期评比) and bulletins (通报) for a month, quarter or year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.models import Case, Escalation, PropertyCompany, Violation
from handlers.context import Context
from handlers.errors import Invalid
from handlers.property.violations import current_ladder_step
from handlers.supervision.reports import UnitStats, unit_stats
from routing.periods import Span, span_of


def period(text: str, tz: ZoneInfo) -> Span:
    """``2025-06``, ``2025-Q2`` or ``2025``, read in the county's time zone."""
    try:
        return span_of(text, tz)
    except ValueError as exc:
        raise Invalid(
            "统计周期格式应为 2025-06、2025-Q2 或 2025（2000 至 2100 年）", "invalid_period"
        ) from exc


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    stats: UnitStats
    score: float | None  # None: received nothing in the period


@dataclass(frozen=True)
class CompanyStanding:
    rank: int
    id: int
    name: str
    violations: int  # confirmed within the period
    ladder_step: int  # where the ladder stands at the period's end (or now)
    blacklisted: bool


@dataclass(frozen=True)
class Rankings:
    period: Span
    weights: dict[str, float]
    departments: list[RankedUnit]
    townships: list[RankedUnit]
    companies: list[CompanyStanding]


def composite(unit: UnitStats, weights: dict[str, float]) -> float | None:
    """The weighted score of a unit; a share with nothing to measure counts as full marks."""
    if not unit.received:
        return None
    pct = (
        unit.accepted_on_time_pct,
        unit.resolved_on_time_pct,
        unit.satisfaction / 5 * 100 if unit.satisfaction is not None else None,
    )
    values = {
        "accept_on_time": pct[0] if pct[0] is not None else 100.0,
        "resolve_on_time": pct[1] if pct[1] is not None else 100.0,
        "satisfaction": pct[2] if pct[2] is not None else 100.0,
        "returned": unit.returned_pct or 0.0,
        "reopened": unit.reopened_pct or 0.0,
    }
    return round(sum(weights.get(k, 0.0) * v for k, v in values.items()), 2)


def _ranked(units: list[UnitStats], weights: dict[str, float]) -> list[RankedUnit]:
    scored = [(composite(u, weights), u) for u in units]
    scored.sort(key=lambda r: (r[0] is None, -(r[0] or 0), -r[1].received, r[1].name))
    return [RankedUnit(position, unit, score) for position, (score, unit) in enumerate(scored, start=1)]


def _companies(ctx: Context, span: Span) -> list[CompanyStanding]:
    as_of = min(ctx.now(), span.end)
    with ctx.uow() as uow:
        s = uow.session
        in_period: dict[int, int] = dict(
            s.execute(
                select(Violation.company_id, func.count(Violation.id))
                .where(
                    Violation.withdrawn_at.is_(None),
                    Violation.confirmed_at >= span.start,
                    Violation.confirmed_at < span.end,
                )
                .group_by(Violation.company_id)
            )
            .tuples()
            .all()
        )
        rows = [
            (c, in_period.get(c.id, 0), current_ladder_step(s, c.id, as_of, ctx.county))
            for c in s.scalars(select(PropertyCompany).order_by(PropertyCompany.id))
        ]
    rows.sort(key=lambda r: (-r[2], -r[1], r[0].name))
    return [
        CompanyStanding(position, c.id, c.name, violations, step, c.blacklisted_at is not None)
        for position, (c, violations, step) in enumerate(rows, start=1)
    ]


def rankings(ctx: Context, span: Span) -> Rankings:
    weights = dict(ctx.county.ranking_weights)
    departments, townships = unit_stats(ctx, span.start, span.end)
    return Rankings(
        span, weights, _ranked(departments, weights), _ranked(townships, weights), _companies(ctx, span)
    )


@dataclass(frozen=True)
class OverdueInPeriod:
    case: Case
    deadline: datetime  # the first deadline of the case that passed within the period


def overdue_in_period(ctx: Context, span: Span) -> list[OverdueInPeriod]:
    """Cases that went past a deadline within the period, for the bulletin: a
    step fired at or after its deadline marks the deadline as missed."""
    with ctx.uow() as uow:
        s = uow.session
        missed: dict[int, datetime] = dict(
            s.execute(
                select(Escalation.case_id, func.min(Escalation.deadline_at))
                .where(
                    Escalation.due_at >= Escalation.deadline_at,
                    Escalation.deadline_at >= span.start,
                    Escalation.deadline_at < span.end,
                )
                .group_by(Escalation.case_id)
            )
            .tuples()
            .all()
        )
        cases = list(s.scalars(select(Case).where(Case.id.in_(list(missed)))))
        for case in cases:
            _ = (case.community.township.name, case.primary_department)
        s.expunge_all()
    return sorted((OverdueInPeriod(c, missed[c.id]) for c in cases), key=lambda r: (r.deadline, r.case.id))
