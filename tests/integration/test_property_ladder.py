"""A property company walks up the nine-prohibitions ladder through real
cases over HTTP, and comes back down when confirmations are withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.clock import FixedClock
from app.models import Community, LadderRecord, Notification, PropertyCompany, Violation
from handlers.property.violations import withdraw_violation
from tests.helpers import community_id, file_case, login, make_staff, upload_photo, user_id

COMPANY = "宁苑物业服务有限公司"  # serves 幸福里小区 (杨和镇, 4 stars) and 康宁苑


@pytest.fixture
def setting(client: Any, services: Any) -> dict[str, Any]:
    services.clock = FixedClock(datetime(2025, 6, 10, 2, 0, tzinfo=UTC))
    return {
        "resident": login(client, "owner"),
        "housing": make_staff(client, services, "住建局", "handler", "housing"),
        "police": make_staff(client, services, "公安局", "handler", "police"),
        "town": make_staff(client, services, "杨和镇", "handler", "yanghe"),
        "supervisor": make_staff(client, services, "住建局", "supervisor", "office"),
    }


def _resolve(client: Any, who: dict[str, str], case: dict[str, Any], violation: str | None) -> Any:
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=who)
    body: dict[str, Any] = {"note": "现场核查", "photo_ids": [upload_photo(client, who)["id"]]}
    if violation:
        body["violation"] = violation
    return client.post(f"/api/v1/staff/cases/{case['id']}/resolve", json=body, headers=who)


def _ladder(services: Any) -> list[tuple[int, bool]]:
    with services.db.uow() as uow:
        company = uow.session.scalar(select(PropertyCompany).where(PropertyCompany.name == COMPANY))
        rows = uow.session.scalars(
            select(LadderRecord).where(LadderRecord.company_id == company.id).order_by(LadderRecord.id)  # type: ignore[union-attr]
        )
        return [(r.step, r.withdrawn_at is None) for r in rows]


def _community(services: Any, name: str) -> Community:
    with services.db.uow() as uow:
        return uow.session.scalar(select(Community).where(Community.name == name))  # type: ignore[return-value]


def test_a_company_climbs_the_whole_ladder_and_a_withdrawal_undoes_what_depended_on_it(
    client: Any, services: Any, setting: dict[str, Any]
) -> None:
    resident, housing, police = setting["resident"], setting["housing"], setting["police"]
    here = community_id(client, "幸福里小区")
    # Resolving a clause category needs a verdict.
    fees = file_case(
        client,
        resident,
        category="utilities_cut_for_fees",
        community_id=here,
        description="物业停水催缴物业费",
    )
    missing = _resolve(client, housing, fees, None)
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "violation_required"
    assert (
        client.post(
            f"/api/v1/staff/cases/{fees['id']}/resolve",
            json={
                "note": "核查属实",
                "photo_ids": [upload_photo(client, housing)["id"]],
                "violation": "confirmed",
            },
            headers=housing,
        ).status_code
        == 200
    )
    assert _ladder(services) == [(1, True)]
    timeline = client.get(f"/api/v1/cases/{fees['id']}", headers=resident).get_json()["timeline"]
    assert [e["kind"] for e in timeline][-3:] == ["resolved", "violation_confirmed", "ladder_step"]

    # A denied one counts for nothing.
    denied = file_case(
        client, resident, category="unauthorised_price_rise", community_id=here, description="物业擅自涨价"
    )
    assert _resolve(client, housing, denied, "denied").status_code == 200
    assert _ladder(services) == [(1, True)]

    price = file_case(
        client, resident, category="unauthorised_price_rise", community_id=here, description="物业又涨价了"
    )
    _resolve(client, housing, price, "confirmed")
    assert _ladder(services) == [(1, True), (2, True)]
    assert _community(services, "幸福里小区").star_rating == 3  # 降星 from 4

    leak = file_case(
        client, resident, category="owner_data_leaked", community_id=here, description="物业泄露业主电话"
    )
    _resolve(client, police, leak, "confirmed")
    assert _ladder(services)[-1] == (3, True)
    assert _community(services, "幸福里小区").below_standard is True

    other = community_id(client, "康宁苑")
    quit_case = file_case(
        client, resident, category="service_abandoned", community_id=other, description="物业撤场不交接"
    )
    _resolve(client, housing, quit_case, "confirmed")
    assert _ladder(services)[-1] == (4, True)
    with services.db.uow() as uow:
        company = uow.session.scalar(select(PropertyCompany).where(PropertyCompany.name == COMPANY))
        assert company is not None and company.blacklisted_at is not None
        # Each step reached tells the housing bureau and the township.
        told = uow.session.scalars(
            select(Notification.user_id).where(
                Notification.payload["step"].as_string().in_(["约谈整改", "降星", "清退", "黑名单"])
            )
        ).all()
    assert user_id(client, setting["housing"]) in told and user_id(client, setting["town"]) in told

    companies = client.get(
        "/api/v1/supervision/property-companies", headers=setting["supervisor"]
    ).get_json()["items"]
    mine = next(c for c in companies if c["name"] == COMPANY)
    assert mine["violations"] == 4 and mine["ladder_step"] == 4 and mine["blacklisted"] is True
    flags = {c["name"]: c for c in mine["communities"]}
    assert flags["幸福里小区"]["removal_proposed"] is True
    page = client.get(f"/api/v1/communities/{here}").get_json()
    assert page["property_company"]["ladder_step"] == 4

    # On review, the last confirmation is withdrawn: the blacklist goes, the rest stands.
    assert withdraw_violation(services.context(), quit_case["id"], "复核不属实") == [4]
    assert _ladder(services)[-1] == (4, False)
    with services.db.uow() as uow:
        company = uow.session.scalar(select(PropertyCompany).where(PropertyCompany.name == COMPANY))
        assert company is not None and company.blacklisted_at is None
    events = client.get(f"/api/v1/cases/{quit_case['id']}", headers=resident).get_json()["timeline"]
    assert [e["kind"] for e in events][-2:] == ["violation_withdrawn", "ladder_withdrawn"]
    # And one more: below standard is lifted too.
    assert withdraw_violation(services.context(), leak["id"], "复核不属实") == [3]
    assert _community(services, "幸福里小区").below_standard is False
    # A fresh confirmation climbs again, applying step 3 once more.
    again = file_case(
        client,
        resident,
        category="common_parts_exploited",
        community_id=here,
        description="物业占用共有部分经营",
    )
    _resolve(client, housing, again, "confirmed")
    assert [s for s, live in _ladder(services) if live] == [1, 2, 3]


def test_a_violation_counts_once_per_case_even_after_a_reopen(
    client: Any, services: Any, setting: dict[str, Any]
) -> None:
    resident, housing = setting["resident"], setting["housing"]
    case = file_case(client, resident, category="utilities_cut_for_fees", description="物业停电催缴")
    _resolve(client, housing, case, "confirmed")
    client.post(f"/api/v1/cases/{case['id']}/reopen", json={"reason": "又停水了"}, headers=resident)
    client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve",
        json={
            "note": "再次核查",
            "photo_ids": [upload_photo(client, housing)["id"]],
            "violation": "confirmed",
        },
        headers=housing,
    )
    with services.db.uow() as uow:
        assert len(uow.session.scalars(select(Violation).where(Violation.case_id == case["id"])).all()) == 1


def test_property_commands(app: Any, client: Any, services: Any) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(
        args=["property", "add", "--name", "新物业公司", "--credit-code", "9164012152601815X8"]
    )
    assert bad.exit_code == 1 and "校验位" in bad.output
    # Build a valid code from the check digit rather than guessing one.
    from routing.credit_code import check_digit

    code = "91640121MA76XY123"
    code += check_digit(code)
    ok = runner.invoke(args=["property", "add", "--name", "新物业公司", "--credit-code", code])
    assert ok.exit_code == 0, ok.output
    assert (
        runner.invoke(
            args=["property", "assign", "--company", "新物业公司", "--community", "望湖雅居"]
        ).exit_code
        == 0
    )
    for stars in (2, 1):
        result = runner.invoke(
            args=[
                "property",
                "rate",
                "--community",
                "望湖雅居",
                "--stars",
                str(stars),
                "--reason",
                "年度评定",
            ]
        )
        assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["property", "list"]).output
    assert "新物业公司" in listing and "连续两次" in listing
    assert (
        runner.invoke(
            args=[
                "property",
                "disclose",
                "--community",
                "望湖雅居",
                "--item",
                "公共收益",
                "--content",
                "2025年广告收益 1.2 万元",
            ]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            args=["property", "disclose", "--community", "望湖雅居", "--item", "工资", "--content", "x"]
        ).exit_code
        == 1
    )
    page = client.get(f"/api/v1/communities/{community_id(client, '望湖雅居')}").get_json()
    assert page["property_company"]["name"] == "新物业公司"
    assert [d["item"] for d in page["disclosures"]] == [
        "服务合同",
        "服务内容",
        "服务电话",
        "服务方式",
        "收费标准",
        "公共收益",
    ]
    public = next(d for d in page["disclosures"] if d["item"] == "公共收益")
    assert public["content"].startswith("2025年") and public["updated_at"]


def test_the_ladder_counts_prohibitions_not_cases_and_a_blacklisted_company_takes_no_community(
    client: Any, services: Any, setting: dict[str, Any]
) -> None:
    """Seed 003: 累计违反上述N条. Two confirmed cases under clause 7 are one 条."""
    resident, housing, police = setting["resident"], setting["housing"], setting["police"]
    here = community_id(client, "幸福里小区")

    def confirm(category: str, who: dict[str, str], text: str) -> dict[str, Any]:
        case = file_case(client, resident, category=category, community_id=here, description=text)
        assert _resolve(client, who, case, "confirmed").status_code == 200
        return case

    price = confirm("unauthorised_price_rise", housing, "物业擅自涨价")  # clause 7
    contract = confirm("irregular_contract", housing, "物业合同违规签订")  # clause 7 again
    assert _ladder(services) == [(1, True)]
    confirm("utilities_cut_for_fees", housing, "物业停水催缴")  # clause 9
    assert _ladder(services) == [(1, True), (2, True)]
    confirm("owner_data_leaked", police, "物业泄露业主信息")  # clause 5
    blocked = confirm("facility_obstructed", housing, "物业阻拦充电桩进场施工")  # clause 4
    assert _ladder(services) == [(1, True), (2, True), (3, True), (4, True)]
    companies = client.get("/api/v1/supervision/property-companies", headers=setting["supervisor"]).get_json()
    mine = next(c for c in companies["items"] if c["name"] == COMPANY)
    assert (mine["violations"], mine["clauses_violated"], mine["blacklisted"]) == (5, 4, True)

    refused = client.application.test_cli_runner().invoke(
        args=["property", "assign", "--company", COMPANY, "--community", "望湖雅居"]
    )
    assert refused.exit_code == 1 and "黑名单" in refused.output

    # Withdrawing one of the two clause-7 cases recounts: still four prohibitions.
    assert withdraw_violation(services.context(), contract["id"], "复核：合同已补正") == []
    # Withdrawing clause 4 recounts to three: the blacklist goes, and the company may serve again.
    assert withdraw_violation(services.context(), blocked["id"], "复核不属实") == [4]
    assert withdraw_violation(services.context(), price["id"], "复核不属实") == [3]
    assert [s for s, live in _ladder(services) if live] == [1, 2]
    again = client.application.test_cli_runner().invoke(
        args=["property", "assign", "--company", COMPANY, "--community", "望湖雅居"]
    )
    assert again.exit_code == 0, again.output
