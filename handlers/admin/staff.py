"""Staff as an administrator sees them: department, role, WeCom id, the
subscribe-message quota left per purpose, when last seen; invite, revoke,
set a WeCom id (handlers/accounts.py does each, recording the change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlalchemy import ColumnElement, select

from app.models import Department, StaffInvite, Subscription, User
from app.models.people import STAFF_ROLES
from handlers.accounts import invite_staff, revoke_staff, set_wecom_id
from handlers.admin.audit import admin
from handlers.commands import Command, ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.paging import one_page

Role = Literal["handler", "head", "supervisor", "admin"]


class StaffFilter(Query):
    department: str | None = Field(default=None, max_length=64, title="部门或乡镇(街道)")
    role: Role | None = Field(default=None, title="角色")
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=20, ge=1, le=100, title="每页条数")


class Invite(Command):
    department: str = Field(min_length=1, max_length=64, title="部门或乡镇(街道)")
    role: Role = Field(title="角色")
    hours: int = Field(default=72, ge=1, le=24 * 30, title="有效小时数")


class WeComId(Command):
    wecom_id: str = Field(
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@-]*$",
        title="企业微信账号",
        description="企业微信 userid；空字符串为解除",
    )


@dataclass(frozen=True)
class Quota:
    left: int  # one-time messages still allowed
    long_term: bool  # a long-term subscription needs no count while accepted
    status: str  # accept, reject, ban, filter; "" if never asked


@dataclass(frozen=True)
class StaffMember:
    user: User
    quota: dict[str, Quota]  # by purpose: new_case, escalation, case_update


def _members(ctx: Context, users: list[User], subs: list[Subscription]) -> list[StaffMember]:
    purposes = {t.id: purpose for purpose, t in ctx.county.subscribe_templates.items()}
    by_user: dict[int, dict[str, Quota]] = {u.id: {} for u in users}
    for sub in subs:
        purpose = purposes.get(sub.template_id)
        if purpose is not None:
            by_user[sub.user_id][purpose] = Quota(sub.quota, sub.long_term, sub.status)
    empty = Quota(0, False, "")
    return [
        StaffMember(u, {p: by_user[u.id].get(p, empty) for p in ctx.county.subscribe_templates})
        for u in users
    ]


def list_staff(ctx: Context, user_id: int, f: StaffFilter) -> tuple[list[StaffMember], int]:
    """Staff by department, then role and id."""
    where: list[ColumnElement[bool]] = [User.role.in_(STAFF_ROLES)]
    if f.role:
        where.append(User.role == f.role)
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        if f.department:
            unit = s.scalar(select(Department.id).where(Department.name == f.department))
            if unit is None:
                raise Invalid(f"找不到部门或乡镇(街道)：{f.department}", "unknown_department")
            where.append(User.department_id == unit)
        order = (User.department_id, User.role, User.id)
        users, total = one_page(s, User, where, order, f.page, f.per_page)
        subs = list(s.scalars(select(Subscription).where(Subscription.user_id.in_([u.id for u in users]))))
        s.expunge_all()
    return _members(ctx, users, subs), total


def staff_member(ctx: Context, user_id: int, staff_id: int) -> StaffMember:
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        user = s.get(User, staff_id)
        if user is None:
            raise NotFound(f"找不到用户 {staff_id}", "user_not_found")
        subs = list(s.scalars(select(Subscription).where(Subscription.user_id == staff_id)))
        s.expunge_all()
    return _members(ctx, [user], subs)[0]


def invite(ctx: Context, user_id: int, cmd: Invite) -> tuple[str, datetime]:
    """A one-time binding code (shown once) and when it expires."""
    return invite_staff(ctx, cmd.department, cmd.role, cmd.hours, admin_id=user_id)


def revoke(ctx: Context, user_id: int, staff_id: int) -> StaffMember:
    revoke_staff(ctx, staff_id, admin_id=user_id)
    return staff_member(ctx, user_id, staff_id)


def set_wecom(ctx: Context, user_id: int, staff_id: int, cmd: WeComId) -> StaffMember:
    set_wecom_id(ctx, staff_id, cmd.wecom_id, admin_id=user_id)
    return staff_member(ctx, user_id, staff_id)


@dataclass(frozen=True)
class InviteState:
    """A binding code as the admin sees it afterwards (never the code itself)."""

    id: int
    department: str
    role: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by_id: int | None


def recent_invites(ctx: Context, user_id: int, limit: int = 20) -> list[InviteState]:
    """The latest binding codes, newest first: bound (by whom), waiting, or expired."""
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        rows = s.execute(
            select(StaffInvite, Department.name)
            .join(Department, Department.id == StaffInvite.department_id)
            .order_by(StaffInvite.created_at.desc(), StaffInvite.id.desc())
            .limit(limit)
        )
        return [
            InviteState(i.id, name, i.role, i.created_at, i.expires_at, i.used_at, i.used_by_id)
            for i, name in rows
        ]
