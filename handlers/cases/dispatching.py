"""Putting a case in the hands the responsibility list names: the routed
departments, their assignments, the ``dispatched`` event, their notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Connection, Select, Table, and_, bindparam, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import built, executemany, fetch
from app.models import Assignment, Case, CaseEvent, Department, User
from app.models.people import HANDLER, HEAD
from handlers.cases.timeline import event_by, record
from handlers.errors import Unavailable
from handlers.notifications.notify import INSERT_OUTBOX, case_payload, enqueue, outbox_rows, staff_of
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
INSERT_ASSIGNMENTS = insert(ASSIGNMENTS)


@cache
def departments_and_staff(count: int) -> Select[tuple[int, str, int, str]]:
    """The routed departments (``count`` names, each its own parameter:
    ``name_0`` …) and, in the same statement, their staff told of a new case
    (the roles ``handler`` and ``head`` are parameters too). No list
    parameter, so ``fetch`` runs it from a plan; a route names a few
    departments, so there are a handful of these statements."""
    return (
        select(DEPARTMENTS.c.id, DEPARTMENTS.c.name, USERS.c.id.label("user_id"), USERS.c.role)
        .outerjoin(
            USERS,
            and_(
                USERS.c.department_id == DEPARTMENTS.c.id,
                or_(USERS.c.role == bindparam("handler"), USERS.c.role == bindparam("head")),
            ),
        )
        .where(or_(*(DEPARTMENTS.c.name == bindparam(f"name_{k}") for k in range(count))))
    )


@dataclass(frozen=True)
class StaffMember:
    id: int
    role: str


@dataclass(frozen=True)
class Routing:
    """Where the list sends a new case: the departments in its order, their
    rows (detached copies: id and name) and their staff (handlers and heads)."""

    routed: list[RoutedDepartment]
    departments: dict[str, Department]
    staff: list[StaffMember]

    def department(self, r: RoutedDepartment) -> Department:
        return self.departments[r.name]


def department_rows(conn: Connection, county: CountyConfig, category_code: str, township: str) -> Routing:
    """``routed_departments`` and ``staff_of`` in one Core statement."""
    routed = route(county, category_code, township)
    departments: dict[str, Department] = {}
    staff: dict[int, StaffMember] = {}
    names = {f"name_{k}": r.name for k, r in enumerate(routed)}
    params = names | {"handler": HANDLER, "head": HEAD}
    for id_, name, user_id, role in fetch(conn, departments_and_staff(len(names)), params):
        if name not in departments:
            departments[name] = built(Department, {"id": id_, "name": name})
        if user_id is not None:
            staff[user_id] = StaffMember(user_id, role)
    missing = [r.name for r in routed if r.name not in departments]
    if missing:
        raise Unavailable(f"系统配置缺少部门：{'、'.join(missing)}，请联系管理员", "routing_unavailable")
    return Routing(routed, departments, [staff[k] for k in sorted(staff)])


def dispatch(conn: Connection, case: Case, routing: Routing, now: datetime) -> None:
    """A new case's assignments in the list's order, in one statement; the
    case (its id written, its clocks started) is given them as written."""
    rows: list[dict[str, object]] = [
        {
            "case_id": case.id,
            "department_id": routing.department(r).id,
            "role": r.role,
            "position": position,
            "due_at": case.due_at,
            "open": True,
            "created_at": now,
        }
        for position, r in enumerate(routing.routed)
    ]
    executemany(conn, INSERT_ASSIGNMENTS, rows)
    # As loaded, not as changed: nothing is flushed from these objects.
    set_committed_value(
        case,
        "assignments",
        [
            built(Assignment, row | {"department": routing.department(r)})
            for row, r in zip(rows, routing.routed, strict=True)
        ],
    )


def dispatched(case: Case, routing: Routing, now: datetime, note: str) -> CaseEvent:
    """The ``dispatched`` event ``announce`` records, not yet written."""
    routed = routing.routed
    names = "、".join(f"{r.name}({r.role})" for r in routed)
    departments = [{"name": r.name, "role": r.role} for r in routed]
    return event_by(case, "dispatched", now, None, note=f"{note}：{names}", departments=departments)


def tell_departments(
    conn: Connection, case: Case, routing: Routing, now: datetime, county: CountyConfig
) -> int:
    """``announce``'s ``new_case`` message to every department's staff, in one
    insert; answers how many."""
    deadline = case.accept_due_at.isoformat() if case.accept_due_at else ""
    payload = case_payload(case, county) | {"deadline": deadline}
    rows = outbox_rows(now, "new_case", case.id, routing.staff, payload)
    return executemany(conn, INSERT_OUTBOX, rows)
