"""What supervisors must see of the outbox: sends that can never succeed, and
staff nobody can reach (no subscription quota, no WeCom id). A resident who
did not subscribe chose so, and is not listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.models import Case, Notification, User
from app.models.outbox import FAILED, NO_CHANNEL
from app.models.people import STAFF_ROLES
from handlers.context import Context

WORTH_SEEING = or_(
    Notification.status == FAILED, (Notification.status == NO_CHANNEL) & User.role.in_(STAFF_ROLES)
)


@dataclass(frozen=True)
class Failure:
    notification: Notification
    recipient: User
    case_number: str | None


def failed_notifications(ctx: Context, page: int, per_page: int) -> tuple[list[Failure], int]:
    """Newest first."""
    with ctx.uow() as uow:
        s = uow.session
        joined = select(func.count(Notification.id)).join(User, User.id == Notification.user_id)
        total = s.scalar(joined.where(WORTH_SEEING)) or 0
        rows = s.execute(
            select(Notification, User, Case.number)
            .join(User, User.id == Notification.user_id)
            .outerjoin(Case, Case.id == Notification.case_id)
            .where(WORTH_SEEING)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        failures = [Failure(n, u, number) for n, u, number in rows]
        s.expunge_all()
    return failures, total
