"""What supervisors must see of the outbox: sends that can never succeed, and
staff nobody can reach (no subscription quota, no WeCom id). A resident who
did not subscribe chose so, and is not listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from app.models import Case, Notification, User
from app.models.outbox import FAILED, NO_CHANNEL, PENDING
from app.models.people import STAFF_ROLES, SUPERVISORS
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, NotFound

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


def retry_notification(ctx: Context, notification_id: int, user_id: int) -> None:
    """A supervisor sends a listed notification again (after the staff member
    subscribed, got a WeCom id, or WeChat's trouble passed): it goes back to
    the outbox as a fresh row, due now, and the sender is woken."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None or user.role not in SUPERVISORS:
            raise Forbidden("仅督办人员可以进行此操作", "supervisor_only")
        if s.get(Notification, notification_id) is None:
            raise NotFound("找不到该通知", "notification_not_found")
        retried = s.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status.in_((FAILED, NO_CHANNEL)))
            .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None, claimed_by="")
        )
        if retried.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("该通知已在发送或已送达，无需重发", "notification_not_failed")
        uow.commit()
    ctx.wake_outbox()
