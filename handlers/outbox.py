"""Sending the outbox: the mini-program subscribe message when the user holds
quota for the template, else a WeCom app message, with retries.

Rows are claimed with a lease (``claimed_by``/``claimed_until``; PostgreSQL
adds FOR UPDATE SKIP LOCKED), sent one by one, and each result is committed
right after its send, spending the user's quota in the same transaction. A
worker killed mid-send leaves its claimed rows to be taken again when the
lease runs out; the only window for a duplicate is between WeChat's answer and
that commit (milliseconds). Nothing is lost: a row leaves ``pending`` only as
``sent``, ``failed`` (can never succeed; listed for supervisors) or
``no_channel`` (the user subscribed to nothing and has no WeCom id).
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update

from app.models import Notification, Subscription, User
from app.models.outbox import FAILED, PENDING, SENT
from handlers.context import Context

log = logging.getLogger(__name__)

NO_CHANNEL = "no_channel"
MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 15
MAX_BACKOFF_SECONDS = 3600
BATCH = 50


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next try: 15 s doubling, capped at an hour, ±20 % jitter."""
    base = min(MAX_BACKOFF_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return float(min(MAX_BACKOFF_SECONDS, base * jitter))


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
    with ctx.uow() as uow:
        return list(
            uow.session.scalars(
                select(Notification.id)
                .where(Notification.id.in_(ids), Notification.claimed_by == holder)
                .order_by(Notification.id)
            )
        )


def template_data(purpose: str, payload: dict[str, Any], county: Any) -> tuple[str, dict[str, Any]]:
    """The template id and its keyword data, each value fitted to WeChat's limits."""
    from app.wechat import fit_template_value

    template = county.subscribe_templates[purpose]
    tz = ZoneInfo(county.timezone)
    data: dict[str, Any] = {}
    for keyword, source in template.fields:
        value = str(payload.get(source, "") or "")
        kind = keyword.rstrip("0123456789")
        if kind in ("time", "date") and value:
            try:
                moment = datetime.fromisoformat(value).astimezone(tz)
                value = (
                    f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
                    if kind == "time"
                    else f"{moment:%Y-%m-%d}"
                )
            except ValueError:
                pass
        data[keyword] = {"value": fit_template_value(kind, value or "-")}
    return template.id, data


def _quota_available(sub: Subscription | None) -> bool:
    return sub is not None and sub.status == "accept" and (sub.long_term or sub.quota > 0)


def _send_one(ctx: Context, row_id: int, holder: str) -> None:
    from app.wechat import SendFailed

    county = ctx.county
    with ctx.uow() as uow:
        s = uow.session
        row = s.get(Notification, row_id)
        if row is None or row.claimed_by != holder or row.status != PENDING:
            return
        user = s.get(User, row.user_id)
        purpose, payload, attempts = row.purpose, dict(row.payload), row.attempts
        template_id, data = template_data(purpose, payload, county)
        sub = s.scalar(
            select(Subscription).where(
                Subscription.user_id == row.user_id, Subscription.template_id == template_id
            )
        )
        openid = user.openid if user else ""
        wecom_id = user.wecom_userid if user else ""
        use_subscribe = _quota_available(sub)

    channel: str | None = None
    remote_id = ""
    error: SendFailed | None = None
    no_quota = False
    if use_subscribe:
        try:
            remote_id = ctx.wechat.send_subscribe(openid, template_id, data, page=payload.get("page"))
            channel = "subscribe"
        except SendFailed as exc:
            if exc.kind == "no_quota":
                no_quota = True
            else:
                error = exc
    if channel is None and error is None and wecom_id and ctx.wecom is not None:
        title = f"【{payload.get('step') or payload.get('status') or '新工单'}】{payload.get('number', '')}"
        description = f"{payload.get('category', '')}｜{payload.get('community', '')}\n{payload.get('note', '')}".strip()
        # The message number makes each card unique for WeCom's duplicate check.
        description += f"\n消息编号 {row_id}"
        try:
            invalid = ctx.wecom.send_text_card(
                [wecom_id], title, description, payload.get("url") or "https://work.weixin.qq.com/"
            )
            if wecom_id in invalid:
                error = SendFailed("permanent", 81013, f"WeCom does not know user {wecom_id}")
            else:
                channel = "wecom"
        except SendFailed as exc:
            error = exc

    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        row = s.get(Notification, row_id)
        if row is None:
            return
        row.claimed_until = None
        row.claimed_by = ""
        if no_quota:
            s.execute(
                update(Subscription)
                .where(Subscription.user_id == row.user_id, Subscription.template_id == template_id)
                .values(quota=0, updated_at=now)
            )
        if channel is not None:
            row.status = SENT
            row.channel = channel
            row.remote_id = str(remote_id)
            row.sent_at = now
            row.attempts = attempts + 1
            if channel == "subscribe":
                # One accept allows one message: spend it only now that it went.
                s.execute(
                    update(Subscription)
                    .where(
                        Subscription.user_id == row.user_id,
                        Subscription.template_id == template_id,
                        Subscription.long_term.is_(False),
                        Subscription.quota > 0,
                    )
                    .values(quota=Subscription.quota - 1, updated_at=now)
                )
        elif error is not None:
            row.attempts = attempts + 1
            row.last_error = f"{error.errcode}: {error.errmsg}"[:500]
            if error.kind == "permanent" or row.attempts >= MAX_ATTEMPTS:
                row.status = FAILED
            else:
                row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts))
        else:
            row.status = NO_CHANNEL
            row.last_error = "用户未订阅该消息且没有企业微信账号"
        uow.commit()


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
                _send_one(ctx, row_id, holder)
            except Exception:  # noqa: BLE001 - one bad row must not stop the others
                log.exception("notification %s could not be sent", row_id)
            handled += 1


# -- learning of new work without polling hard ------------------------------------------

CHANNEL = "cases_outbox"


def make_waker(services: Any) -> Any:
    """A callable the web process runs after committing outbox rows."""
    if services.settings.redis_url:
        import redis

        client = redis.Redis.from_url(services.settings.redis_url, socket_timeout=2)

        def wake_redis() -> None:
            try:
                client.publish(CHANNEL, b"1")
            except Exception:  # noqa: BLE001 - the worker's timer is the fallback
                log.warning("could not publish outbox wake-up", exc_info=True)

        return wake_redis
    if services.db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        def wake_pg() -> None:
            try:
                with services.db.engine.connect() as conn:
                    conn.execute(text(f"NOTIFY {CHANNEL}"))
                    conn.commit()
            except Exception:  # noqa: BLE001
                log.warning("could not NOTIFY the outbox", exc_info=True)

        return wake_pg
    return None


def wait_for_work(services: Any, timeout: float, stop: threading.Event) -> bool:
    """Block until new outbox rows are announced (Redis pub/sub or PostgreSQL
    LISTEN) or ``timeout`` passes; answers whether to run the sender now."""
    listener = services.__dict__.get("_outbox_listener")
    if listener is None:
        listener = _Listener(services)
        services.__dict__["_outbox_listener"] = listener
    return listener.wait(timeout, stop)


class _Listener:
    def __init__(self, services: Any):
        self.kind = "timer"
        if services.settings.redis_url:
            import redis

            self.pubsub = redis.Redis.from_url(services.settings.redis_url).pubsub(
                ignore_subscribe_messages=True
            )
            self.pubsub.subscribe(CHANNEL)
            self.kind = "redis"
        elif services.db.engine.dialect.name == "postgresql":
            import psycopg

            url = services.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(url, autocommit=True)
            self.conn.execute(f"LISTEN {CHANNEL}")
            self.kind = "postgres"

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        if self.kind == "redis":
            return self.pubsub.get_message(timeout=timeout) is not None
        if self.kind == "postgres":
            got = False
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                got = True
            return got
        stop.wait(timeout)
        return True
