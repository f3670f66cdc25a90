"""Logging in with WeChat, inviting and binding staff, revoking them, their
WeCom ids; each change to staff recorded (who, when, before and after)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.models import Department, StaffInvite, User
from app.models.people import RESIDENT, STAFF_ROLES
from handlers.admin.audit import Actor, admin, label_of, record_change
from handlers.context import Context
from handlers.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooMany,
    Unavailable,
)
from handlers.ports import JSONDict, WeChatRejected, WeChatUnavailable

# Unambiguous characters: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# Why WeChat refused a login code, as the resident should hear it.
LOGIN_REFUSED: dict[str, tuple[type[DomainError], str]] = {
    "invalid_code": (BadRequest, "登录凭证无效，请重新进入小程序"),
    "code_used": (BadRequest, "登录凭证已使用，请重新进入小程序"),
    "too_frequent": (TooMany, "登录太频繁，请稍后再试"),
    "risky_user": (Forbidden, "微信判定该账号存在风险，暂时无法登录"),
}


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def login_with_wechat(ctx: Context, code: str) -> User:
    """Exchange a ``wx.login`` code for the user it names; create on first login."""
    try:
        session = ctx.wechat.code_to_session(code)
    except WeChatRejected as exc:
        kind, message = LOGIN_REFUSED.get(exc.kind, (BadRequest, "微信登录失败，请重试"))
        raise kind(message, f"wechat_{exc.kind}") from exc
    except WeChatUnavailable as exc:
        raise Unavailable("微信服务暂时不可用，请稍后重试", "wechat_unavailable") from exc
    openid = session.openid
    now = ctx.now()
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(User.openid == openid))
        if user is None:
            user = User(openid=openid, unionid=session.unionid, created_at=now)
            uow.session.add(user)
        user.last_login_at = now
        uow.commit()
        uow.session.refresh(user)
        uow.session.expunge(user)
    # The session_key is deliberately dropped here: it never leaves the server
    # and nothing we do needs it.
    return user


def invite_staff(
    ctx: Context, department_name: str, role: str, hours: int = 72, admin_id: int | None = None
) -> tuple[str, datetime]:
    """A one-time binding code for a staff role in a department or township
    (the code itself is never stored or recorded, only its hash)."""
    if role not in STAFF_ROLES:
        raise Invalid(f"未知的角色：{role}")
    if hours <= 0 or hours > 24 * 30:
        raise Invalid("有效期应在 1 小时到 30 天之间")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, admin_id)
        department = s.scalar(select(Department).where(Department.name == department_name))
        if department is None:
            raise NotFound(f"找不到部门或乡镇：{department_name}（请先运行 seed）", "unknown_department")
        invite = StaffInvite(
            code_hash=_hash(code),
            department_id=department.id,
            role=role,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        s.add(invite)
        s.flush()
        after = {"department": department.name, "role": role, "expires_at": invite.expires_at.isoformat()}
        record_change(s, now, by, "staff", f"invite:{invite.id}", "invite", None, after)
        uow.commit()
    return code, now + timedelta(hours=hours)


def bind_staff(ctx: Context, user_id: int, code: str) -> User:
    """Spend a one-time code: the caller becomes staff of its department."""
    now = ctx.now()
    with ctx.uow() as uow:
        invite = uow.session.scalar(select(StaffInvite).where(StaffInvite.code_hash == _hash(code)))
        if invite is None:
            raise NotFound("绑定码不正确，请核对后重试", "bad_binding_code")
        if invite.expires_at <= now:
            raise Gone("绑定码已过期，请联系管理员重新获取", "binding_code_expired")
        # Spend the code atomically: of two concurrent binds, one wins.
        spent = uow.session.execute(
            update(StaffInvite)
            .where(StaffInvite.id == invite.id, StaffInvite.used_at.is_(None))
            .values(used_at=now, used_by_id=user_id)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("绑定码已被使用", "binding_code_used")
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound("账号不存在")
        before = _as_staff(user) if user.is_staff else {"role": user.role}
        user.role = invite.role
        user.department_id = invite.department_id
        uow.session.flush()
        uow.session.refresh(user)
        by = Actor(user.id, label_of(user))
        record_change(
            uow.session, now, by, "staff", user.id, "bind", before, _as_staff(user), f"邀请 {invite.id}"
        )
        uow.commit()
        uow.session.refresh(user)
        uow.session.expunge(user)
    return user


def _staff_member(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"找不到用户 {user_id}", "user_not_found")
    if not user.is_staff:
        raise Conflict("该用户不是工作人员", "not_staff")
    return user


def _as_staff(user: User) -> JSONDict:
    return {
        "role": user.role,
        "department": user.department.name if user.department else None,
        "wecom_id": user.wecom_userid,
    }


def revoke_staff(ctx: Context, user_id: int, admin_id: int | None = None) -> None:
    """The staff role is taken away at once (the role is read on every request)."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, admin_id)
        user = _staff_member(s, user_id)
        if admin_id == user.id:
            raise Conflict("不能撤销自己的工作人员身份，请由另一位管理员操作", "revoke_self")
        before = _as_staff(user)
        user.role = RESIDENT
        user.department_id = None
        record_change(s, now, by, "staff", user.id, "revoke", before, {"role": RESIDENT, "department": None})
        uow.commit()


def set_wecom_id(ctx: Context, user_id: int, wecom_userid: str, admin_id: int | None = None) -> None:
    """Link a staff member to their WeCom (企业微信) account for app messages
    (empty: unlink)."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, admin_id)
        user = _staff_member(s, user_id)
        before = user.wecom_userid
        user.wecom_userid = wecom_userid.strip()
        record_change(
            s, now, by, "staff", user.id, "wecom", {"wecom_id": before}, {"wecom_id": user.wecom_userid}
        )
        uow.commit()


# An authenticated request refreshes ``last_seen_at`` at most this often.
SEEN_EVERY = timedelta(minutes=5)


def note_seen(ctx: Context, user: User) -> None:
    """The user made an authenticated request (written at most every few minutes)."""
    now = ctx.now()
    if user.last_seen_at is not None and now - user.last_seen_at < SEEN_EVERY:
        return
    with ctx.uow() as uow:
        uow.session.execute(
            update(User)
            .where(User.id == user.id, or_(User.last_seen_at.is_(None), User.last_seen_at < now - SEEN_EVERY))
            .values(last_seen_at=now)
        )
        uow.commit()
    user.last_seen_at = now
