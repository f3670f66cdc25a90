"""The county's day the browser tests look at, built over the API as the
mini-program builds it: residents' cases with photos, a case overdue and
escalated, one returned, one with an extension request, one the department
head's department has no part in, and staff nobody can reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.clock import Clock
from handlers.notifications.sender import send_due
from handlers.supervision.escalation import sweep
from tests.helpers import community_id, file_case, jpeg_bytes, login, make_staff, upload_photo, user_id


@dataclass
class World:
    supervisor: dict[str, str]
    supervisor_id: int
    admin_id: int
    head: dict[str, str]
    resident: dict[str, str]
    overdue: dict[str, Any]
    returned: dict[str, Any]
    extended: dict[str, Any]
    elsewhere: dict[str, Any]  # no part of the head's department


def _ok(answer: Any, status: int = 200) -> None:
    assert answer.status_code == status, answer.get_json()


def build_world(client: Any, services: Any) -> World:
    resident = login(client, "browser-res")
    law = make_staff(client, services, "综合执法局", "handler", "browser-law")
    housing = make_staff(client, services, "住建局", "handler", "browser-housing")
    head = make_staff(client, services, "综合执法局", "head", "browser-head")
    supervisor = make_staff(client, services, "住建局", "supervisor", "browser-sup")
    admin = make_staff(client, services, "住建局", "admin", "browser-admin")
    photos = [
        upload_photo(client, resident, jpeg_bytes((1600, 1200), rgb))
        for rgb in ((200, 80, 40), (40, 90, 200))
    ]
    overdue = file_case(
        client,
        resident,
        description="3号楼下每天傍晚有人遛大型犬不拴绳，已经吓到两个孩子",
        location_text="3号楼东侧草坪",
        lat=38.4721,
        lng=106.2587,
        photo_ids=[p["id"] for p in photos],
    )
    returned = file_case(client, resident, description="小区北门每晚有人遛狗不拴绳", location_text="北门")
    extended = file_case(
        client,
        resident,
        category="garage_flammables",
        community_id=community_id(client, "康宁苑"),
        description="地下车库里有人堆放汽油桶和旧家具",
        location_text="地库B区",
    )
    elsewhere = file_case(
        client, resident, category="owner_data_leaked", description="物业把业主电话卖给装修公司"
    )
    _ok(client.post(f"/api/v1/staff/cases/{returned['id']}/accept", json={}, headers=law))
    reason = {"reason": "不属于本部门职责，应由物业和住建局处理"}
    _ok(client.post(f"/api/v1/staff/cases/{returned['id']}/return", json=reason, headers=law))
    _ok(client.post(f"/api/v1/staff/cases/{extended['id']}/accept", json={}, headers=housing))
    # Three days later, and at least two hours past the first case's accept
    # deadline: filed on a Friday evening, one working day ends on Tuesday.
    due = datetime.fromisoformat(overdue["accept_due_at"])
    later = max(timedelta(days=3), due - services.clock.now() + timedelta(hours=2))
    services.clock = Clock(offset_seconds=int(later.total_seconds()))
    sweep(services.context())
    until = (services.clock.now() + timedelta(days=20)).astimezone(services.county.tz).date().isoformat()
    ask = {"reason": "需要协调消防部门联合清理，预计两周", "until": until}
    _ok(client.post(f"/api/v1/staff/cases/{extended['id']}/extension", json=ask, headers=housing), 201)
    send_due(services.context(), "browser-test")  # nobody subscribed: staff are listed as unreachable
    return World(
        supervisor,
        user_id(client, supervisor),
        user_id(client, admin),
        head,
        resident,
        overdue,
        returned,
        extended,
        elsewhere,
    )
