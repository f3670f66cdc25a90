"""Sending the outbox: the mini-program subscribe message when the user holds
quota for the template, else a WeCom app message, with retries.

Rows are claimed in small batches with a lease (``claimed_by``/
``claimed_until``; PostgreSQL adds FOR UPDATE SKIP LOCKED), and each row's
lease is renewed by a compare-and-set just before its send, so a row whose
batch lease ran out while earlier rows were being sent is sent by whichever
worker re-claimed it, never by both. Each result is committed right after its
send, spending the user's quota in the same transaction. A worker killed
mid-send leaves its claimed rows to be taken again when the lease runs out.

A send WeChat accepted is recorded even when the database went away at that
moment: the sender keeps the outcome and retries the write, extending the
row's lease whenever the database answers, for as long as its claim lasts,
so no other worker sends it again (see ``_record_delivered``).

Nothing is lost: a row leaves ``pending`` only as ``sent``, ``failed`` (can
never succeed, or ``MAX_ATTEMPTS`` tries spent; listed for supervisors) or
``no_channel`` (the user holds no quota for the template and has no WeCom id:
a resident's own choice; listed for staff).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import and_, or_, select, update

from app.db import database_away
from app.models import Notification, Subscription, User
from app.models.outbox import FAILED, NO_CHANNEL, PENDING, SENT
from handlers.context import Context
from handlers.notifications.templates import template_data
from handlers.ports import JSONDict, SendFailed
from handlers.retry import backoff_seconds

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 15
MAX_BACKOFF_SECONDS = 3600
# Small batches: a killed worker holds few rows hostage until their lease ends.
BATCH = 20
# Retrying the record of a delivered send while the database is away.
HOLD_FIRST_SECONDS = 0.25
HOLD_MAX_SECONDS = 1.0


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next try: 15 s doubling, capped at an hour, ±20 % jitter."""
    return backoff_seconds(attempts, FIRST_RETRY_SECONDS, MAX_BACKOFF_SECONDS, rng=rng)


def _claim(ctx: Context, holder: str, now: datetime) -> list[int]:
    lease = timedelta(seconds=ctx.outbox_lease_seconds)
    with ctx.uow() as uow:
        s = uow.session
        due = and_(
            Notification.status == PENDING,
            Notification.next_attempt_at <= now,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        pick = (
            select(Notification.id)
            .where(due)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(BATCH)
        )
        if uow.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list(s.scalars(pick))
        if not ids:
            return []
        s.execute(
            update(Notification)
            .where(Notification.id.in_(ids), due)
            .values(claimed_by=holder, claimed_until=now + lease)
        )
        uow.commit()
    # Rows another worker took between the SELECT and the UPDATE (SQLite has
    # no SKIP LOCKED) are skipped by the compare-and-set before each send.
    return ids


@dataclass(frozen=True)
class Delivery:
    """One row's send, prepared from the database."""

    row_id: int
    user_id: int
    purpose: str
    payload: JSONDict
    attempts: int
    template_id: str
    data: JSONDict
    openid: str
    wecom_id: str
    use_subscribe: bool
    long_term: bool
    lease_until: datetime
    # The request (or job) that wrote the row: its send is logged under it.
    request_id: str | None = None


@dataclass
class Outcome:
    channel: str | None = None
    remote_id: str = ""
    error: SendFailed | None = None
    no_quota: bool = False


def _prepare(ctx: Context, row_id: int, holder: str) -> Delivery | None:
    """Renew this row's lease if it is still ours and pending, and read what the send needs."""
    lease_until = ctx.now() + timedelta(seconds=ctx.outbox_lease_seconds)
    with ctx.uow() as uow:
        s = uow.session
        renewed = s.execute(
            update(Notification)
            .where(
                Notification.id == row_id, Notification.claimed_by == holder, Notification.status == PENDING
            )
            .values(claimed_until=lease_until)
        )
        row = s.get(Notification, row_id) if renewed.rowcount else None  # type: ignore[attr-defined]
        if row is None:
            return None  # sent already, or re-claimed by another worker after our lease ran out
        if row.purpose not in ctx.county.subscribe_templates:
            # Nothing to send it with, ever: failed at once, for supervisors to see.
            row.status, row.claimed_by, row.claimed_until = FAILED, "", None
            row.last_error = f"没有用途为 {row.purpose} 的消息模板"
            uow.commit()
            ctx.metrics.notification_failed("no_template")
            return None
        user = s.get(User, row.user_id)
        template_id, data = template_data(row.purpose, row.payload, ctx.county)
        sub = s.scalar(
            select(Subscription).where(
                Subscription.user_id == row.user_id, Subscription.template_id == template_id
            )
        )
        # A long-term template (as accepted, or as the county configures it now)
        # needs no quota; a one-time one spends one per send.
        long_term = sub is not None and (
            sub.long_term or ctx.county.subscribe_templates[row.purpose].long_term
        )
        delivery = Delivery(
            row_id=row.id,
            user_id=row.user_id,
            purpose=row.purpose,
            payload=dict(row.payload),
            attempts=row.attempts,
            template_id=template_id,
            data=data,
            openid=user.openid if user else "",
            wecom_id=user.wecom_userid if user else "",
            use_subscribe=sub is not None and sub.status == "accept" and (long_term or sub.quota > 0),
            long_term=long_term,
            lease_until=lease_until,
            request_id=row.request_id,
        )
        uow.commit()
    return delivery


def _card(d: Delivery) -> tuple[str, str]:
    p = d.payload
    title = f"【{p.get('step') or p.get('status') or '新工单'}】{p.get('number', '')}"
    description = f"{p.get('category', '')}｜{p.get('community', '')}\n{p.get('note', '')}".strip()
    # The message number makes each card unique for WeCom's duplicate check.
    return title, f"{description}\n消息编号 {d.row_id}"


def _deliver(ctx: Context, d: Delivery) -> Outcome:
    """Try the subscribe message, then WeCom; no database here."""
    outcome = Outcome()
    if d.use_subscribe:
        try:
            outcome.remote_id = ctx.wechat.send_subscribe(
                d.openid, d.template_id, d.data, d.payload.get("page")
            )
            outcome.channel = "subscribe"
            return outcome
        except SendFailed as exc:
            if exc.kind != "no_quota":
                outcome.error = exc
                return outcome
            outcome.no_quota = True
    if d.wecom_id and ctx.wecom is not None:
        title, description = _card(d)
        try:
            unknown = ctx.wecom.send_text_card(
                [d.wecom_id], title, description, d.payload.get("url") or "https://work.weixin.qq.com/"
            )
        except SendFailed as exc:
            outcome.error = exc
            return outcome
        if d.wecom_id in unknown:
            outcome.error = SendFailed("permanent", 81013, f"WeCom does not know user {d.wecom_id}")
        else:
            outcome.channel = "wecom"
    return outcome


def _row_values(d: Delivery, outcome: Outcome, now: datetime) -> dict[str, Any]:
    """What a row becomes after its send: sent, failed, retried later, or unreachable."""
    values: dict[str, Any] = {"claimed_until": None, "claimed_by": ""}
    if outcome.channel is not None:
        values.update(status=SENT, channel=outcome.channel, remote_id=str(outcome.remote_id))
        values.update(sent_at=now, attempts=d.attempts + 1)
    elif outcome.error is not None:
        error, attempts = outcome.error, d.attempts + 1
        values.update(attempts=attempts, last_error=f"{error.errcode}: {error.errmsg}"[:500])
        if error.kind == "permanent" or attempts >= MAX_ATTEMPTS:
            values["status"] = FAILED
        else:
            values["next_attempt_at"] = now + timedelta(seconds=backoff(attempts))
    else:
        values.update(status=NO_CHANNEL, last_error="用户未订阅该消息且没有企业微信账号")
    return values


def failure_reason(d: Delivery, outcome: Outcome) -> str:
    """The ``reason`` a send that did not go is counted under."""
    if outcome.error is None:
        return "no_channel"
    if outcome.error.kind == "permanent":
        return "permanent"
    return "gave_up" if d.attempts + 1 >= MAX_ATTEMPTS else "retry"


def _count(ctx: Context, d: Delivery, outcome: Outcome) -> None:
    """Tell the metrics and the log what a recorded send came to (after its
    commit), under the id of the request that wrote the row."""
    fields = {"request_id": d.request_id, "notification_id": d.row_id, "purpose": d.purpose}
    if outcome.channel is not None:
        ctx.metrics.notification_sent(outcome.channel)
        log.info(
            "notification %s sent by %s (request %s)",
            d.row_id,
            outcome.channel,
            d.request_id,
            extra=fields | {"channel": outcome.channel},
        )
        return
    reason = failure_reason(d, outcome)
    ctx.metrics.notification_failed(reason)
    log.log(
        logging.INFO if reason == "retry" else logging.WARNING,
        "notification %s not sent: %s (request %s)",
        d.row_id,
        reason,
        d.request_id,
        extra=fields | {"reason": reason},
    )


def _record(ctx: Context, d: Delivery, outcome: Outcome, holder: str) -> bool:
    """Write what the send came to, in one transaction.

    A delivery is recorded whoever holds the row by now, as long as it is
    still pending: it did go out, and recording it stops a worker that took
    the row over from sending it again. A failure is recorded only while the
    claim is ours (another worker may have sent the row since). Answers
    whether the row was written (and so is counted)."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        which = [Notification.id == d.row_id, Notification.status == PENDING]
        if outcome.channel is None:
            which.append(Notification.claimed_by == holder)
        written = s.execute(update(Notification).where(*which).values(**_row_values(d, outcome, now)))
        mine = and_(Subscription.user_id == d.user_id, Subscription.template_id == d.template_id)
        if outcome.no_quota:
            s.execute(update(Subscription).where(mine).values(quota=0, updated_at=now))
        if written.rowcount and outcome.channel == "subscribe" and not d.long_term:  # type: ignore[attr-defined]
            # One accept allows one message: spend it only now that it went.
            s.execute(
                update(Subscription)
                .where(mine, Subscription.quota > 0)
                .values(quota=Subscription.quota - 1, updated_at=now)
            )
        uow.commit()
    return bool(written.rowcount)  # type: ignore[attr-defined]


def _extend_lease(ctx: Context, d: Delivery, holder: str) -> datetime | None:
    """Push the row's lease on while its record waits; None when the
    database is still away or the claim is no longer ours."""
    until = ctx.now() + timedelta(seconds=ctx.outbox_lease_seconds)
    try:
        with ctx.uow() as uow:
            extended = uow.session.execute(
                update(Notification)
                .where(
                    Notification.id == d.row_id,
                    Notification.claimed_by == holder,
                    Notification.status == PENDING,
                )
                .values(claimed_until=until)
            )
            uow.commit()
    except Exception as exc:
        if database_away(exc):
            return None
        raise
    return until if extended.rowcount else None  # type: ignore[attr-defined]


def _record_delivered(ctx: Context, d: Delivery, outcome: Outcome, holder: str) -> bool:
    """Record a send WeChat accepted, holding the outcome while the database
    is away: the write is retried with backoff for as long as the claim
    lasts, and the claim is extended whenever the database answers, so no
    other worker sends the row again. Past the claim, the row may go twice."""
    lease_until = d.lease_until
    for attempt in count(1):
        try:
            written = _record(ctx, d, outcome, holder)
        except Exception as exc:
            if not database_away(exc):
                raise
            if attempt == 1:
                log.warning(
                    "notification %s was delivered; holding its record until the database answers", d.row_id
                )
            lease_until = _extend_lease(ctx, d, holder) or lease_until
            if ctx.now() >= lease_until:
                log.error("notification %s was delivered but not recorded within its lease", d.row_id)
                raise
            time.sleep(backoff_seconds(attempt, HOLD_FIRST_SECONDS, HOLD_MAX_SECONDS))
            continue
        if attempt > 1:
            log.info("notification %s recorded as sent after %s tries", d.row_id, attempt)
        return written
    raise AssertionError("unreachable")  # pragma: no cover - count(1) never ends


def send_one(ctx: Context, row_id: int, holder: str) -> None:
    delivery = _prepare(ctx, row_id, holder)
    if delivery is None:
        return
    outcome = _deliver(ctx, delivery)
    if outcome.channel is None:
        # Not delivered: if this record is lost with the database, the row
        # is simply tried again once its lease runs out.
        written = _record(ctx, delivery, outcome, holder)
    else:
        written = _record_delivered(ctx, delivery, outcome, holder)
    if written:
        _count(ctx, delivery, outcome)


def send_due(ctx: Context, holder: str) -> int:
    """Send everything due; answers how many rows were handled."""
    # A claim of its own for this call: two threads of one worker never
    # take each other's rows.
    holder = f"{holder}/{uuid.uuid4().hex[:8]}"
    handled = 0
    while True:
        ids = _claim(ctx, holder, ctx.now())
        if not ids:
            return handled
        for row_id in ids:
            try:
                send_one(ctx, row_id, holder)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                if database_away(exc):
                    raise  # nor can the rest: the job notes the outage and comes back
                log.exception("notification %s could not be sent", row_id)
            handled += 1
