"""Reference data for residents: categories, communities, who handles what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.models import Community, Department, Disclosure
from handlers.context import Context
from handlers.errors import NotFound
from handlers.property.violations import current_ladder_step
from routing import Category, CountyConfig, route

# The six disclosures (六个公开) of seed 003, in the seed's order.
DISCLOSURE_ITEMS = ("服务合同", "服务内容", "服务电话", "服务方式", "收费标准", "公共收益")


@dataclass(frozen=True)
class Handler:
    name: str
    role: str  # 主办, 协办, 属地
    hotline: str


@dataclass(frozen=True)
class Responsibility:
    """Who handles a category in this community (管理责任清单进小区)."""

    category: Category
    departments: list[Handler]


@dataclass(frozen=True)
class DisclosureItem:
    item: str
    content: str  # empty where the company has not published it
    updated_at: datetime | None


@dataclass
class CommunityPage:
    community: Community
    responsibilities: list[Responsibility]
    disclosures: list[DisclosureItem]
    ladder_step: int


def search_communities(ctx: Context, q: str) -> list[Community]:
    with ctx.uow() as uow:
        stmt = select(Community).order_by(Community.id)
        if q:
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Community.name.like(f"%{escaped}%", escape="\\"))
        rows = list(uow.session.scalars(stmt.limit(200)))
        uow.session.expunge_all()
    return rows


def _responsibilities(county: CountyConfig, township: str) -> list[Responsibility]:
    hotlines = {d.name: d.hotline for d in county.departments} | {t.name: t.hotline for t in county.townships}
    return [
        Responsibility(
            category,
            [
                Handler(r.name, r.role, hotlines.get(r.name, ""))
                for r in route(county, category.code, township)
            ],
        )
        for category in county.categories.values()
    ]


def community_page(ctx: Context, community_id: int) -> CommunityPage:
    """Who handles what here, the company with its stars and ladder step, the six disclosures."""
    with ctx.uow() as uow:
        s = uow.session
        community = s.get(Community, community_id)
        if community is None:
            raise NotFound("找不到该小区", "community_not_found")
        stored = {
            d.item: d for d in s.scalars(select(Disclosure).where(Disclosure.community_id == community.id))
        }
        disclosures = [
            DisclosureItem(item, stored[item].content, stored[item].updated_at)
            if item in stored
            else DisclosureItem(item, "", None)
            for item in DISCLOSURE_ITEMS
        ]
        company_id = community.property_company_id
        ladder_step = (
            current_ladder_step(s, company_id, ctx.now(), ctx.county) if company_id is not None else 0
        )
        s.expunge_all()
    return CommunityPage(
        community, _responsibilities(ctx.county, community.township.name), disclosures, ladder_step
    )


def all_units(ctx: Context) -> list[Department]:
    """Every department, then every township."""
    with ctx.uow() as uow:
        rows = list(uow.session.scalars(select(Department).order_by(Department.kind, Department.id)))
        uow.session.expunge_all()
    return rows
