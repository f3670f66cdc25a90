"""What supervisors read: the overdue list and per-unit statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.models import Case, CaseEvent, Community, Department
from app.models.places import TOWNSHIP
from handlers.cases.clocks import past_deadline
from handlers.context import Context
from handlers.errors import Invalid
from routing.lifecycle import DISPATCHED, HANDLING, MERGED, REJECTED, RETURNED


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


@dataclass(frozen=True)
class OverdueRow:
    case: Case
    deadline: str  # accept or resolve: the deadline that passed
    overdue_seconds: int


def overdue_cases(ctx: Context, f: OverdueFilter, page: int, per_page: int) -> tuple[list[OverdueRow], int]:
    """Open cases past a deadline, most overdue first. Only open cases carry
    ``due_at``, so this is a range scan of its index."""
    now = ctx.now()
    if f.category is not None and f.category not in ctx.county.categories:
        raise Invalid("未知的问题类别", "unknown_category")
    if f.step is not None and f.step not in {s.name for s in ctx.county.escalation}:
        raise Invalid("未知的督办级别", "unknown_step")
    with ctx.uow() as uow:
        s = uow.session
        where = [past_deadline(now)]
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
    return [
        OverdueRow(
            case,
            "accept" if case.status == DISPATCHED else "resolve",
            int((now - case.due_at).total_seconds()) if case.due_at else 0,
        )
        for case in cases
    ], total


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class UnitStats:
    """One department's (as primary) or township's (as 属地) figures for a period."""

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

    @property
    def accepted_on_time_pct(self) -> float | None:
        return _pct(self.accepted_on_time, self.accept_due)

    @property
    def resolved_on_time_pct(self) -> float | None:
        return _pct(self.resolved_on_time, self.resolve_due)

    @property
    def returned_pct(self) -> float | None:
        return _pct(self.returned, self.received)

    @property
    def reopened_pct(self) -> float | None:
        return _pct(self.reopened, self.received)

    @property
    def satisfaction(self) -> float | None:
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None

    def count(self, case: Case, now: datetime) -> None:
        """Add a case filed in the period. Accepting late counts late; a
        deadline passed with no answer counts late too; a returned, rejected
        or merged case left the unit's hands, so only what it did before counts."""
        self.received += 1
        gone = case.status in (RETURNED, REJECTED, MERGED)
        if case.accept_due_at is not None and (
            case.accepted_at is not None or (not gone and case.accept_due_at < now)
        ):
            self.accept_due += 1
            self.accepted_on_time += bool(
                case.accepted_at is not None and case.accepted_at <= case.accept_due_at
            )
        if case.resolve_due_at is not None and (
            case.resolved_at is not None or (not gone and case.resolve_due_at < now)
        ):
            self.resolve_due += 1
            self.resolved_on_time += bool(
                case.resolved_at is not None and case.resolved_at <= case.resolve_due_at
            )
        if case.rating is not None:
            self.ratings.append(case.rating)


def _units_of(primary: int | None, township: int | None) -> set[int]:
    return {u for u in (primary, township) if u is not None}


def _count_filed(
    s: Session, units: dict[int, UnitStats], start: datetime, end: datetime, now: datetime
) -> None:
    community = aliased(Community)
    for case, township_id in s.execute(
        select(Case, community.township_id)
        .join(community, community.id == Case.community_id)
        .where(Case.created_at >= start, Case.created_at < end)
    ):
        for unit_id in _units_of(case.primary_department_id, township_id):
            if unit_id in units:
                units[unit_id].count(case, now)


def _count_returns_and_reopenings(
    s: Session, units: dict[int, UnitStats], start: datetime, end: datetime
) -> None:
    """Returns count against the department that returned; reopenings against primary and township."""
    for kind, department_id, primary, township_id in s.execute(
        select(CaseEvent.kind, CaseEvent.department_id, Case.primary_department_id, Community.township_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Community, Community.id == Case.community_id)
        .where(CaseEvent.kind.in_(("returned", "reopened")), CaseEvent.at >= start, CaseEvent.at < end)
    ):
        if kind == "returned" and department_id in units:
            units[department_id].returned += 1
        if kind == "reopened":
            for unit_id in _units_of(primary, township_id) & units.keys():
                units[unit_id].reopened += 1


def _count_overdue_now(s: Session, units: dict[int, UnitStats], now: datetime) -> None:
    for primary, township_id in s.execute(
        select(Case.primary_department_id, Community.township_id)
        .join(Community, Community.id == Case.community_id)
        .where(Case.due_at < now, Case.status.in_(HANDLING))
    ):
        for unit_id in _units_of(primary, township_id) & units.keys():
            units[unit_id].overdue_now += 1


def unit_stats(ctx: Context, start: datetime, end: datetime) -> tuple[list[UnitStats], list[UnitStats]]:
    """Per department (as primary) and per township (as 属地), for cases filed
    in [start, end); every unit is listed, zeros included."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        units = {
            d.id: UnitStats(d.id, d.name, d.kind)
            for d in s.scalars(select(Department).order_by(Department.id))
        }
        _count_filed(s, units, start, end, now)
        _count_returns_and_reopenings(s, units, start, end)
        _count_overdue_now(s, units, now)
    departments = [u for u in units.values() if u.kind != TOWNSHIP]
    townships = [u for u in units.values() if u.kind == TOWNSHIP]
    return departments, townships
