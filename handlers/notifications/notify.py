"""Writing notifications to the outbox, in the caller's transaction.

Who is told what: ``new_case`` to the staff of every department on the case;
``case_update`` to the reporter; ``escalation`` to the ladder step's
recipients (see handlers/escalation.py). The worker sends them later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Notification, User
from app.models.people import HANDLER, HEAD, STAFF_ROLES, SUPERVISOR

CASE_UPDATE_TEXT = {
    "accepted": "已签收，正在处理",
    "resolved": "已办结，请评价",
    "returned": "已退回，正在重新派发",
    "rejected": "未受理",
    "dispatched": "已派发",
    "reopened": "已重新办理",
    "merged": "已合并办理",
    "closed": "已关闭",
}


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
    return list(session.scalars(select(User).where(User.role == SUPERVISOR).order_by(User.id)))


def case_payload(case: Case, county: Any) -> dict[str, Any]:
    category = county.categories.get(case.category)
    return {
        "number": case.number,
        "category": category.name if category else case.category,
        "community": case.community.name if case.community else "",
        "page": f"pages/case/index?id={case.id}",
    }


def enqueue(
    session: Session,
    now: datetime,
    purpose: str,
    case: Case | None,
    users: Iterable[User],
    payload: dict[str, Any],
) -> list[Notification]:
    rows = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        row = Notification(
            user_id=user.id,
            case_id=case.id if case is not None else None,
            purpose=purpose,
            payload=dict(payload),
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    return rows


def tell_reporter(
    session: Session, now: datetime, case: Case, county: Any, status: str, note: str = ""
) -> None:
    """A ``case_update`` to the reporter (and to reporters of cases merged into it)."""
    reporters = [session.get(User, case.reporter_id)]
    reporters += list(
        session.scalars(
            select(User).join(Case, Case.reporter_id == User.id).where(Case.merged_into_id == case.id)
        )
    )
    payload = case_payload(case, county) | {"status": CASE_UPDATE_TEXT.get(status, status), "note": note}
    enqueue(session, now, "case_update", case, [u for u in reporters if u is not None], payload)
