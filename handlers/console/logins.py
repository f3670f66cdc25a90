"""Logging in to the PC console without a password.

A QR login: the PC page gets a short code (8 characters, no 0/O/1/I/L) and
a secret only that browser holds; a head, supervisor or admin confirms the
code from the mini-program (``wx.scanCode`` or typed); the browser holding
the secret then gets a session as them. A link login: ``flask --app app
console link --user ID`` makes a one-time URL for a first admin. Codes and
links expire, work once, and are stored only as hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import ConsoleLogin, ConsoleLoginFailure, User
from app.models.console import LINK, QR
from app.models.people import CONSOLE_ROLES
from handlers.accounts import CODE_ALPHABET
from handlers.console.sessions import NewSession, digest, open_session
from handlers.context import Context
from handlers.errors import Forbidden, NotFound, TooMany

CODE_LENGTH = 8
QR_LIFETIME = timedelta(minutes=5)
# Once confirmed, the PC page has this long to pick up its session.
FINISH_WITHIN = timedelta(minutes=1)
LINK_LIFETIME = timedelta(minutes=10)
# Wrong codes one user may send in the window before being told to wait.
GUESSES = 10
GUESS_WINDOW = timedelta(minutes=15)
# Expired logins and old wrong-code records are pruned after this.
KEEP = timedelta(days=1)

NOT_FOUND = "登录码无效或已过期，请刷新电脑上的二维码"
NOT_FOR_CONSOLE = "您的身份不能登录电脑端"


def normal_code(text: str) -> str:
    """As the mini-program sends it: upper case, no dash."""
    return text.strip().upper().replace("-", "")


def display_code(code: str) -> str:
    """``ABCD1234`` -> ``ABCD-1234``, as the page shows it."""
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class QrLogin:
    code: str
    browser_secret: str  # for the PC browser's cookie
    expires_at: datetime

    @property
    def display(self) -> str:
        return display_code(self.code)


def _prune(s: Session, now: datetime) -> None:
    s.execute(delete(ConsoleLogin).where(ConsoleLogin.expires_at < now - KEEP))
    s.execute(delete(ConsoleLoginFailure).where(ConsoleLoginFailure.at < now - KEEP))


def start_qr_login(ctx: Context) -> QrLogin:
    now = ctx.now()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    browser = secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        _prune(uow.session, now)
        uow.session.add(
            ConsoleLogin(
                kind=QR,
                code_hash=digest(code),
                browser_hash=digest(browser),
                created_at=now,
                expires_at=now + QR_LIFETIME,
            )
        )
        uow.commit()
    return QrLogin(code, browser, now + QR_LIFETIME)


def _browser_login(s: Session, browser_secret: str) -> ConsoleLogin | None:
    if not browser_secret:
        return None
    return s.scalar(select(ConsoleLogin).where(ConsoleLogin.browser_hash == digest(browser_secret)))


def qr_status(ctx: Context, browser_secret: str) -> str:
    """``pending``, ``confirmed`` or ``expired`` (unknown and spent ones too)."""
    now = ctx.now()
    with ctx.uow() as uow:
        login = _browser_login(uow.session, browser_secret)
        if login is None or login.used_at is not None or login.expires_at <= now:
            return "expired"
        return "confirmed" if login.confirmed_at is not None else "pending"


def browser_holds(ctx: Context, browser_secret: str, code: str) -> bool:
    """Whether this browser is the one showing ``code`` (still waiting)."""
    with ctx.uow() as uow:
        login = _browser_login(uow.session, browser_secret)
        return bool(login and login.code_hash == digest(normal_code(code)) and login.used_at is None)


def _console_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or user.role not in CONSOLE_ROLES:
        raise Forbidden(NOT_FOR_CONSOLE, "console_forbidden")
    return user


def confirm_login(ctx: Context, user_id: int, code: str) -> None:
    """The mini-program confirms a code shown on a PC: that PC is logged in as
    the caller. 403 for a role the console does not serve, 429 after too many
    wrong codes, 404 for a code unknown, expired or already confirmed."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _console_user(s, user_id)
        wrong = s.scalar(
            select(func.count(ConsoleLoginFailure.id)).where(
                ConsoleLoginFailure.user_id == user.id, ConsoleLoginFailure.at > now - GUESS_WINDOW
            )
        )
        if (wrong or 0) >= GUESSES:
            raise TooMany("登录码输错次数太多，请 15 分钟后再试", "too_many_attempts")
        confirmed = s.execute(
            update(ConsoleLogin)
            .where(
                ConsoleLogin.code_hash == digest(normal_code(code)),
                ConsoleLogin.kind == QR,
                ConsoleLogin.expires_at > now,
                ConsoleLogin.confirmed_at.is_(None),
                ConsoleLogin.used_at.is_(None),
            )
            .values(confirmed_at=now, user_id=user.id, expires_at=now + FINISH_WITHIN)
        )
        if confirmed.rowcount != 1:  # type: ignore[attr-defined]
            s.add(ConsoleLoginFailure(user_id=user.id, at=now))
            uow.commit()
            raise NotFound(NOT_FOUND, "login_not_found")
        uow.commit()


def _spend(s: Session, login: ConsoleLogin | None, now: datetime) -> NewSession:
    """Mark the login used (once, whoever races) and open a session for its user."""
    if login is None or login.user_id is None or login.used_at is not None or login.expires_at <= now:
        raise NotFound("登录码或链接无效、已使用或已过期，请重新获取", "login_not_found")
    spent = s.execute(
        update(ConsoleLogin)
        .where(ConsoleLogin.id == login.id, ConsoleLogin.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("登录码或链接已使用，请重新获取", "login_not_found")
    return open_session(s, _console_user(s, login.user_id), now)


def finish_qr_login(ctx: Context, browser_secret: str) -> NewSession:
    """The PC browser whose code was confirmed gets its session."""
    now = ctx.now()
    with ctx.uow() as uow:
        login = _browser_login(uow.session, browser_secret)
        if login is not None and login.confirmed_at is None:
            raise NotFound("还没有在小程序中确认", "login_not_confirmed")
        new = _spend(uow.session, login, now)
        uow.commit()
        uow.session.expunge(new.user)
    return new


def create_link(ctx: Context, user_id: int) -> tuple[str, datetime]:
    """A one-time login link's token for ``user_id`` (a first admin)."""
    now = ctx.now()
    token = secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        s = uow.session
        if s.get(User, user_id) is None:
            raise NotFound(f"找不到用户 {user_id}", "user_not_found")
        _console_user(s, user_id)
        _prune(s, now)
        s.add(
            ConsoleLogin(
                kind=LINK,
                code_hash=digest(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
        uow.commit()
    return token, now + LINK_LIFETIME


def _link(s: Session, token: str) -> ConsoleLogin | None:
    return s.scalar(
        select(ConsoleLogin).where(ConsoleLogin.code_hash == digest(token), ConsoleLogin.kind == LINK)
    )


def link_holder(ctx: Context, token: str) -> User:
    """Whom a link would log in, while it still works (shown before it is spent)."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        link = _link(s, token)
        if link is None or link.user_id is None or link.used_at is not None or link.expires_at <= now:
            raise NotFound("登录链接无效、已使用或已过期，请重新获取", "link_not_found")
        user = _console_user(s, link.user_id)
        s.expunge(user)
    return user


def spend_link(ctx: Context, token: str) -> NewSession:
    now = ctx.now()
    with ctx.uow() as uow:
        new = _spend(uow.session, _link(uow.session, token), now)
        uow.commit()
        uow.session.expunge(new.user)
    return new
