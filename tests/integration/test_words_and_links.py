"""The county's words reach clients from the API, and each push opens the
page its recipient needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from app import create_app
from app.models import Notification
from tests.helpers import file_case, login, make_staff, user_id

ROOT = Path(__file__).resolve().parents[2]


def test_labels_come_from_the_county_file(settings: Any, tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "config" / "county.yaml").read_text(encoding="utf-8"))
    raw["labels"] = {"statuses": {"rejected": "不予受理（已告知）"}}
    raw["escalation"][3]["label"] = "挂牌督办（红牌）"
    raw["violation_ladder"]["steps"][1]["name"] = "降低星级"
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    app = create_app(settings.but(cases_config=str(path)))
    try:
        # The file is the first version of this empty database.
        words = app.test_client().get("/api/v1/labels").get_json()
    finally:
        app.extensions["services"].close()
    assert words["statuses"]["rejected"] == "不予受理（已告知）"
    assert words["statuses"]["dispatched"] == "待签收"  # not renamed: the default
    assert words["steps"] == {
        "warning": "预警",
        "overdue": "超期",
        "supervision": "督办",
        "leader": "挂牌督办（红牌）",
    }
    assert words["ladder"]["2"] == "降低星级" and words["ladder"]["0"] == "无"
    assert (
        words["events"]["escalated"]
        and words["roles"]["supervisor"]
        and words["deadlines"]["accept"] == "签收"
    )


def test_a_misspelt_label_is_a_config_problem(tmp_path: Path) -> None:
    from routing import ConfigError, parse_config

    raw = yaml.safe_load((ROOT / "config" / "county.yaml").read_text(encoding="utf-8"))
    raw["labels"] = {"statusses": {"rejected": "x"}, "statuses": {"rejectd": "x"}}
    try:
        parse_config(raw)
    except ConfigError as exc:
        assert any("statusses" in p for p in exc.problems) and any("rejectd" in p for p in exc.problems)
    else:
        raise AssertionError("a misspelt label must be refused")


def _pages(services: Any, user: int) -> list[str]:
    with services.db.uow() as uow:
        rows = uow.session.scalars(
            select(Notification).where(Notification.user_id == user).order_by(Notification.id)
        )
        return [r.payload.get("page", "") for r in rows]


def test_each_push_opens_the_page_its_recipient_needs(client: Any, services: Any) -> None:
    resident = login(client, "links-res")
    handler = make_staff(client, services, "综合执法局", "handler", "links-law")
    office = make_staff(client, services, "住建局", "supervisor", "links-office")
    case = file_case(client, resident)
    assert _pages(services, user_id(client, handler)) == [f"pages/staff/handle/index?id={case['id']}"]
    client.post(
        f"/api/v1/staff/cases/{case['id']}/return", json={"reason": "不属本部门职责"}, headers=handler
    )
    assert _pages(services, user_id(client, office)) == [f"pages/supervise/case/index?id={case['id']}"]
    assert _pages(services, user_id(client, resident)) == [f"pages/case/index?id={case['id']}"]


def test_a_case_says_what_its_viewer_may_do(client: Any, services: Any) -> None:
    resident = login(client, "acts-res")
    handler = make_staff(client, services, "综合执法局", "handler", "acts-law")
    housing = make_staff(client, services, "住建局", "handler", "acts-housing")
    office = make_staff(client, services, "住建局", "supervisor", "acts-office")
    case = file_case(client, resident)
    seen = {
        name: client.get(f"/api/v1/cases/{case['id']}", headers=h).get_json()
        for name, h in {"resident": resident, "primary": handler, "co": housing, "office": office}.items()
    }
    assert seen["resident"]["actions"] == [] and seen["resident"]["my_role"] is None
    assert seen["primary"]["actions"] == ["accept", "progress", "return", "extension", "refer"]
    assert seen["primary"]["my_role"] == "主办"
    assert seen["co"]["actions"] == ["progress"] and seen["co"]["my_role"] == "协办"
    # The office's department co-handles this category, so it may add progress too.
    assert seen["office"]["actions"] == ["progress", "refer", "reject", "merge"]
    client.post(
        f"/api/v1/staff/cases/{case['id']}/extension",
        json={"reason": "需要现场核实", "until": (datetime.now(UTC) + timedelta(days=60)).date().isoformat()},
        headers=handler,
    )
    again = client.get(f"/api/v1/cases/{case['id']}", headers=office).get_json()
    assert again["actions"] == ["progress", "refer", "approve_extension", "deny_extension", "reject", "merge"]
    assert again["pending_extension"]["reason"] == "需要现场核实"
    assert "extension" not in client.get(f"/api/v1/cases/{case['id']}", headers=handler).get_json()["actions"]
