"""What is waiting now, for the operators' gauges: notifications not yet
sent and cases past a running deadline. Read from the database at each
scrape, so every host answers the same figures (take their max, not sum)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.models import Case, Notification
from app.models.outbox import PENDING
from handlers.cases.clocks import past_deadline
from handlers.context import Context


@dataclass(frozen=True)
class Backlog:
    outbox_pending: int
    cases_overdue: int


def backlog(ctx: Context) -> Backlog:
    """Both counts through their indexes (status, next_attempt_at; due_at)."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        pending = s.scalar(select(func.count(Notification.id)).where(Notification.status == PENDING))
        overdue = s.scalar(select(func.count(Case.id)).where(past_deadline(now)))
    return Backlog(outbox_pending=pending or 0, cases_overdue=overdue or 0)
