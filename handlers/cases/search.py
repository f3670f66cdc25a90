"""Finding cases: by number or words, with filters, a page at a time, among
the cases the viewer may see (the same rule as opening one)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from pydantic import Field
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload

from app.models import Case, Community, User
from handlers.cases.access import visible_cases
from handlers.cases.clocks import past_deadline
from handlers.cases.queries import NEWEST
from handlers.commands import ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.paging import one_page
from routing.lifecycle import OPEN, STATUSES
from routing.periods import parse_day


class CaseSearch(Query):
    """What the console's case list is asked (all optional, as in its URL)."""

    q: str = Field(default="", max_length=50, title="编号或内容")
    status: str = Field(default="", max_length=16, title="状态", description="状态代码，或 open（未办结）")
    category: str = Field(default="", max_length=64, title="问题类别")
    department: ParamId | None = Field(default=None, title="主办部门")
    township: ParamId | None = Field(default=None, title="乡镇(街道)")
    overdue: Literal["", "1"] = Field(default="", title="只看超期")
    from_: str = Field(default="", alias="from", max_length=10, title="提交日期起")
    to: str = Field(default="", max_length=10, title="提交日期止")
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=50, ge=1, le=100, title="每页条数")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _day(text: str, title: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(parse_day(text), time(0))
    except ValueError as exc:
        raise Invalid(f"{title}格式应为 2026-06-01（2000 至 2100 年）", "invalid_date") from exc


def _conditions(ctx: Context, f: CaseSearch) -> list[ColumnElement[bool]]:
    tz = ctx.county.tz
    where: list[ColumnElement[bool]] = []
    if f.q:
        words = _like(f.q)
        where.append(
            or_(
                Case.number.ilike(words, escape="\\"),
                Case.description.like(words, escape="\\"),
                Case.location_text.like(words, escape="\\"),
            )
        )
    if f.status == "open":
        where.append(Case.status.in_(OPEN))
    elif f.status:
        if f.status not in STATUSES:
            raise Invalid("未知的工单状态", "invalid_status")
        where.append(Case.status == f.status)
    if f.category:
        if f.category not in ctx.county.categories:
            raise Invalid("未知的问题类别", "unknown_category")
        where.append(Case.category == f.category)
    if f.department:
        where.append(Case.primary_department_id == f.department)
    if f.township:
        where.append(Case.community.has(Community.township_id == f.township))
    if f.overdue:
        where.append(past_deadline(ctx.now()))
    first, last = _day(f.from_, "提交日期起"), _day(f.to, "提交日期止")
    if first:
        where.append(Case.created_at >= first.replace(tzinfo=tz))
    if last:
        where.append(Case.created_at < (last + timedelta(days=1)).replace(tzinfo=tz))
    return where


def search_cases(ctx: Context, viewer: User, f: CaseSearch) -> tuple[list[Case], int]:
    """Newest first; each case with its community and departments loaded."""
    where = and_(visible_cases(viewer), *_conditions(ctx, f))
    with ctx.uow() as uow:
        s = uow.session
        with_departments = (selectinload(Case.assignments),)
        cases, total = one_page(s, Case, (where,), NEWEST, f.page, f.per_page, with_departments)
        s.expunge_all()
    return cases, total


def case_by_number(ctx: Context, viewer: User, number: str) -> int:
    """The id of the case with this public number, among those the viewer may see."""
    with ctx.uow() as uow:
        found = uow.session.scalar(
            select(Case.id).where(Case.number == number.strip().upper(), visible_cases(viewer))
        )
    if found is None:
        raise NotFound(f"找不到工单 {number.strip()}", "case_not_found")
    return found
