"""Writing notifications to the outbox, in the caller's transaction.

Who is told what: ``new_case`` to the staff of every department on the case;
``case_update`` to the reporter; ``escalation`` to the ladder step's
recipients (handlers/supervision/escalation.py). The worker sends them later.
Each message opens what its recipient needs in the mini-program: a resident
their case, staff the handling page, supervisors the supervision view.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, insert, literal, select
from sqlalchemy.orm import Session

from app.db import executemany
from app.models import Case, Notification, User
from app.models.people import HANDLER, HEAD, STAFF_ROLES, SUPERVISOR, SUPERVISORS
from handlers.ports import JSONDict
from routing import CountyConfig

OUTBOX = cast(Table, Notification.__table__)
INSERT_OUTBOX = insert(OUTBOX)

PAGES = {
    "resident": "pages/case/index?id={id}",
    "staff": "pages/staff/handle/index?id={id}",
    "supervisor": "pages/supervise/case/index?id={id}",
}


class Recipient(Protocol):
    """Whom a message is for: a ``User``, or a row of their id and role."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...


def page_for(user: Recipient, case_id: int) -> str:
    """The mini-program page a message about the case opens for this recipient."""
    if user.role in SUPERVISORS:
        kind = "supervisor"
    elif user.role in STAFF_ROLES:
        kind = "staff"
    else:
        kind = "resident"
    return PAGES[kind].format(id=case_id)


def staff_of(
    session: Session, department_ids: Iterable[int], roles: Iterable[str] = (HANDLER, HEAD)
) -> list[User]:
    ids = list(department_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(User).where(User.department_id.in_(ids), User.role.in_(list(roles))).order_by(User.id)
        )
    )


def staff_of_all(session: Session) -> list[User]:
    """Every staff member tied to a department or township."""
    return list(
        session.scalars(
            select(User).where(User.department_id.is_not(None), User.role.in_(STAFF_ROLES)).order_by(User.id)
        )
    )


def supervisors(session: Session) -> list[User]:
    # The role written into the SQL, not a parameter: the partial index over
    # the supervisors' rows (0012) then serves every plan, a generic one too.
    role = literal(SUPERVISOR, literal_execute=True)
    return list(session.scalars(select(User).where(User.role == role).order_by(User.id)))


def case_payload(case: Case, county: CountyConfig) -> JSONDict:
    category = county.categories.get(case.category)
    return {
        "number": case.number,
        "category": category.name if category else case.category,
        "community": case.community.name if case.community else "",
    }


def outbox_rows(
    now: datetime, purpose: str, case_id: int | None, users: Iterable[Recipient], payload: JSONDict
) -> list[dict[str, object]]:
    """What ``enqueue`` writes, as rows for a bulk insert in the caller's transaction."""
    rows: list[dict[str, object]] = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        body = dict(payload)
        if case_id is not None:
            body["page"] = page_for(user, case_id)
        rows.append(
            {
                "user_id": user.id,
                "case_id": case_id,
                "purpose": purpose,
                "payload": body,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return rows


def enqueue(
    session: Session, now: datetime, purpose: str, case: Case | None, users: Iterable[User], payload: JSONDict
) -> int:
    """A notification to each user once, opening the page that user needs,
    written in the session's transaction with one executemany (the rows need
    no ORM objects: nothing reads them back before the sender does);
    answers how many were written."""
    rows = outbox_rows(now, purpose, case.id if case is not None else None, users, payload)
    return executemany(session.connection(), INSERT_OUTBOX, rows)


def tell_reporter(
    session: Session, now: datetime, case: Case, county: CountyConfig, status: str, note: str = ""
) -> None:
    """A ``case_update`` to the reporter (and to reporters of cases merged into it)."""
    reporters = [session.get(User, case.reporter_id)]
    reporters += list(
        session.scalars(
            select(User).join(Case, Case.reporter_id == User.id).where(Case.merged_into_id == case.id)
        )
    )
    notice = county.labels.notices.get(status) or county.labels.status(status)
    payload = case_payload(case, county) | {"status": notice, "note": note}
    enqueue(session, now, "case_update", case, [u for u in reporters if u is not None], payload)
