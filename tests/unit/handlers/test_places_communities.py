"""handlers/places/communities.py: reference data for residents — finding a
community, its page (who handles what there, its company, stars and ladder
step, the six disclosures), and every unit."""

from __future__ import annotations

import pytest

from app.models import Community
from handlers.errors import NotFound
from handlers.places.communities import DISCLOSURE_ITEMS, all_units, community_page, search_communities
from handlers.property.companies import disclose
from tests.unit.handlers.conftest import HOME, World


def test_communities_are_found_by_part_of_their_name(world: World) -> None:
    assert [c.name for c in search_communities(world.ctx, "小区")] == ["幸福里小区", "远航小区", "俊园小区"]
    assert [c.name for c in search_communities(world.ctx, "景")] == ["丽景花园", "胜景家园"]
    assert len(search_communities(world.ctx, "")) == 8


@pytest.mark.parametrize("q", ["%", "_", "\\", "%小区"])
def test_wildcards_in_a_search_are_taken_literally(world: World, q: str) -> None:
    assert search_communities(world.ctx, q) == []


def test_a_community_with_a_wildcard_in_its_name_is_found_by_it(world: World) -> None:
    with world.db.uow() as uow:
        uow.session.add(Community(name="100%花园", township_id=world.community().township_id))
        uow.commit()
    assert [c.name for c in search_communities(world.ctx, "0%")] == ["100%花园"]


def test_the_page_lists_who_handles_each_category_here_with_hotlines(world: World) -> None:
    page = community_page(world.ctx, world.community("望湖雅居").id)
    assert page.community.township.name == "望洪镇"
    assert [r.category.code for r in page.responsibilities] == list(world.ctx.county.categories)
    handlers = {
        r.category.code: [(h.name, h.role, h.hotline) for h in r.departments] for r in page.responsibilities
    }
    assert handlers["fire_lane_blocked"] == [
        ("消防救援大队", "主办", "119"),
        ("公安局", "协办", "110"),
        ("综合执法局", "协办", "12345"),
        ("住建局", "协办", "12345"),
        ("望洪镇", "属地", ""),
    ]
    assert handlers["security_irregular"][-1] == ("市场监管局", "协办", "12315")


def test_the_six_disclosures_are_always_there_in_the_seeds_order(world: World) -> None:
    disclose(world.ctx, HOME, "公共收益", "公共收益 1.2 万元（演示）")
    page = community_page(world.ctx, world.community().id)
    assert [d.item for d in page.disclosures] == list(DISCLOSURE_ITEMS)
    assert [d.item for d in page.disclosures] == [
        "服务合同",
        "服务内容",
        "服务电话",
        "服务方式",
        "收费标准",
        "公共收益",
    ]
    by_item = {d.item: d for d in page.disclosures}
    assert by_item["服务内容"].content == "" and by_item["服务内容"].updated_at is None
    assert by_item["服务电话"].content == "0951-0000001"
    assert by_item["公共收益"].content == "公共收益 1.2 万元（演示）"


def test_the_page_shows_the_company_its_stars_and_its_ladder_step(world: World) -> None:
    community = world.community()
    assert community_page(world.ctx, community.id).ladder_step == 0
    housing = world.user("housing", "住建局").id
    case_id = world.file(world.user("reporter").id, "irregular_contract").id
    world.accept(case_id, housing)
    world.resolve(case_id, housing, violation="confirmed")
    page = community_page(world.ctx, community.id)
    assert page.ladder_step == 1
    assert page.community.property_company is not None
    assert (page.community.property_company.name, page.community.star_rating) == ("宁苑物业服务有限公司", 4)


def test_a_community_without_a_company_is_on_no_ladder(world: World) -> None:
    with world.db.uow() as uow:
        community = uow.session.get(Community, world.community().id)
        assert community is not None
        community.property_company_id = None
        uow.commit()
    page = community_page(world.ctx, world.community().id)
    assert (page.ladder_step, page.community.property_company) == (0, None)


def test_an_unknown_community_has_no_page(world: World) -> None:
    with pytest.raises(NotFound) as refused:
        community_page(world.ctx, 999)
    assert refused.value.code == "community_not_found"


def test_every_unit_is_listed_departments_first_then_townships(world: World) -> None:
    units = all_units(world.ctx)
    county = world.ctx.county
    assert [u.name for u in units] == [d.name for d in county.departments] + [
        t.name for t in county.townships
    ]
    assert [u.kind for u in units] == ["department"] * 9 + ["township"] * 7
