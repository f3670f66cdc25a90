"""Reference data for residents: categories, communities, who handles what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.models import Community, Disclosure
from handlers.context import Context
from handlers.errors import NotFound
from routing import route

# The six disclosures (六个公开) of seed 003, in the seed's order.
DISCLOSURE_ITEMS = ("服务合同", "服务内容", "服务电话", "服务方式", "收费标准", "公共收益")


@dataclass
class CommunityPage:
    community: Community
    responsibilities: list[dict[str, Any]]
    disclosures: list[dict[str, Any]]
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


def community_page(ctx: Context, community_id: int) -> CommunityPage:
    county = ctx.county
    with ctx.uow() as uow:
        s = uow.session
        community = s.get(Community, community_id)
        if community is None:
            raise NotFound("找不到该小区", "community_not_found")
        township = community.township.name
        responsibilities = []
        for category in county.categories.values():
            responsibilities.append(
                {
                    "category": category.code,
                    "category_name": category.name,
                    "group": category.group,
                    "departments": [
                        {"name": r.name, "role": r.role, "hotline": _hotline(county, r.name)}
                        for r in route(county, category.code, township)
                    ],
                }
            )
        stored = {
            d.item: d for d in s.scalars(select(Disclosure).where(Disclosure.community_id == community.id))
        }
        disclosures = [
            {
                "item": item,
                "content": stored[item].content if item in stored else "",
                "updated_at": stored[item].updated_at if item in stored else None,
            }
            for item in DISCLOSURE_ITEMS
        ]
        ladder_step = 0
        if community.property_company_id is not None:
            from handlers.property.violations import current_ladder_step

            ladder_step = current_ladder_step(s, community.property_company_id, ctx.now(), county)
        s.expunge_all()
    return CommunityPage(community, responsibilities, disclosures, ladder_step)


def _hotline(county: Any, name: str) -> str:
    for department in county.departments:
        if department.name == name:
            return getattr(department, "hotline", "") or ""
    return ""
