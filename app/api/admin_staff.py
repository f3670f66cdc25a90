"""Admins: staff (list, invite, revoke, WeCom id)."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import DepartmentRef, Listing, answer, iso
from app.api.web import admin, blueprint, ctx
from handlers.admin.staff import (
    Invite,
    StaffFilter,
    StaffMember,
    WeComId,
    invite,
    list_staff,
    revoke,
    set_wecom,
)
from handlers.cases.handling import Nothing
from handlers.commands import ParamId, Query

bp = blueprint("admin_staff", "/api/v1/admin", "管理：工作人员", also=(403, 404, 409))


class StaffQuotaOut(BaseModel):
    left: int = Field(description="一次性订阅还可发送的条数")
    long_term: bool
    status: str = Field(description="accept、reject、ban、filter；从未询问为空")


class StaffOut(BaseModel):
    id: int
    role: str
    department: DepartmentRef | None
    wecom_id: str
    quota: dict[str, StaffQuotaOut] = Field(description="按用途：new_case、escalation、case_update")
    last_seen_at: str | None
    last_login_at: str | None
    created_at: str | None


def _out(member: StaffMember) -> StaffOut:
    u, tz = member.user, ctx().county.tz
    d = u.department
    return StaffOut(
        id=u.id,
        role=u.role,
        department=DepartmentRef(id=d.id, name=d.name, kind=d.kind) if d else None,
        wecom_id=u.wecom_userid,
        quota={
            p: StaffQuotaOut(left=q.left, long_term=q.long_term, status=q.status)
            for p, q in member.quota.items()
        },
        last_seen_at=iso(u.last_seen_at, tz),
        last_login_at=iso(u.last_login_at, tz),
        created_at=iso(u.created_at, tz),
    )


class StaffPath(Query):
    staff_id: ParamId = Field(title="工作人员")


@bp.get("/staff", responses={200: Listing[StaffOut]})
def staff(query: StaffFilter) -> Response:
    """工作人员列表（可按部门、角色筛选）：企业微信账号、剩余提醒次数、最近使用时间"""
    rows, total = list_staff(ctx(), admin().id, query)
    items = [_out(m) for m in rows]
    return answer(Listing[StaffOut](items=items, page=query.page, per_page=query.per_page, total=total))


class InviteOut(BaseModel):
    code: str = Field(description="一次性绑定码，只显示这一次")
    expires_at: str | None


@bp.post("/staff/invites", responses={201: InviteOut})
def invite_(body: Invite) -> Response:
    """生成一次性绑定码（部门或乡镇(街道)、角色）"""
    code, expires_at = invite(ctx(), admin().id, body)
    return answer(InviteOut(code=code, expires_at=iso(expires_at, ctx().county.tz)), 201)


@bp.post("/staff/<staff_id>/revoke", responses={200: StaffOut})
def revoke_(path: StaffPath, body: Nothing) -> Response:
    """立即撤销工作人员身份"""
    return answer(_out(revoke(ctx(), admin().id, path.staff_id)))


@bp.put("/staff/<staff_id>/wecom", responses={200: StaffOut})
def wecom(path: StaffPath, body: WeComId) -> Response:
    """设置（或用 "" 清除）工作人员的企业微信账号"""
    return answer(_out(set_wecom(ctx(), admin().id, path.staff_id, body)))
