"""Supervisors: overdue list, statistics, exports, re-dispatch, reject, merge."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from app.clock import FixedClock
from handlers.supervision.escalation import sweep
from tests.helpers import file_case, login, make_staff, upload_photo

START = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


@pytest.fixture
def clock(services: Any) -> FixedClock:
    services.clock = FixedClock(START)
    return services.clock


@pytest.fixture
def people(client: Any, services: Any) -> dict[str, dict[str, str]]:
    return {
        "resident": login(client, "res"),
        "law": make_staff(client, services, "综合执法局", "handler", "law"),
        "fire": make_staff(client, services, "消防救援大队", "handler", "fire"),
        "supervisor": make_staff(client, services, "住建局", "supervisor", "sup"),
        "head": make_staff(client, services, "综合执法局", "head", "lawhead"),
    }


def test_the_overdue_list_is_most_overdue_first_and_filters(
    client: Any, services: Any, clock: FixedClock, people: dict[str, Any]
) -> None:
    dog = file_case(client, people["resident"], category="dog_unleashed")
    clock.advance(hours=1)
    fire = file_case(client, people["resident"], category="fire_lane_blocked")
    also = file_case(
        client, people["resident"], category="dog_unleashed", community_id=_community(client, "康宁苑")
    )
    clock.advance(days=2)
    sweep(services.context())
    answer = client.get("/api/v1/supervision/overdue", headers=people["supervisor"]).get_json()
    assert [i["id"] for i in answer["items"]] == [fire["id"], dog["id"], also["id"]]
    first = answer["items"][0]
    assert first["department"] == "消防救援大队" and first["deadline"] == "accept"
    assert first["overdue_hours"] > 40 and first["escalation_step"] == "supervision"
    by_township = client.get(
        "/api/v1/supervision/overdue?township=团结西路街道", headers=people["supervisor"]
    ).get_json()
    assert [i["id"] for i in by_township["items"]] == [also["id"]]
    by_department = client.get(
        "/api/v1/supervision/overdue?department=综合执法局", headers=people["supervisor"]
    ).get_json()
    assert {i["id"] for i in by_department["items"]} == {dog["id"], also["id"]}
    by_category = client.get(
        "/api/v1/supervision/overdue?category=fire_lane_blocked", headers=people["supervisor"]
    )
    assert by_category.get_json()["total"] == 1
    assert (
        client.get("/api/v1/supervision/overdue?category=nope", headers=people["supervisor"]).status_code
        == 422
    )
    export = client.get("/api/v1/supervision/overdue.xlsx", headers=people["supervisor"])
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "工单编号" and len(rows) == 4
    assert rows[1][0] == fire["number"]
    assert sheet.column_dimensions["J"].width > sheet.column_dimensions["H"].width


def _community(client: Any, name: str) -> int:
    return int(client.get("/api/v1/communities", query_string={"q": name}).get_json()["items"][0]["id"])


def test_stats_count_by_hand(client: Any, services: Any, clock: FixedClock, people: dict[str, Any]) -> None:
    law, resident = people["law"], people["resident"]
    on_time = file_case(client, resident)
    late = file_case(client, resident)
    never = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{on_time['id']}/accept", json={}, headers=law)
    clock.advance(days=2)  # the 1wd accept deadline has passed
    client.post(f"/api/v1/staff/cases/{late['id']}/accept", json={}, headers=law)
    photo = upload_photo(client, law)
    client.post(
        f"/api/v1/staff/cases/{on_time['id']}/resolve",
        json={"note": "好", "photo_ids": [photo["id"]]},
        headers=law,
    )
    client.post(f"/api/v1/cases/{on_time['id']}/rating", json={"score": 4}, headers=resident)
    client.post(f"/api/v1/staff/cases/{never['id']}/return", json={"reason": "不属于本部门"}, headers=law)
    stats = client.get(
        "/api/v1/supervision/stats?from=2025-06-01&to=2025-06-30", headers=people["supervisor"]
    ).get_json()
    law_row = next(d for d in stats["departments"] if d["name"] == "综合执法局")
    assert law_row["received"] == 3
    # accept: on time 1, late 1 (accepted after the deadline); the returned one
    # left the department's hands unaccepted and counts in neither -> 1/2
    assert law_row["accepted_on_time_pct"] == 50.0
    assert law_row["resolved_on_time_pct"] == 100.0
    assert law_row["returned"] == 1
    assert law_row["satisfaction"] == 4.0
    assert law_row["overdue_now"] == 0
    assert {d["name"] for d in stats["departments"]} >= {"公安局", "发改局"}  # zeros included
    town = next(t for t in stats["townships"] if t["name"] == "杨和镇")
    assert town["received"] == 3
    assert len(stats["townships"]) == 7
    export = client.get("/api/v1/supervision/stats.xlsx?from=2025-06-01", headers=people["supervisor"])
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["部门", "乡镇(街道)"]
    assert client.get("/api/v1/supervision/stats?from=June", headers=people["supervisor"]).status_code == 422


def test_redispatch_reject_and_merge(
    client: Any, services: Any, clock: FixedClock, people: dict[str, Any]
) -> None:
    resident, law, sup = people["resident"], people["law"], people["supervisor"]
    case = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{case['id']}/return", json={"reason": "是消防通道问题"}, headers=law)
    assert client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=law).status_code in (
        404,
        409,
    )
    moved = client.post(
        f"/api/v1/supervision/cases/{case['id']}/dispatch",
        json={"category": "fire_lane_blocked"},
        headers=sup,
    )
    assert moved.status_code == 200
    assert moved.get_json()["departments"][0]["name"] == "消防救援大队"
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=people["fire"]).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/supervision/cases/{case['id']}/dispatch",
            json={"category": "dog_unleashed"},
            headers=sup,
        ).status_code
        == 409
    )

    spam = file_case(client, resident, description="这不是小区的问题，是测试")
    rejected = client.post(
        f"/api/v1/supervision/cases/{spam['id']}/reject", json={"reason": "不属于小区管理事项"}, headers=sup
    )
    assert rejected.status_code == 200
    seen = client.get(f"/api/v1/cases/{spam['id']}", headers=resident).get_json()
    assert seen["status"] == "rejected" and seen["reject_reason"] == "不属于小区管理事项"

    neighbour = login(client, "neighbour")
    original = file_case(client, resident, description="3号楼遛狗不拴绳")
    duplicate = file_case(client, neighbour, description="3号楼也有人遛狗不拴绳")
    merged = client.post(
        f"/api/v1/supervision/cases/{duplicate['id']}/merge", json={"into": original["id"]}, headers=sup
    )
    assert merged.status_code == 200 and merged.get_json()["status"] == "merged"
    mine = client.get("/api/v1/cases/mine", headers=neighbour).get_json()
    assert original["id"] in [c["id"] for c in mine["items"]]
    assert client.get(f"/api/v1/cases/{original['id']}", headers=neighbour).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/supervision/overdue",
        "/api/v1/supervision/overdue.xlsx",
        "/api/v1/supervision/stats",
        "/api/v1/supervision/stats.xlsx",
        "/api/v1/supervision/extensions",
        "/api/v1/supervision/failed-notifications",
    ],
)
def test_residents_and_staff_without_the_role_get_403(client: Any, people: dict[str, Any], path: str) -> None:
    for who in ("resident", "law", "head"):
        assert client.get(path, headers=people[who]).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get(path, headers=people["supervisor"]).status_code == 200
