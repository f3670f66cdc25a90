"""Reference data: categories, communities, a community's public page, the
county's words, departments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, current_app
from pydantic import BaseModel, Field

from app.api.answers import Listing, answer, answer_bytes, iso
from app.api.kept import kept_json
from app.api.web import blueprint, ctx, errors
from handlers.commands import ParamId, Query
from handlers.places.communities import CommunityPage, all_units, community_page, search_communities
from routing import CountyConfig

bp = blueprint("reference", "/api/v1", "参考数据", public=True)


class CategoryOut(BaseModel):
    code: str
    name: str
    group: str
    route: str = Field(description="责任清单条目，如 dirt-1 … order-5")
    urgent: bool
    clause: int | None = Field(default=None, description="涉及的“九不准”条款（无则不出现）")
    accept_within: str
    resolve_within: str
    help: str


@bp.get("/categories", responses={200: Listing[CategoryOut]})
def categories() -> Response:
    """居民可选的问题类别，含责任清单条目和办理时限"""
    # Built once per version of the list in effect, then kept (app/api/kept.py).
    county = current_app.extensions["services"].routing.in_effect()
    return kept_json(county, lambda: current_app.json.dumps(_listing(_category_items(county))).encode())


def _category_items(county: CountyConfig) -> list[CategoryOut]:
    items = []
    for c in county.categories.values():
        item = CategoryOut(
            code=c.code,
            name=c.name,
            group=c.group,
            route=c.route,
            urgent=c.urgent,
            accept_within=str(c.accept_within),
            resolve_within=str(c.resolve_within),
            help=c.help,
        )
        if c.clause is not None:
            item.clause = c.clause
        items.append(item)
    return items


def _listing(items: Sequence[BaseModel]) -> dict[str, Any]:
    return {
        "items": [i.model_dump(mode="json", exclude_unset=True) for i in items],
        "page": 1,
        "per_page": len(items),
        "total": len(items),
    }


def _everything(items: Sequence[BaseModel]) -> Response:
    from flask import jsonify

    return jsonify(_listing(items))


class CommunitySearch(Query):
    q: str = Field(default="", max_length=50, title="小区名称")


class CommunityItem(BaseModel):
    id: int
    name: str
    township: str
    address: str
    property_company: str | None


@bp.get("/communities", responses={200: Listing[CommunityItem]})
def communities(query: CommunitySearch) -> Response:
    """小区列表，可用 ?q= 按名称查找"""
    rows = search_communities(ctx(), query.q)
    return _everything(
        [
            CommunityItem(
                id=c.id,
                name=c.name,
                township=c.township.name,
                address=c.address,
                property_company=c.property_company.name if c.property_company else None,
            )
            for c in rows
        ]
    )


class CommunityPath(Query):
    community_id: ParamId = Field(title="小区")


class CompanyBrief(BaseModel):
    id: int
    name: str
    star_rating: int | None
    below_standard: bool
    ladder_step: int
    phone: str


class HandlerOut(BaseModel):
    name: str
    role: str
    hotline: str


class ResponsibilityOut(BaseModel):
    category: str
    category_name: str
    group: str
    departments: list[HandlerOut]


class DisclosureOut(BaseModel):
    item: str
    content: str
    updated_at: str | None


class CommunityOut(BaseModel):
    id: int
    name: str
    township: str
    address: str
    property_company: CompanyBrief | None
    responsibilities: list[ResponsibilityOut]
    disclosures: list[DisclosureOut]


def _community_out(page: CommunityPage) -> CommunityOut:
    c, tz = page.community, ctx().county.tz
    company = c.property_company
    return CommunityOut(
        id=c.id,
        name=c.name,
        township=c.township.name,
        address=c.address,
        property_company=CompanyBrief(
            id=company.id,
            name=company.name,
            star_rating=c.star_rating,
            below_standard=c.below_standard,
            ladder_step=page.ladder_step,
            phone=company.phone,
        )
        if company
        else None,
        responsibilities=[
            ResponsibilityOut(
                category=r.category.code,
                category_name=r.category.name,
                group=r.category.group,
                departments=[HandlerOut(name=h.name, role=h.role, hotline=h.hotline) for h in r.departments],
            )
            for r in page.responsibilities
        ],
        disclosures=[
            DisclosureOut(item=d.item, content=d.content, updated_at=iso(d.updated_at, tz))
            for d in page.disclosures
        ],
    )


@bp.get("/communities/<community_id>", responses={200: CommunityOut} | errors(404))
def community(path: CommunityPath) -> Response:
    """小区主页：管理责任清单进小区（什么问题找谁）、物业企业和“六个公开”"""
    return answer(_community_out(community_page(ctx(), path.community_id)))


class LabelsOut(BaseModel):
    statuses: dict[str, str] = Field(description="工单状态")
    steps: dict[str, str] = Field(description="督办级别（预警、超期、督办、挂牌督办）")
    events: dict[str, str] = Field(description="时间线事件")
    roles: dict[str, str] = Field(description="用户角色")
    ladder: dict[str, str] = Field(description="“九不准”处置档次，0 为无")
    deadlines: dict[str, str] = Field(description="期限（签收、办结）")


@bp.get("/labels", responses={200: LabelsOut})
def labels() -> Response:
    """县里可改名的用语（状态、事件、角色等），界面应显示这些而不是自带的副本"""
    # Built once per version of the list in effect, then kept (app/api/kept.py).
    county = current_app.extensions["services"].routing.in_effect()
    return kept_json(county, lambda: answer_bytes(_labels(county)))


def _labels(county: CountyConfig) -> LabelsOut:
    words = county.labels
    return LabelsOut(
        statuses=dict(words.statuses),
        steps={s.name: s.label for s in county.escalation},
        events=dict(words.events),
        roles=dict(words.roles),
        ladder={"0": county.ladder_name(0)} | {str(s.count): s.name for s in county.violation_ladder.steps},
        deadlines=dict(words.deadlines),
    )


class UnitOut(BaseModel):
    id: int
    name: str
    kind: str = Field(description="department 或 township")


@bp.get("/departments", responses={200: Listing[UnitOut]})
def departments() -> Response:
    """部门和乡镇(街道)名称（用于移交和筛选）"""
    return _everything([UnitOut(id=d.id, name=d.name, kind=d.kind) for d in all_units(ctx())])
