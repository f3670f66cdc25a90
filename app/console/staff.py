"""Admins: staff (list, invite with a one-time code and its QR code,
revoke after a confirm step, WeCom id), on the admin API's handlers."""

from __future__ import annotations

from typing import Any

import segno
from flask import request
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.api.admin_staff import StaffPath
from app.api.errors import status_of
from app.api.web import ctx
from app.console.forms import DONE, args, attempt, done, form, numbers
from app.console.paging import Pager
from app.console.routing_versions import ACTIONS, change_text
from app.console.web import bp, needs, page, viewer
from app.models.people import ADMIN, STAFF_ROLES
from handlers.admin.audit import ChangeFilter, list_changes
from handlers.admin.staff import (
    Invite,
    StaffFilter,
    WeComId,
    invite,
    list_staff,
    recent_invites,
    revoke,
    set_wecom,
    staff_member,
)
from handlers.commands import build
from handlers.errors import DomainError
from handlers.places.communities import all_units

DONE.update({"revoked": "已撤销该工作人员的身份，其登录立即失效", "wecom": "已保存企业微信账号"})


def _qr(code: str) -> Markup:
    """The binding code as an SVG QR code (what the mini-program's scan reads)."""
    qr = segno.make(code, error="m")
    return Markup(qr.svg_inline(border=2, dark="#111", omitsize=True, title="绑定码二维码"))  # noqa: S704


def _staff_page(error: str = "", status: int = 200, **extra: Any) -> tuple[str, int]:
    f = args(StaffFilter)
    rows, total = list_staff(ctx(), viewer().id, f)
    history, _ = list_changes(ctx(), viewer().id, ChangeFilter(entity="staff", per_page=10))
    units = all_units(ctx())
    return page(
        "staff.html",
        status=status,
        f=f,
        rows=rows,
        pager=Pager(f.page, f.per_page, total),
        units=[(u.name, u.is_township) for u in units],
        roles=STAFF_ROLES,
        invites=recent_invites(ctx(), viewer().id, 10),
        history=history,
        actions=ACTIONS,
        change_text=change_text,
        now=ctx().now(),
        error=error,
        notice=DONE.get(request.args.get("ok", "")),
        **extra,
    )


@bp.get("/staff")
@needs(ADMIN)
def staff() -> tuple[str, int]:
    return _staff_page()


@bp.post("/staff/invites")
@needs(ADMIN)
def staff_invite() -> tuple[str, int]:
    """The code is shown on this answer only (it is stored hashed)."""
    try:
        typed = {f: request.form.get(f, "").strip() for f in ("department", "role", "hours")}
        cmd = build(Invite, numbers({k: v for k, v in typed.items() if v}, "hours"))
        code, expires_at = invite(ctx(), viewer().id, cmd)
    except DomainError as exc:
        return _staff_page(exc.message, status_of(exc))
    issued = {"code": code, "expires_at": expires_at, "department": cmd.department, "role": cmd.role}
    return _staff_page(issued=issued, qr=_qr(code))


def _staff_id(value: str) -> int:
    return args(StaffPath, staff_id=value).staff_id


@bp.get("/staff/<staff_id>/revoke")
@needs(ADMIN)
def staff_revoke_confirm(staff_id: str) -> tuple[str, int]:
    member = staff_member(ctx(), viewer().id, _staff_id(staff_id))
    return page("staff_revoke.html", member=member.user)


@bp.post("/staff/<staff_id>/revoke")
@needs(ADMIN)
def staff_revoke(staff_id: str) -> Response | Any:
    sid = _staff_id(staff_id)

    def run() -> None:
        revoke(ctx(), viewer().id, sid)

    return attempt(run, lambda: done("/console/staff", "revoked"), _staff_page)


@bp.post("/staff/<staff_id>/wecom")
@needs(ADMIN)
def staff_wecom(staff_id: str) -> Response | Any:
    sid = _staff_id(staff_id)

    def run() -> None:
        set_wecom(ctx(), viewer().id, sid, form(WeComId, "wecom_id"))

    return attempt(run, lambda: done("/console/staff", "wecom"), _staff_page)
