"""handlers/property/companies.py: property companies, who serves which
community (one at a time, with history), star rating rounds, the six
disclosures, and the overview supervisors read."""

from __future__ import annotations

import pytest

from app.models import Community, CommunityCompany, Disclosure, PropertyCompany, StarRating
from handlers.errors import Conflict, DomainError, Invalid, NotFound
from handlers.property.companies import (
    add_company,
    assign_company,
    community_flags,
    company_overview,
    disclose,
    rate_community,
)
from routing.credit_code import check_digit
from tests.unit.handlers.conftest import HOME, START, World


def _code(first17: str) -> str:
    return first17 + check_digit(first17)


NEW_CODE = _code("91640121MA7EXAMPL")


def test_a_company_is_registered_with_its_credit_code_read_in_capitals(world: World) -> None:
    company = add_company(world.ctx, "  新城物业服务有限公司 ", NEW_CODE.lower(), phone="0951-0000009")
    stored = world.one(PropertyCompany, PropertyCompany.id == company.id)
    assert stored is not None
    assert (stored.name, stored.credit_code, stored.phone, stored.created_at) == (
        "新城物业服务有限公司",
        NEW_CODE,
        "0951-0000009",
        START,
    )


@pytest.mark.parametrize(
    ("name", "code", "kind", "error"),
    [
        (" ", NEW_CODE, Invalid, "invalid_name"),
        ("新城物业", "91640121MA7EXAMPL", Invalid, "invalid_credit_code"),
        ("新城物业", NEW_CODE[:-1] + ("0" if NEW_CODE[-1] != "0" else "1"), Invalid, "invalid_credit_code"),
        ("新城物业", "9164012152601815X7", Conflict, "duplicate_credit_code"),
        ("宁苑物业服务有限公司", NEW_CODE, Conflict, "duplicate_company"),
    ],
)
def test_a_company_is_refused_without_a_name_a_valid_code_or_if_already_registered(
    world: World, name: str, code: str, kind: type[DomainError], error: str
) -> None:
    before = world.count(PropertyCompany)
    with pytest.raises(kind) as refused:
        add_company(world.ctx, name, code)
    assert refused.value.code == error
    assert world.count(PropertyCompany) == before


def _terms(world: World, community_id: int) -> list[tuple[str, bool]]:
    names = {c.id: c.name for c in world.rows(PropertyCompany)}
    return [
        (names[t.company_id], t.ended_at is not None)
        for t in world.rows(CommunityCompany, CommunityCompany.community_id == community_id)
    ]


@pytest.mark.parametrize("ref", ["name", "id", "credit_code"])
def test_a_new_company_takes_over_and_the_previous_term_ends(world: World, ref: str) -> None:
    company = add_company(world.ctx, "新城物业服务有限公司", NEW_CODE)
    community = world.community()
    world.clock.advance(days=1)
    assign_company(world.ctx, str(getattr(company, ref)), str(community.id) if ref == "id" else HOME)
    assert _terms(world, community.id) == [("宁苑物业服务有限公司", True), ("新城物业服务有限公司", False)]
    assert world.community().property_company_id == company.id


def test_taking_over_clears_a_below_standard_rating(world: World) -> None:
    rate_community(world.ctx, HOME, None, True, "年度评定不达标")
    add_company(world.ctx, "新城物业服务有限公司", NEW_CODE)
    assign_company(world.ctx, "新城物业服务有限公司", HOME)
    assert world.community().below_standard is False


def test_assigning_is_refused_for_the_same_company_or_unknown_names(world: World) -> None:
    with pytest.raises(Conflict) as same:
        assign_company(world.ctx, "宁苑物业服务有限公司", HOME)
    assert same.value.code == "already_assigned"
    with pytest.raises(NotFound) as no_company:
        assign_company(world.ctx, "不存在物业", HOME)
    assert no_company.value.code == "company_not_found"
    with pytest.raises(NotFound) as no_community:
        assign_company(world.ctx, "宁苑物业服务有限公司", "不存在小区")
    assert no_community.value.code == "community_not_found"
    assert _terms(world, world.community().id) == [("宁苑物业服务有限公司", False)]


def test_a_rating_round_is_kept_with_its_reason(world: World) -> None:
    rate_community(world.ctx, HOME, 2, False, "二季度评定")
    community = world.community()
    assert (community.star_rating, community.below_standard) == (2, False)
    [round_] = world.rows(StarRating, StarRating.source == "round")
    assert (round_.stars, round_.reason, round_.company_id) == (
        2,
        "二季度评定",
        community.property_company_id,
    )


@pytest.mark.parametrize(
    ("stars", "below", "reason", "code"),
    [
        (3, False, " ", "invalid_reason"),
        (0, False, "评定", "invalid_stars"),
        (6, False, "评定", "invalid_stars"),
        (None, False, "评定", "invalid_stars"),
    ],
)
def test_a_rating_needs_a_reason_and_one_to_five_stars_or_below_standard(
    world: World, stars: int | None, below: bool, reason: str, code: str
) -> None:
    with pytest.raises(Invalid) as refused:
        rate_community(world.ctx, HOME, stars, below, reason)
    assert refused.value.code == code
    assert world.count(StarRating, StarRating.source == "round") == 0


def test_a_disclosure_is_written_then_updated_in_place(world: World) -> None:
    community = world.community()
    disclose(world.ctx, HOME, "公共收益", "2026年上半年公共收益 1.2 万元（演示）")
    world.clock.advance(days=1)
    disclose(world.ctx, str(community.id), "公共收益", "2026年上半年公共收益 1.3 万元（演示）")
    [row] = world.rows(Disclosure, Disclosure.community_id == community.id, Disclosure.item == "公共收益")
    assert (row.content, row.updated_at) == ("2026年上半年公共收益 1.3 万元（演示）", world.clock.now())


def test_only_the_six_disclosures_are_kept(world: World) -> None:
    before = world.count(Disclosure)
    with pytest.raises(Invalid) as refused:
        disclose(world.ctx, HOME, "物业费", "1 元")
    assert refused.value.code == "invalid_item" and "公共收益" in refused.value.message
    assert world.count(Disclosure) == before


def _flags(world: World, name: str) -> tuple[bool, bool, str]:
    with world.db.uow() as uow:
        community = uow.session.get(Community, world.community(name).id)
        assert community is not None
        flags = community_flags(uow.session, community)
    return flags.more_inspections, flags.removal, flags.reason


def test_two_stars_or_fewer_bring_more_inspections_and_two_such_rounds_propose_removal(world: World) -> None:
    assert _flags(world, HOME) == (False, False, "")
    rate_community(world.ctx, HOME, 2, False, "一季度评定")
    assert _flags(world, HOME) == (True, False, "二星级及以下，增加日常巡查频次")
    world.clock.advance(days=90)
    rate_community(world.ctx, HOME, 1, False, "二季度评定")
    assert _flags(world, HOME) == (True, True, "连续两次评定为二星级及以下，建议依法清退")
    world.clock.advance(days=90)
    rate_community(world.ctx, HOME, 4, False, "三季度评定")
    assert _flags(world, HOME) == (False, False, "")


def test_a_below_standard_rating_proposes_removal(world: World) -> None:
    rate_community(world.ctx, HOME, None, True, "评定不达标")
    assert _flags(world, HOME) == (True, True, "星级评定不达标，建议依法清退")


def test_the_overview_shows_each_company_its_communities_violations_and_ladder(world: World) -> None:
    housing = world.user("housing", "住建局").id
    reporter = world.user("reporter").id
    case_id = world.file(reporter, "irregular_contract").id
    world.accept(case_id, housing)
    world.resolve(case_id, housing, violation="confirmed")
    rate_community(world.ctx, "康宁苑", 2, False, "评定")
    views = {v.company.name: v for v in company_overview(world.ctx)}
    assert list(views) == [
        "宁苑物业服务有限公司",
        "河畔物业管理有限公司",
        "嘉和物业服务有限公司",
        "安泰物业服务有限公司",
    ]
    mine = views["宁苑物业服务有限公司"]
    assert (mine.violations, mine.ladder_step) == (1, 1)
    assert [(c.name, c.township, c.star_rating, c.flags.more_inspections) for c in mine.communities] == [
        ("幸福里小区", "杨和镇", 4, False),
        ("康宁苑", "团结西路街道", 2, True),
    ]
    assert [(s.step, s.withdrawn_at) for s in mine.steps] == [(1, None)]
    other = views["河畔物业管理有限公司"]
    assert (other.violations, other.ladder_step, other.steps) == (0, 0, [])
    assert [c.name for c in other.communities] == ["望湖雅居", "远航小区"]
