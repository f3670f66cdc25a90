"""Communities (小区) as county data an administrator keeps: list, create,
edit, which company serves each (with its history); every change recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field, model_validator
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.models import Community, CommunityCompany, Department, PropertyCompany
from app.models.places import TOWNSHIP
from handlers.admin.audit import admin, record_change
from handlers.commands import Command, ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Conflict, Invalid, NotFound
from handlers.paging import one_page
from handlers.ports import JSONDict
from handlers.property.companies import find_company, serve


def _both_or_neither(lat: float | None, lng: float | None) -> None:
    if (lat is None) != (lng is None):
        raise ValueError("纬度和经度需要同时提供")


class NewCommunity(Command):
    name: str = Field(min_length=1, max_length=128, title="小区名称")
    township: str = Field(min_length=1, max_length=64, title="乡镇(街道)")
    address: str = Field(default="", max_length=200, title="地址")
    lat: float | None = Field(default=None, ge=-90, le=90, title="纬度")
    lng: float | None = Field(default=None, ge=-180, le=180, title="经度")
    property_company: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        title="物业服务企业",
        description="企业名称或统一社会信用代码",
    )

    @model_validator(mode="after")
    def _coordinates(self) -> NewCommunity:
        _both_or_neither(self.lat, self.lng)
        return self


class CommunityEdit(Command):
    """PATCH: only the fields given change (``lat``/``lng`` null clears the location)."""

    name: str | None = Field(default=None, min_length=1, max_length=128, title="小区名称")
    township: str | None = Field(default=None, min_length=1, max_length=64, title="乡镇(街道)")
    address: str | None = Field(default=None, max_length=200, title="地址")
    lat: float | None = Field(default=None, ge=-90, le=90, title="纬度")
    lng: float | None = Field(default=None, ge=-180, le=180, title="经度")

    @model_validator(mode="after")
    def _coordinates(self) -> CommunityEdit:
        if {"lat", "lng"} & self.model_fields_set:
            if {"lat", "lng"} - self.model_fields_set:
                raise ValueError("纬度和经度需要同时提供")
            _both_or_neither(self.lat, self.lng)
        if not self.model_fields_set:
            raise ValueError("请至少修改一项")
        for key in ("name", "township", "address"):
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError("名称、乡镇(街道)和地址不能为空值")
        return self


class AssignCompany(Command):
    company: str = Field(
        min_length=1, max_length=128, title="物业服务企业", description="企业名称或统一社会信用代码"
    )


class CommunityFilter(Query):
    q: str = Field(default="", max_length=50, title="小区名称")
    township: str | None = Field(default=None, max_length=64, title="乡镇(街道)")
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=20, ge=1, le=100, title="每页条数")


@dataclass(frozen=True)
class Term:
    company: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class CommunityDetail:
    community: Community
    terms: list[Term]  # every company that served it, the current one last


def snapshot(c: Community) -> JSONDict:
    """What a change record keeps of a community."""
    return {
        "name": c.name,
        "township": c.township.name if c.township else None,
        "address": c.address,
        "lat": c.lat,
        "lng": c.lng,
        "company": c.property_company.name if c.property_company else None,
    }


def townships(s: Session) -> dict[str, Department]:
    return {d.name: d for d in s.scalars(select(Department).where(Department.kind == TOWNSHIP))}


def township_named(s: Session, name: str) -> Department:
    found = townships(s)
    if name not in found:
        raise Invalid(f"乡镇(街道)“{name}”不存在（应为：{'、'.join(found)}）", "unknown_township")
    return found[name]


def _name_free(s: Session, name: str, township: Department, but: int | None = None) -> None:
    taken = s.scalar(select(Community.id).where(Community.name == name, Community.township_id == township.id))
    if taken is not None and taken != but:
        raise Conflict(f"{township.name}已有名为“{name}”的小区", "duplicate_community")


def _load(s: Session, community_id: int) -> Community:
    community = s.get(Community, community_id)
    if community is None:
        raise NotFound("找不到该小区", "community_not_found")
    return community


def _detached(s: Session, community_id: int) -> Community:
    s.expire_all()
    community = _load(s, community_id)
    s.expunge_all()
    return community


def list_communities(ctx: Context, user_id: int, f: CommunityFilter) -> tuple[list[Community], int]:
    where: list[ColumnElement[bool]] = []
    if f.q:
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Community.name.like(f"%{escaped}%", escape="\\"))
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        if f.township:
            where.append(Community.township_id == township_named(s, f.township).id)
        order = (Community.township_id, Community.name, Community.id)
        rows, total = one_page(s, Community, where, order, f.page, f.per_page)
        s.expunge_all()
    return rows, total


def create_community(ctx: Context, user_id: int | None, cmd: NewCommunity) -> Community:
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        township = township_named(s, cmd.township)
        _name_free(s, cmd.name, township)
        company = find_company(s, cmd.property_company) if cmd.property_company else None
        community = Community(
            name=cmd.name, address=cmd.address, lat=cmd.lat, lng=cmd.lng, township_id=township.id
        )
        s.add(community)
        s.flush()
        s.refresh(community)
        record_change(s, now, by, "community", community.id, "create", None, snapshot(community))
        if company is not None:
            serve(s, community, company, now, by)
        uow.commit()
        return _detached(s, community.id)


def edit_community(ctx: Context, user_id: int | None, community_id: int, cmd: CommunityEdit) -> Community:
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        community = _load(s, community_id)
        before = snapshot(community)
        township = township_named(s, cmd.township) if cmd.township else community.township
        _name_free(s, cmd.name or community.name, township, but=community.id)
        community.township_id, community.township = township.id, township
        for key in ("name", "address", "lat", "lng"):
            if key in cmd.model_fields_set:
                setattr(community, key, getattr(cmd, key))
        after = snapshot(community)
        if after != before:
            record_change(s, now, by, "community", community.id, "edit", before, after)
        uow.commit()
        return _detached(s, community.id)


def assign_to_community(
    ctx: Context, user_id: int | None, community_id: int, cmd: AssignCompany
) -> Community:
    """A company now serves the community: 409 if it is blacklisted or serves it already."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        community = _load(s, community_id)
        serve(s, community, find_company(s, cmd.company), now, by)
        uow.commit()
        return _detached(s, community.id)


def community_detail(ctx: Context, user_id: int, community_id: int) -> CommunityDetail:
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        community = _load(s, community_id)
        terms = [
            Term(name, started, ended)
            for name, started, ended in s.execute(
                select(PropertyCompany.name, CommunityCompany.started_at, CommunityCompany.ended_at)
                .join(PropertyCompany, PropertyCompany.id == CommunityCompany.company_id)
                .where(CommunityCompany.community_id == community.id)
                .order_by(CommunityCompany.started_at, CommunityCompany.id)
            )
        ]
        s.expunge_all()
    return CommunityDetail(community, terms)
