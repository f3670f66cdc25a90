"""Putting a case in the hands the responsibility list names: the routed
departments, their assignments, the ``dispatched`` event, their notifications."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from app.models import Assignment, Case, CaseEvent, Department, User
from app.models.people import HANDLER, HEAD
from handlers.cases.timeline import event_by, record
from handlers.errors import Unavailable
from handlers.notifications.notify import OUTBOX, case_payload, enqueue, outbox_rows, staff_of
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


# A filing's dispatch, in Core: a statement per table, no ORM object per row
# (handlers/cases/submit.py). The ORM versions above serve the commands that
# change a case already loaded (re-dispatch, referral).
ASSIGNMENTS = cast(Table, Assignment.__table__)
DEPARTMENTS = cast(Table, Department.__table__)
USERS = cast(Table, User.__table__)


def department_rows(
    conn: Connection, county: CountyConfig, category_code: str, township: str
) -> tuple[list[RoutedDepartment], dict[str, Department]]:
    """``routed_departments`` read in Core: the departments are detached copies
    (id and name), for the rows that point at them and the answer that names them."""
    routed = route(county, category_code, township)
    departments = {
        name: Department(id=id_, name=name)
        for id_, name in conn.execute(
            select(DEPARTMENTS.c.id, DEPARTMENTS.c.name).where(
                DEPARTMENTS.c.name.in_([r.name for r in routed])
            )
        )
    }
    missing = [r.name for r in routed if r.name not in departments]
    if missing:
        raise Unavailable(f"系统配置缺少部门：{'、'.join(missing)}，请联系管理员", "routing_unavailable")
    return routed, departments


def dispatch(
    conn: Connection,
    case: Case,
    routed: list[RoutedDepartment],
    departments: dict[str, Department],
    now: datetime,
) -> None:
    """A new case's assignments in the list's order, in one statement; the
    case (its id written, its clocks started) is given them as written."""
    case.assignments = [
        Assignment(
            case_id=case.id,
            department_id=departments[r.name].id,
            department=departments[r.name],
            role=r.role,
            position=position,
            due_at=case.due_at,
            open=True,
            created_at=now,
        )
        for position, r in enumerate(routed)
    ]
    keys = ("case_id", "department_id", "role", "position", "due_at", "open", "created_at")
    conn.execute(insert(ASSIGNMENTS), [{k: getattr(a, k) for k in keys} for a in case.assignments])


def dispatched(case: Case, routed: list[RoutedDepartment], now: datetime, note: str) -> CaseEvent:
    """The ``dispatched`` event ``announce`` records, not yet written."""
    names = "、".join(f"{r.name}({r.role})" for r in routed)
    departments = [{"name": r.name, "role": r.role} for r in routed]
    return event_by(case, "dispatched", now, None, note=f"{note}：{names}", departments=departments)


def tell_departments(
    conn: Connection,
    case: Case,
    routed: list[RoutedDepartment],
    departments: dict[str, Department],
    now: datetime,
    county: CountyConfig,
) -> int:
    """``announce``'s ``new_case`` message to every department's staff, in Core:
    one query for the staff (id and role), one insert; answers how many."""
    ids = [departments[r.name].id for r in routed]
    staff = conn.execute(
        select(USERS.c.id, USERS.c.role)
        .where(USERS.c.department_id.in_(ids), USERS.c.role.in_([HANDLER, HEAD]))
        .order_by(USERS.c.id)
    ).all()
    deadline = case.accept_due_at.isoformat() if case.accept_due_at else ""
    rows = outbox_rows(now, "new_case", case.id, staff, case_payload(case, county) | {"deadline": deadline})
    if rows:
        conn.execute(insert(OUTBOX), rows)
    return len(rows)
