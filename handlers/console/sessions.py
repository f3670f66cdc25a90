"""Console sessions: a random token in the browser's cookie, its hash here.

The user's role is read on every request, so a role taken away (``staff
revoke``) ends the session at its next request; a session also ends after
an idle spell, after a working day at most, and on logout.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.models import ConsoleSession, User
from app.models.people import CONSOLE_ROLES
from handlers.context import Context
from handlers.errors import Unauthorized

# However active, a session lasts a working day at most.
SESSION_MAX = timedelta(hours=12)
# Last activity is written at most once a minute, not on every page.
TOUCH_EVERY = timedelta(minutes=1)
# Ended sessions are kept this long (who was logged in when), then pruned.
KEEP_ENDED = timedelta(days=30)


# Why a browser is back at the login page, as the person reads it.
WHY = {
    "login_required": "请先登录",
    "session_idle": "长时间未操作，已自动退出，请重新登录",
    "session_expired": "登录已超过 12 小时，请重新登录",
    "session_role": "您的身份已变更，不能再使用电脑端；如有疑问请联系管理员",
    "logout": "您已安全退出",
    "login_expired": "二维码已过期或已使用，请用新的二维码登录",
}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str  # for the browser's cookie; only its hash is stored
    user: User


def open_session(s: Session, user: User, now: datetime) -> NewSession:
    """A session for ``user``, in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    s.add(ConsoleSession(token_hash=digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    s.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.ended_at < now - KEEP_ENDED, ConsoleSession.last_seen_at < now - KEEP_ENDED)
        )
    )
    return NewSession(token, user)


def _ended(row: ConsoleSession, user: User | None, now: datetime, idle: timedelta) -> str | None:
    """Why the session is over now (idle, expired, role); None if it goes on."""
    if now - row.last_seen_at > idle:
        return "idle"
    if now - row.created_at > SESSION_MAX:
        return "expired"
    if user is None or user.role not in CONSOLE_ROLES:
        return "role"
    return None


def session_user(ctx: Context, token: str, idle: timedelta) -> User:
    """The user a session cookie names, their role read now; Unauthorized
    (with the reason a person reads) when there is none or it has ended."""
    if not token:
        raise Unauthorized(WHY["login_required"], "login_required")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        row = s.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == digest(token)))
        if row is None or row.ended_at is not None:
            raise Unauthorized(WHY["login_required"], "login_required")
        user = s.get(User, row.user_id)
        over = _ended(row, user, now, idle)
        if over is not None:
            row.ended_at, row.end_reason = now, over
            uow.commit()
            raise Unauthorized(WHY[f"session_{over}"], f"session_{over}")
        assert user is not None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
            uow.commit()
        s.expunge(user)
    return user


def end_session(ctx: Context, token: str) -> None:
    """Logout: the session stops working at once, wherever its cookie is."""
    if not token:
        return
    now = ctx.now()
    with ctx.uow() as uow:
        row = uow.session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == digest(token)))
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = now, "logout"
            uow.commit()
