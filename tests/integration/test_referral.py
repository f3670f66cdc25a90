"""Referral (移交) over HTTP: the primary department or a supervisor hands a
case to another department; the new case is linked both ways, routed and
clocked like any other, and its reporter follows it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.clock import FixedClock
from app.models import Base, Notification
from handlers.supervision.escalation import sweep
from tests.helpers import file_case, login, make_staff, upload_photo, user_id


@pytest.fixture
def people(client: Any, services: Any) -> dict[str, Any]:
    return {
        "resident": login(client, "ref-res"),
        "law": make_staff(client, services, "综合执法局", "handler", "ref-law"),
        "housing": make_staff(client, services, "住建局", "handler", "ref-housing"),
        "police": make_staff(client, services, "公安局", "handler", "ref-police"),
        "fire": make_staff(client, services, "消防救援大队", "handler", "ref-fire"),
        "office": make_staff(client, services, "住建局", "supervisor", "ref-office"),
    }


def _refer(client: Any, case_id: int, who: dict[str, str], department: str, reason: str) -> Any:
    return client.post(
        f"/api/v1/staff/cases/{case_id}/refer", json={"department": department, "reason": reason}, headers=who
    )


def _rows(services: Any) -> dict[str, int]:
    with services.db.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def test_a_referred_case_is_linked_both_ways_and_followed_by_its_reporter(
    client: Any, services: Any, people: dict[str, Any]
) -> None:
    resident = people["resident"]
    photo = upload_photo(client, resident)
    old = file_case(client, resident, photo_ids=[photo["id"]], anonymous=True)
    answer = _refer(client, old["id"], people["law"], "公安局", "饲养烈性犬伤人，涉嫌违法，移交公安机关查处")
    assert answer.status_code == 201, answer.get_json()
    referring = answer.get_json()
    assert referring["status"] == "dispatched" and referring["accept_due_at"] == old["accept_due_at"]
    (link,) = referring["referred_to"]
    assert link["department"] == "公安局"
    last = referring["timeline"][-1]
    assert last["kind"] == "referred" and link["number"] in last["note"] and "公安局" in last["note"]
    assert last["related_case"] == link

    new = client.get(f"/api/v1/cases/{link['id']}", headers=resident).get_json()
    assert new["referred_from"] == {"id": old["id"], "number": old["number"], "department": "综合执法局"}
    assert [(d["name"], d["role"]) for d in new["departments"]] == [("公安局", "主办"), ("杨和镇", "属地")]
    assert new["status"] == "dispatched" and new["accept_due_at"] and new["resolve_due_at"]
    assert [e["kind"] for e in new["timeline"]] == ["referred", "dispatched"]
    assert old["number"] in new["timeline"][0]["note"] and new["anonymous"] is True
    assert [p["id"] for p in new["photos"]] == [photo["id"]]
    # The reporter finds both cases, and was told where the first one went.
    mine = client.get("/api/v1/cases/mine", headers=resident).get_json()["items"]
    assert {c["id"] for c in mine} == {old["id"], link["id"]}
    with services.db.uow() as uow:
        told = uow.session.scalars(
            select(Notification).where(Notification.user_id == user_id(client, resident))
        ).all()
        police_told = uow.session.scalars(
            select(Notification).where(Notification.user_id == user_id(client, people["police"]))
        ).all()
    assert any(n.case_id == old["id"] and n.payload["status"].startswith("已移交") for n in told)
    assert [(n.purpose, n.case_id) for n in police_told] == [("new_case", link["id"])]

    # The new case's department sees it (reporter hidden), the photo it came with, not the old case.
    police = people["police"]
    seen = client.get(f"/api/v1/cases/{link['id']}", headers=police).get_json()
    assert seen["actions"][:1] == ["accept"] and seen["timeline"][0]["by"] == "综合执法局"
    assert client.get(f"/api/v1/photos/{photo['id']}", headers=police).status_code == 200
    assert client.get(f"/api/v1/photos/{photo['id']}", headers=people["fire"]).status_code == 404
    assert client.get(f"/api/v1/cases/{old['id']}", headers=police).status_code == 404

    # Handled like any other: the reporter hears of the new case too.
    assert client.post(f"/api/v1/staff/cases/{link['id']}/accept", json={}, headers=police).status_code == 200
    with services.db.uow() as uow:
        updates = uow.session.scalars(
            select(Notification.case_id).where(
                Notification.user_id == user_id(client, resident), Notification.purpose == "case_update"
            )
        ).all()
    assert link["id"] in updates


def test_a_referred_case_escalates_on_its_own_clocks(
    client: Any, services: Any, people: dict[str, Any]
) -> None:
    case = file_case(
        client, people["resident"], category="fire_lane_blocked", description="消防通道被车辆堵死"
    )
    # 消防救援大队 leads 占用消防车道; a supervisor refers the illegal parking to the police.
    referred = _refer(client, case["id"], people["office"], "公安局", "车辆违法停放，请公安交警依法处理")
    assert referred.status_code == 201, referred.get_json()
    new_id = referred.get_json()["referred_to"][0]["id"]
    new = client.get(f"/api/v1/cases/{new_id}", headers=people["office"]).get_json()
    assert new["urgent"] is True
    services.clock = FixedClock(services.clock.now() + timedelta(hours=2))
    sweep(services.context())
    timeline = client.get(f"/api/v1/cases/{new_id}", headers=people["office"]).get_json()["timeline"]
    # 30 minutes to accept an urgent case: two hours on, it is overdue.
    assert "overdue" in {e["step"] for e in timeline if e["kind"] == "escalated"}


@pytest.mark.parametrize(
    ("who", "department", "reason", "status", "code"),
    [
        ("housing", "公安局", "不是本部门的事，移交公安", 403, "not_primary"),
        ("resident", "公安局", "请移交公安机关处理", 403, "forbidden"),
        ("law", "综合执法局", "移交给自己试试看", 422, "refer_to_self"),
        ("law", "城管局", "移交给不存在的部门", 422, "unknown_department"),
        ("law", "公安局", "这里有违禁词内容", 422, "content_risky"),
        ("law", "公安局", "移", 422, "invalid_field"),
    ],
)
def test_a_referral_that_may_not_happen_changes_nothing(
    client: Any,
    services: Any,
    people: dict[str, Any],
    who: str,
    department: str,
    reason: str,
    status: int,
    code: str,
) -> None:
    case = file_case(client, people["resident"])
    before = _rows(services)
    answer = _refer(client, case["id"], people[who], department, reason)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"] == code
    assert _rows(services) == before


def test_one_open_referral_per_department(client: Any, services: Any, people: dict[str, Any]) -> None:
    case = file_case(client, people["resident"])
    assert _refer(client, case["id"], people["law"], "公安局", "涉嫌违法，移交公安").status_code == 201
    before = _rows(services)
    again = _refer(client, case["id"], people["law"], "公安局", "再移交一次")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_referred"
    assert _rows(services) == before
    assert _refer(client, case["id"], people["law"], "市场监管局", "涉及收费问题").status_code == 201
    referring = client.get(f"/api/v1/cases/{case['id']}", headers=people["law"]).get_json()
    assert [r["department"] for r in referring["referred_to"]] == ["公安局", "市场监管局"]
