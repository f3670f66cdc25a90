"""Closing resolved cases whose rating window ran out with no answer."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Case
from handlers.cases.clocks import advance, min_span, rating_deadline
from handlers.cases.timeline import record
from handlers.context import Context
from routing.lifecycle import RESOLVED, SYSTEM, check

BATCH = 200


def close_expired(ctx: Context) -> int:
    """Close every resolved case past its rating window; answers how many."""
    county = ctx.county
    now = ctx.now()
    closed = 0
    # A calendar window bounds the query; a working-day window is checked per case.
    horizon = now - min_span(county, county.rating_window)
    while True:
        with ctx.uow() as uow:
            s = uow.session
            candidates = list(
                s.scalars(
                    select(Case)
                    .where(Case.status == RESOLVED, Case.resolved_at <= now, Case.resolved_at <= horizon)
                    .order_by(Case.resolved_at, Case.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, of=Case)
                )
            )
            # Each case's rating window is its own version's.
            due = [c for c in candidates if rating_deadline(c, ctx.county_of(c.config_version)) <= now]
            for case in due:
                advance(case, check("close", case.status, [SYSTEM]), ctx.county_of(case.config_version), now)
                record(s, case, "closed", now, note="评价期已过，工单自动关闭")
            uow.commit()
            closed += len(due)
        if len(candidates) < BATCH or not due:
            return closed
