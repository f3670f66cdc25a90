"""What supervisors read: the overdue list and per-unit statistics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.models import Case, CaseEvent, Community, Department
from app.models.cases import ACCEPTED, DISPATCHED, MERGED, REJECTED, REOPENED, RETURNED
from app.models.places import TOWNSHIP
from handlers.context import Context
from handlers.errors import Invalid

OVERDUE_STEPS = ("warning", "overdue", "supervision", "leader")


@dataclass
class OverdueFilter:
    department: str | None = None
    township: str | None = None
    category: str | None = None
    step: str | None = None


def _department_id(s: Session, value: str, kind: str | None = None) -> int:
    if value.isdigit():
        return int(value)
    stmt = select(Department.id).where(Department.name == value)
    if kind:
        stmt = stmt.where(Department.kind == kind)
    found = s.scalar(stmt)
    if found is None:
        raise Invalid(f"找不到部门或乡镇：{value}", "unknown_department")
    return found


def overdue_cases(
    ctx: Context, f: OverdueFilter, page: int, per_page: int
) -> tuple[list[Case], int, datetime]:
    """Open cases past a deadline, most overdue first. Only open cases carry
    ``due_at``, so this is a range scan of its index."""
    now = ctx.now()
    if f.category is not None and f.category not in ctx.county.categories:
        raise Invalid("未知的问题类别", "unknown_category")
    if f.step is not None and f.step not in OVERDUE_STEPS:
        raise Invalid("未知的督办级别", "unknown_step")
    with ctx.uow() as uow:
        s = uow.session
        where = [Case.due_at < now]
        if f.department:
            where.append(Case.primary_department_id == _department_id(s, f.department))
        if f.category:
            where.append(Case.category == f.category)
        if f.step:
            where.append(Case.escalation_step == f.step)
        stmt = select(Case).where(*where)
        count = select(func.count(Case.id)).where(*where)
        if f.township:
            township_id = _department_id(s, f.township, TOWNSHIP)
            stmt = stmt.join(Community, Community.id == Case.community_id).where(
                Community.township_id == township_id
            )
            count = count.join(Community, Community.id == Case.community_id).where(
                Community.township_id == township_id
            )
        total = s.scalar(count) or 0
        cases = list(
            s.scalars(stmt.order_by(Case.due_at, Case.id).limit(per_page).offset((page - 1) * per_page))
        )
        s.expunge_all()
    return cases, total, now


@dataclass
class UnitStats:
    id: int
    name: str
    kind: str
    received: int = 0
    accept_due: int = 0
    accepted_on_time: int = 0
    resolve_due: int = 0
    resolved_on_time: int = 0
    overdue_now: int = 0
    returned: int = 0
    reopened: int = 0
    ratings: list[int] = field(default_factory=list)

    @staticmethod
    def _pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "received": self.received,
            "accepted_on_time_pct": self._pct(self.accepted_on_time, self.accept_due),
            "resolved_on_time_pct": self._pct(self.resolved_on_time, self.resolve_due),
            "overdue_now": self.overdue_now,
            "returned": self.returned,
            "returned_pct": self._pct(self.returned, self.received),
            "reopened": self.reopened,
            "reopened_pct": self._pct(self.reopened, self.received),
            "satisfaction": round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None,
            "rated": len(self.ratings),
        }


def unit_stats(ctx: Context, start: datetime, end: datetime) -> tuple[list[UnitStats], list[UnitStats]]:
    """Per department (as primary) and per township (as 属地), for cases filed
    in [start, end). Every unit is listed, zeros included. Accepting late
    counts late; a deadline passed with no answer counts late too."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        units = {
            d.id: UnitStats(d.id, d.name, d.kind)
            for d in s.scalars(select(Department).order_by(Department.id))
        }
        community = aliased(Community)
        rows = s.execute(
            select(Case, community.township_id)
            .join(community, community.id == Case.community_id)
            .where(Case.created_at >= start, Case.created_at < end)
        ).all()
        for case, township_id in rows:
            for unit_id in {case.primary_department_id, township_id} - {None}:
                unit = units.get(unit_id)  # type: ignore[arg-type]
                if unit is None:
                    continue
                unit.received += 1
                # A returned, rejected or merged case left the department's
                # hands: only what it did before counts.
                gone = case.status in (RETURNED, REJECTED, MERGED)
                if case.accept_due_at is not None and (
                    case.accepted_at is not None or (not gone and case.accept_due_at < now)
                ):
                    unit.accept_due += 1
                    if case.accepted_at is not None and case.accepted_at <= case.accept_due_at:
                        unit.accepted_on_time += 1
                if case.resolve_due_at is not None and (
                    case.resolved_at is not None or (not gone and case.resolve_due_at < now)
                ):
                    unit.resolve_due += 1
                    if case.resolved_at is not None and case.resolved_at <= case.resolve_due_at:
                        unit.resolved_on_time += 1
                if case.rating is not None:
                    unit.ratings.append(case.rating)
        returned: dict[int, int] = defaultdict(int)
        reopened: dict[int, int] = defaultdict(int)
        for kind, department_id, primary, township_id in s.execute(
            select(CaseEvent.kind, CaseEvent.department_id, Case.primary_department_id, Community.township_id)
            .join(Case, Case.id == CaseEvent.case_id)
            .join(Community, Community.id == Case.community_id)
            .where(CaseEvent.kind.in_(("returned", "reopened")), CaseEvent.at >= start, CaseEvent.at < end)
        ):
            if kind == "returned" and department_id is not None:
                returned[department_id] += 1
            if kind == "reopened":
                for unit_id in {primary, township_id} - {None}:
                    reopened[unit_id] += 1
        for unit_id, count in returned.items():
            if unit_id in units:
                units[unit_id].returned = count
        for unit_id, count in reopened.items():
            if unit_id in units:
                units[unit_id].reopened = count
        open_now = s.execute(
            select(Case.primary_department_id, Community.township_id)
            .join(Community, Community.id == Case.community_id)
            .where(Case.due_at < now, Case.status.in_((DISPATCHED, ACCEPTED, REOPENED)))
        ).all()
        for primary, township_id in open_now:
            for unit_id in {primary, township_id} - {None}:
                if unit_id in units:
                    units[unit_id].overdue_now += 1
    departments = [u for u in units.values() if u.kind != TOWNSHIP]
    townships = [u for u in units.values() if u.kind == TOWNSHIP]
    return departments, townships
