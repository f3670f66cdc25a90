"""handlers/seed.py: loading the county's departments, townships, property
companies and demo communities; run twice, the same rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.pool import StaticPool

from app.db import Database
from app.models import (
    Base,
    Community,
    CommunityCompany,
    Department,
    Disclosure,
    PropertyCompany,
    StarRating,
)
from handlers.seed import seed_reference
from tests.unit.handlers.conftest import START, World, county_with


@pytest.fixture
def empty(world: World) -> Iterator[World]:
    """The world's context on a database with the schema and nothing in it."""
    db = Database("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(db.engine)
    world.ctx.uow = db.uow
    world.db = db
    yield world
    db.dispose()


def test_a_first_seed_adds_the_countys_units_companies_and_demo_communities(empty: World) -> None:
    assert seed_reference(empty.ctx) == {
        "departments": 9,
        "townships": 7,
        "property_companies": 4,
        "communities": 8,
    }
    housing = empty.one(Department, Department.name == "住建局")
    assert housing is not None
    assert (housing.kind, housing.full_name, housing.hotline) == (
        "department",
        "永宁县住房和城乡建设局",
        "12345",
    )
    town = empty.one(Department, Department.name == "闽宁镇")
    assert town is not None and (town.kind, town.full_name) == ("township", "闽宁镇")


def test_each_demo_community_gets_its_company_term_rating_and_demo_disclosures(empty: World) -> None:
    seed_reference(empty.ctx)
    community = empty.community("望湖雅居")
    assert community.township.name == "望洪镇"
    assert community.property_company is not None
    assert (community.property_company.name, community.star_rating) == ("河畔物业管理有限公司", 2)
    [term] = empty.rows(CommunityCompany, CommunityCompany.community_id == community.id)
    assert (term.company_id, term.started_at, term.ended_at) == (community.property_company_id, START, None)
    [rating] = empty.rows(StarRating, StarRating.community_id == community.id)
    assert (rating.stars, rating.source) == (2, "seed")
    items = {d.item for d in empty.rows(Disclosure, Disclosure.community_id == community.id)}
    assert items == {"服务合同", "服务电话", "收费标准"}


def test_seeding_again_adds_nothing(world: World) -> None:
    counts = (
        world.count(Department),
        world.count(Community),
        world.count(PropertyCompany),
        world.count(StarRating),
    )
    assert seed_reference(world.ctx) == {
        "departments": 0,
        "townships": 0,
        "property_companies": 0,
        "communities": 0,
    }
    assert (
        world.count(Department),
        world.count(Community),
        world.count(PropertyCompany),
        world.count(StarRating),
    ) == counts


def test_seeding_again_takes_the_files_new_hotlines_and_phones(world: World) -> None:
    county = county_with()
    departments = [
        {"name": d.name, "full_name": d.full_name, "hotline": d.hotline} for d in county.departments
    ]
    departments[1]["hotline"] = "0951-1234567"
    companies = [
        {"name": c.name, "credit_code": c.credit_code, "phone": c.phone} for c in county.property_companies
    ]
    companies[0]["phone"] = "0951-7654321"
    world.ctx.county = county_with(departments=departments, property_companies=companies)
    assert seed_reference(world.ctx)["departments"] == 0
    housing = world.one(Department, Department.name == "住建局")
    company = world.one(PropertyCompany, PropertyCompany.name == "宁苑物业服务有限公司")
    assert housing is not None and company is not None
    assert (housing.hotline, company.phone) == ("0951-1234567", "0951-7654321")


def test_a_new_township_in_the_file_is_added_beside_the_old_ones(world: World) -> None:
    townships = [t.name for t in world.ctx.county.townships] + ["新华街道"]
    world.ctx.county = county_with(townships=townships)
    assert seed_reference(world.ctx)["townships"] == 1
    added = world.one(Department, Department.name == "新华街道")
    assert added is not None and added.kind == "township"
