"""handlers/property/violations.py: a confirmed (查实) nine-prohibitions
violation counts once per case against the company serving the community;
the count places the company on seed 003's ladder (约谈整改, 降星, 清退,
黑名单), each step recorded once with its effects, and undone on withdrawal."""

from __future__ import annotations

import pytest

from app.models import Community, LadderRecord, PropertyCompany, StarRating, Violation
from handlers.cases.resident import Reopen, reopen_case
from handlers.errors import Invalid, NotFound
from handlers.property.companies import assign_company, rate_community
from handlers.property.violations import company_violation_counts, current_ladder_step, withdraw_violation
from routing import read_yaml
from tests.unit.handlers.conftest import COUNTY_FILE, HOME, World, county_with

# 住建局 is the primary of each, each evidences a different clause (7, 9, 6, 8).
CLAUSE_CATEGORIES = (
    "irregular_contract",
    "utilities_cut_for_fees",
    "service_abandoned",
    "common_parts_exploited",
)
NINGYUAN = "宁苑物业服务有限公司"


@pytest.fixture
def housing(world: World) -> int:
    return world.user("housing", "住建局").id


def _confirm(world: World, housing: int, category: str = "irregular_contract", community: str = HOME) -> int:
    reporter = world.user(f"reporter-{category}-{community}").id
    case_id = world.file(reporter, category, community).id
    world.accept(case_id, housing)
    world.resolve(case_id, housing, violation="confirmed")
    return case_id


def _company(world: World, name: str = NINGYUAN) -> PropertyCompany:
    company = world.one(PropertyCompany, PropertyCompany.name == name)
    assert company is not None
    return company


def _step(world: World, name: str = NINGYUAN) -> int:
    company_id = _company(world, name).id
    with world.db.uow() as uow:
        return current_ladder_step(uow.session, company_id, world.clock.now(), world.ctx.county)


def _steps(world: World) -> list[tuple[int, bool]]:
    return [(r.step, r.withdrawn_at is not None) for r in world.rows(LadderRecord)]


def test_a_first_confirmation_counts_once_and_summons_the_company(world: World, housing: int) -> None:
    office = world.user("office", "住建局", "supervisor").id
    town = world.user("town", "杨和镇").id
    world.user("police", "公安局")
    case_id = _confirm(world, housing)
    [violation] = world.rows(Violation)
    community = world.community()
    assert (violation.case_id, violation.company_id, violation.community_id, violation.clause) == (
        case_id,
        _company(world).id,
        community.id,
        7,
    )
    confirmed = world.events(case_id, "violation_confirmed")[0]
    assert confirmed.note == "查实违反“九不准”第7条：不准擅自涨价、乱收费以及违规签订《物业服务合同》"
    [record] = world.rows(LadderRecord)
    assert (record.step, record.violation_ids) == (1, [violation.id])
    assert record.measures == "从严扣除信用分值；约谈企业负责人；责令限期整改；建议更换项目经理人"
    assert world.events(case_id, "ladder_step")[0].data["ladder_step"] == 1
    told = world.outbox("escalation", case_id)
    assert {n.user_id for n in told} == {housing, office, town}
    assert {n.payload["step"] for n in told} == {"约谈整改"}
    assert told[0].payload["cases"] == [world.case(case_id).number]
    assert _step(world) == 1 and community.star_rating == 4


def test_the_ladder_climbs_step_by_step_with_each_steps_effect(world: World, housing: int) -> None:
    cases = []
    for category in CLAUSE_CATEGORIES[:2]:
        cases.append(_confirm(world, housing, category))
    assert world.community().star_rating == 3
    lowered = world.rows(StarRating, StarRating.source == "ladder")
    assert [(r.stars, r.reason) for r in lowered] == [(3, "“九不准”累计违反 2 条：降星")]
    cases.append(_confirm(world, housing, CLAUSE_CATEGORIES[2]))
    assert world.community().below_standard is True
    assert _company(world).blacklisted_at is None
    cases.append(_confirm(world, housing, CLAUSE_CATEGORIES[3]))
    assert _company(world).blacklisted_at == world.clock.now()
    assert _steps(world) == [(1, False), (2, False), (3, False), (4, False)]
    assert [len(r.violation_ids) for r in world.rows(LadderRecord)] == [1, 2, 3, 4]
    assert _step(world) == 4
    assert {n.payload["step"] for n in world.outbox("escalation", cases[-1])} == {"黑名单"}


def test_a_case_counts_once_however_often_it_is_confirmed(world: World, housing: int) -> None:
    case_id = _confirm(world, housing)
    reporter = world.case(case_id).reporter_id
    reopen_case(world.ctx, case_id, reporter, Reopen(reason="合同问题依旧"))
    world.resolve(case_id, housing, violation="confirmed")
    assert world.count(Violation) == 1
    assert _steps(world) == [(1, False)]
    assert world.community().star_rating == 4


def test_violations_in_two_communities_of_one_company_add_up(world: World, housing: int) -> None:
    _confirm(world, housing, CLAUSE_CATEGORIES[0], HOME)
    _confirm(world, housing, CLAUSE_CATEGORIES[1], "康宁苑")
    assert _step(world) == 2
    # The star drops where the violation that reached the step happened.
    assert (world.community(HOME).star_rating, world.community("康宁苑").star_rating) == (4, 2)
    assert _step(world, "嘉和物业服务有限公司") == 0


def test_a_violation_stays_with_the_company_that_served_when_it_was_confirmed(
    world: World, housing: int
) -> None:
    _confirm(world, housing)
    assign_company(world.ctx, "嘉和物业服务有限公司", HOME)
    _confirm(world, housing, CLAUSE_CATEGORIES[1])
    assert (_step(world), _step(world, "嘉和物业服务有限公司")) == (1, 1)


def test_a_community_without_a_company_records_the_finding_and_counts_nothing(
    world: World, housing: int
) -> None:
    with world.db.uow() as uow:
        community = uow.session.get(Community, world.community().id)
        assert community is not None
        community.property_company_id = None
        uow.commit()
    case_id = _confirm(world, housing)
    assert world.events(case_id, "violation_confirmed")[0].note == "查实，但该小区当前无物业服务企业"
    assert world.count(Violation) == 0 and world.count(LadderRecord) == 0


def test_a_denied_violation_counts_nothing(world: World, housing: int) -> None:
    reporter = world.user("reporter").id
    case_id = world.file(reporter, "irregular_contract").id
    world.accept(case_id, housing)
    world.resolve(case_id, housing, violation="denied")
    assert world.count(Violation) == 0 and world.count(LadderRecord) == 0
    assert world.events(case_id, "violation_confirmed") == []


def test_the_count_is_taken_within_the_countys_window(world: World, housing: int) -> None:
    world.ctx.county = county_with(
        violation_ladder=read_yaml(COUNTY_FILE)["violation_ladder"] | {"window_days": 30}
    )
    _confirm(world, housing)
    company_id = _company(world).id
    world.clock.advance(days=29)
    assert _step(world) == 1
    with world.db.uow() as uow:
        # (confirmed violations, distinct clauses violated)
        assert company_violation_counts(uow.session, world.clock.now(), world.ctx.county) == {
            company_id: (1, 1)
        }
    world.clock.advance(days=1, seconds=1)
    assert _step(world) == 0
    with world.db.uow() as uow:
        assert company_violation_counts(uow.session, world.clock.now(), world.ctx.county) == {}


def test_withdrawing_a_confirmation_withdraws_the_steps_that_no_longer_hold_and_undoes_them(
    world: World, housing: int
) -> None:
    first = _confirm(world, housing, CLAUSE_CATEGORIES[0])
    world.clock.advance(hours=1)
    second = _confirm(world, housing, CLAUSE_CATEGORIES[1])
    assert world.community().star_rating == 3
    world.clock.advance(hours=1)
    assert withdraw_violation(world.ctx, second, "复核不属实") == [2]
    assert _steps(world) == [(1, False), (2, True)]
    assert world.community().star_rating == 4
    restored = world.rows(StarRating, StarRating.source == "ladder")[-1]
    assert (restored.stars, restored.reason) == (4, "撤销认定，恢复：复核不属实")
    assert world.case(second).violation == "withdrawn"
    assert world.kinds(second)[-2:] == ["violation_withdrawn", "ladder_withdrawn"]
    assert _step(world) == 1
    assert world.case(first).violation == "confirmed"


def test_withdrawing_at_the_top_lifts_the_blacklist_and_the_below_standard_rating(
    world: World, housing: int
) -> None:
    cases = [_confirm(world, housing, category) for category in CLAUSE_CATEGORIES]
    assert withdraw_violation(world.ctx, cases[0], "复核不属实") == [4]
    assert _company(world).blacklisted_at is None
    assert world.community().below_standard is True
    assert withdraw_violation(world.ctx, cases[1], "复核不属实") == [3]
    assert world.community().below_standard is False


def test_a_step_withdrawn_is_reached_again_by_a_new_confirmation(world: World, housing: int) -> None:
    _confirm(world, housing, CLAUSE_CATEGORIES[0])
    second = _confirm(world, housing, CLAUSE_CATEGORIES[1])
    withdraw_violation(world.ctx, second, "复核不属实")
    _confirm(world, housing, CLAUSE_CATEGORIES[2])
    assert _steps(world) == [(1, False), (2, True), (2, False)]
    assert world.community().star_rating == 3


def test_a_withdrawal_needs_a_reason_and_a_live_confirmation(world: World, housing: int) -> None:
    case_id = _confirm(world, housing)
    with pytest.raises(Invalid) as no_reason:
        withdraw_violation(world.ctx, case_id, "  ")
    assert no_reason.value.code == "invalid_reason"
    withdraw_violation(world.ctx, case_id, "复核不属实")
    with pytest.raises(NotFound) as twice:
        withdraw_violation(world.ctx, case_id, "再次撤销")
    assert twice.value.code == "violation_not_found"
    with pytest.raises(NotFound):
        withdraw_violation(world.ctx, 999, "复核不属实")
    assert world.count(Violation, Violation.withdrawn_at.is_not(None)) == 1


def test_a_one_star_community_keeps_its_one_star(world: World, housing: int) -> None:
    rate_community(world.ctx, HOME, 1, False, "年度评定")
    _confirm(world, housing, CLAUSE_CATEGORIES[0])
    _confirm(world, housing, CLAUSE_CATEGORIES[1])
    assert _steps(world) == [(1, False), (2, False)]
    assert world.community().star_rating == 1
    assert world.rows(StarRating, StarRating.source == "ladder") == []


def test_withdrawing_a_step_that_could_not_lower_a_one_star_community_leaves_it_at_one(
    world: World, housing: int
) -> None:
    rate_community(world.ctx, HOME, 1, False, "年度评定")
    _confirm(world, housing, CLAUSE_CATEGORIES[0])
    second = _confirm(world, housing, CLAUSE_CATEGORIES[1])
    assert withdraw_violation(world.ctx, second, "复核不属实") == [2]
    assert world.community().star_rating == 1  # it was never lowered, so nothing is given back


def test_a_reopened_case_resolved_as_confirmed_again_after_a_review_withdrew_it_counts_nothing(
    world: World, housing: int
) -> None:
    case_id = _confirm(world, housing)
    withdraw_violation(world.ctx, case_id, "复核不属实")
    reporter = world.case(case_id).reporter_id
    reopen_case(world.ctx, case_id, reporter, Reopen(reason="问题依旧存在"))
    world.resolve(case_id, housing, violation="confirmed")  # no longer an IntegrityError
    assert world.count(Violation) == 1 and world.count(Violation, Violation.withdrawn_at.is_(None)) == 0
    assert _step(world) == 0
    assert any("复核撤销" in e.note for e in world.events(case_id) if e.kind == "violation_confirmed")


def test_a_confirmed_finding_is_not_turned_into_a_denial_by_a_later_resolution(
    world: World, housing: int
) -> None:
    case_id = _confirm(world, housing)
    reporter = world.case(case_id).reporter_id
    reopen_case(world.ctx, case_id, reporter, Reopen(reason="问题依旧存在"))
    with pytest.raises(Invalid) as refused:
        world.resolve(case_id, housing, violation="denied")
    assert refused.value.code == "violation_already_confirmed"
    assert world.case(case_id).status == "reopened" and world.case(case_id).violation == "confirmed"


def test_with_a_window_a_step_lapses_with_its_violations_and_is_reached_again(
    world: World, housing: int
) -> None:
    ladder = read_yaml(COUNTY_FILE)["violation_ladder"] | {"count_by": "case", "window_days": 30}
    world.ctx.county = county_with(violation_ladder=ladder)
    _confirm(world, housing, CLAUSE_CATEGORIES[0])
    world.clock.advance(days=31)
    assert _step(world) == 0
    _confirm(world, housing, CLAUSE_CATEGORIES[1])  # a new summons: the first step stands again
    assert _steps(world) == [(1, False), (1, False)]
    assert _step(world) == 1
