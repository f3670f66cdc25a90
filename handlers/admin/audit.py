"""The record of every change to county data: who, when, what, before and
after, written in the transaction of the change itself. Admins list it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from app.models import Change, User
from app.models.people import ADMIN
from handlers.commands import ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Forbidden, Invalid
from handlers.paging import one_page
from handlers.ports import JSONDict
from routing.periods import parse_day

# What changed, as a person reads it (the ``entity`` of a change).
ENTITIES = {
    "community": "小区",
    "assignment": "物业服务企业",
    "staff": "工作人员",
    "routing_version": "责任清单版本",
}
COMMAND_LINE = "命令行"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an admin (by id), or the command line."""

    id: int | None
    label: str


def admin(s: Session, user_id: int | None) -> Actor:
    """The admin making a change (None: an operator at the command line)."""
    if user_id is None:
        return Actor(None, COMMAND_LINE)
    user = s.get(User, user_id)
    if user is None or user.role != ADMIN:
        raise Forbidden("仅管理员可以进行此操作", "admin_only")
    return Actor(user.id, label_of(user))


def label_of(user: User) -> str:
    where = user.department.name if user.department is not None else ""
    name = user.display_name or f"用户{user.id}"
    return f"{where} {name}".strip()[:64]


def record_change(
    s: Session,
    at: datetime,
    by: Actor,
    entity: str,
    entity_id: object,
    action: str,
    before: JSONDict | None,
    after: JSONDict | None,
    note: str = "",
) -> Change:
    change = Change(
        at=at,
        actor_id=by.id,
        actor=by.label,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
        note=note,
    )
    s.add(change)
    return change


class ChangeFilter(Query):
    entity: str | None = Field(default=None, max_length=32, title="对象")
    entity_id: str | None = Field(default=None, max_length=64, title="对象编号")
    actor_id: ParamId | None = Field(default=None, title="操作人")
    since: str | None = Field(default=None, max_length=10, title="起始日期", description="2026-06-01")
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=20, ge=1, le=100, title="每页条数")


def day_start(text: str, tz: ZoneInfo, title: str) -> datetime:
    """The start of a day (``2026-06-01``) in the county's time zone."""
    try:
        return datetime.combine(parse_day(text), time(0), tzinfo=tz)
    except ValueError as exc:
        raise Invalid(f"{title}格式不正确，例如 2026-06-01", "invalid_date") from exc


def list_changes(ctx: Context, user_id: int, f: ChangeFilter) -> tuple[list[Change], int]:
    """Changes, newest first, filtered by what changed, who changed it, since when."""
    if f.entity is not None and f.entity not in ENTITIES:
        raise Invalid(f"对象应为：{'、'.join(ENTITIES)}", "invalid_filter")
    where: list[ColumnElement[bool]] = []
    if f.entity:
        where.append(Change.entity == f.entity)
    if f.entity_id:
        where.append(Change.entity_id == f.entity_id)
    if f.actor_id is not None:
        where.append(Change.actor_id == f.actor_id)
    if f.since:
        where.append(Change.at >= day_start(f.since, ctx.county.tz, "起始日期"))
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        order = (Change.at.desc(), Change.id.desc())
        rows, total = one_page(s, Change, where, order, f.page, f.per_page)
        s.expunge_all()
    return rows, total
