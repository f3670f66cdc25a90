"""What users allowed for subscribe messages, from the client and from pushes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import CallbackReceipt, Subscription, User
from handlers.context import Context
from routing import CountyConfig

ANSWERS = ("accept", "reject", "ban", "filter")


def templates_for(county: CountyConfig) -> dict[str, str]:
    return {purpose: t.id for purpose, t in county.subscribe_templates.items()}


def _apply(
    s: Session, county: CountyConfig, user_id: int, template_id: str, answer: str, now: datetime
) -> bool:
    known = {t.id: t for t in county.subscribe_templates.values()}
    template = known.get(template_id)
    if template is None or answer not in ANSWERS:
        return False
    sub = s.scalar(
        select(Subscription).where(Subscription.user_id == user_id, Subscription.template_id == template_id)
    )
    if sub is None:
        sub = Subscription(user_id=user_id, template_id=template_id, quota=0, updated_at=now)
        s.add(sub)
    sub.status = answer
    sub.long_term = template.long_term
    sub.updated_at = now
    if answer == "accept" and not template.long_term:
        # A one-time subscription allows one message per accept.
        sub.quota = (sub.quota or 0) + 1
    return True


def quotas(ctx: Context, user_id: int) -> dict[str, int]:
    """The remaining quota per template the user answered."""
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(Subscription).where(Subscription.user_id == user_id)).all()
        return {r.template_id: r.quota for r in rows}


def record_answers(ctx: Context, user_id: int, answers: dict[str, object]) -> dict[str, int]:
    """What ``wx.requestSubscribeMessage`` answered; unknown ids are ignored.
    Answers the remaining quota per known template."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        for template_id, answer in answers.items():
            if isinstance(template_id, str) and isinstance(answer, str):
                _apply(s, ctx.county, user_id, template_id, answer, now)
        uow.commit()
    return quotas(ctx, user_id)


def record_push(
    ctx: Context, openid: str, dedupe_key: str, answers: list[tuple[str, str]], event: str
) -> bool:
    """A ``subscribe_msg_popup_event`` or ``subscribe_msg_change_event`` push.
    WeChat retries a push: a repeated one changes nothing. Answers whether it was new."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        if s.get(CallbackReceipt, dedupe_key) is not None:
            return False
        s.add(CallbackReceipt(key=dedupe_key, received_at=now))
        user = s.scalar(select(User).where(User.openid == openid))
        if user is not None:
            for template_id, status in answers:
                if event == "subscribe_msg_change_event" and status == "accept":
                    # A settings change re-allows the template but grants no message.
                    sub = s.scalar(
                        select(Subscription).where(
                            Subscription.user_id == user.id, Subscription.template_id == template_id
                        )
                    )
                    if sub is not None:
                        sub.status = "accept"
                        sub.updated_at = now
                    continue
                _apply(s, ctx.county, user.id, template_id, status, now)
        try:
            uow.commit()
        except IntegrityError:  # a concurrent retry of the same push won
            return False
    return True
