"""Putting a case in the hands the responsibility list names: the routed
departments, their assignments, the ``dispatched`` event, their notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assignment, Case, Department, User
from handlers.cases.timeline import record
from handlers.errors import Unavailable
from handlers.notifications.notify import case_payload, enqueue, staff_of
from routing import CountyConfig, RoutedDepartment, route


def routed_departments(
    s: Session, county: CountyConfig, category_code: str, township: str
) -> tuple[list[RoutedDepartment], dict[str, Department]]:
    """The list's departments for this category and township, with their rows."""
    routed = route(county, category_code, township)
    departments = {
        d.name: d for d in s.scalars(select(Department).where(Department.name.in_([r.name for r in routed])))
    }
    missing = [r.name for r in routed if r.name not in departments]
    if missing:
        raise Unavailable(f"系统配置缺少部门：{'、'.join(missing)}，请联系管理员", "routing_unavailable")
    return routed, departments


def assign(
    s: Session, case: Case, routed: list[RoutedDepartment], departments: dict[str, Department], now: datetime
) -> None:
    """Assignments in the list's order; the case's clocks must be started first."""
    case.primary_department_id = departments[routed[0].name].id
    for position, r in enumerate(routed):
        s.add(
            Assignment(
                case=case,
                department_id=departments[r.name].id,
                role=r.role,
                position=position,
                due_at=case.due_at,
                created_at=now,
            )
        )


def announce(
    s: Session,
    case: Case,
    routed: list[RoutedDepartment],
    departments: dict[str, Department],
    now: datetime,
    county: CountyConfig,
    note: str,
    by: User | None = None,
) -> None:
    """The ``dispatched`` event and a ``new_case`` message to every department's staff."""
    names = "、".join(f"{r.name}({r.role})" for r in routed)
    record(
        s,
        case,
        "dispatched",
        now,
        by=by,
        note=f"{note}：{names}",
        departments=[{"name": r.name, "role": r.role} for r in routed],
    )
    enqueue(
        s,
        now,
        "new_case",
        case,
        staff_of(s, [departments[r.name].id for r in routed]),
        case_payload(case, county)
        | {"deadline": case.accept_due_at.isoformat() if case.accept_due_at else ""},
    )
