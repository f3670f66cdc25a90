"""Nine-prohibitions violations confirmed on cases, and the company's ladder step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Case, Community, User, Violation
from handlers.context import Context
from handlers.timeline import record


def _window_start(now: datetime, county: Any) -> datetime:
    days = getattr(county.violation_ladder, "window_days", 365)
    return now - timedelta(days=days)


def confirmed_count(s: Session, company_id: int, now: datetime, county: Any) -> int:
    return (
        s.scalar(
            select(func.count(Violation.id)).where(
                Violation.company_id == company_id,
                Violation.withdrawn_at.is_(None),
                Violation.confirmed_at > _window_start(now, county),
                Violation.confirmed_at <= now,
            )
        )
        or 0
    )


def current_ladder_step(s: Session, company_id: int, now: datetime, county: Any) -> int:
    return min(confirmed_count(s, company_id, now, county), 4)


def confirm_violation(
    s: Session, ctx: Context, case: Case, clause: int, user: User, note: str, now: datetime
) -> None:
    """Record a confirmed violation once per case against the community's company."""
    community = s.get(Community, case.community_id)
    if community is None or community.property_company_id is None:
        return
    if s.scalar(select(Violation.id).where(Violation.case_id == case.id)) is not None:
        return
    s.add(
        Violation(
            case_id=case.id,
            company_id=community.property_company_id,
            community_id=community.id,
            clause=clause,
            note=note,
            confirmed_at=now,
        )
    )
    s.flush()
    record(s, case, "violation_confirmed", now, by=user, note=f"查实违反“九不准”第{clause}条", clause=clause)
