"""Admins manage staff over HTTP: the list with department, role, WeCom id,
quota left and last seen; invites, revocations and WeCom ids, each recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.clock import FixedClock
from tests.helpers import login, make_staff, user_id


def test_an_admin_invites_lists_links_and_revokes_staff(client: Any, services: Any) -> None:
    admin = make_staff(client, services, "住建局", "admin", "staff-admin")
    invited = client.post(
        "/api/v1/admin/staff/invites", json={"department": "公安局", "role": "head"}, headers=admin
    )
    assert invited.status_code == 201, invited.get_json()
    code = invited.get_json()["code"]
    assert invited.get_json()["expires_at"] and len(code) == 14
    newcomer = login(client, "police-head")
    bound = client.post("/api/v1/auth/bind-staff", json={"binding_code": code}, headers=newcomer)
    assert bound.status_code == 200 and bound.get_json()["user"]["role"] == "head"
    staff_id = user_id(client, newcomer)
    client.post(
        "/api/v1/staff/subscriptions", json={"TPL_ESCALATION_PLACEHOLDER": "accept"}, headers=newcomer
    )

    listed = client.get(
        "/api/v1/admin/staff", query_string={"department": "公安局"}, headers=admin
    ).get_json()
    assert listed["total"] == 1
    (member,) = listed["items"]
    assert member["id"] == staff_id and member["role"] == "head" and member["department"]["name"] == "公安局"
    assert member["quota"]["escalation"] == {"left": 1, "long_term": False, "status": "accept"}
    assert member["quota"]["new_case"]["left"] == 0 and member["last_seen_at"]

    linked = client.put(
        f"/api/v1/admin/staff/{staff_id}/wecom", json={"wecom_id": "zhang.wei"}, headers=admin
    )
    assert linked.status_code == 200 and linked.get_json()["wecom_id"] == "zhang.wei"
    bad = client.put(f"/api/v1/admin/staff/{staff_id}/wecom", json={"wecom_id": "张 伟"}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["error"]["message"]

    revoked = client.post(f"/api/v1/admin/staff/{staff_id}/revoke", json={}, headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["role"] == "resident"
    assert client.get("/api/v1/staff/cases", headers=newcomer).status_code == 403
    again = client.post(f"/api/v1/admin/staff/{staff_id}/revoke", json={}, headers=admin)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_staff"
    myself = client.post(f"/api/v1/admin/staff/{user_id(client, admin)}/revoke", json={}, headers=admin)
    assert myself.status_code == 409 and myself.get_json()["error"]["code"] == "revoke_self"

    changes = client.get("/api/v1/admin/changes", query_string={"entity": "staff"}, headers=admin).get_json()
    actions = [c["action"] for c in changes["items"]]
    assert actions[:4] == ["revoke", "wecom", "bind", "invite"]
    assert (
        changes["items"][0]["before"]["role"] == "head" and changes["items"][0]["after"]["role"] == "resident"
    )
    assert code not in str(changes)  # the binding code is never recorded


def test_last_seen_is_written_at_most_every_few_minutes(client: Any, services: Any) -> None:
    admin = make_staff(client, services, "住建局", "admin", "seen-admin")
    handler = make_staff(client, services, "综合执法局", "handler", "seen-handler")
    start = services.clock.now()

    def seen() -> str:
        items = client.get("/api/v1/admin/staff", query_string={"role": "handler"}, headers=admin).get_json()[
            "items"
        ]
        return str(items[0]["last_seen_at"])

    services.clock = FixedClock(start + timedelta(hours=1))
    client.get("/api/v1/staff/cases", headers=handler)
    first = seen()
    services.clock.advance(minutes=2)
    client.get("/api/v1/staff/cases", headers=handler)
    assert seen() == first
    services.clock.advance(minutes=4)
    client.get("/api/v1/staff/cases", headers=handler)
    assert seen() > first


def test_bad_invites_change_nothing(client: Any, services: Any) -> None:
    admin = make_staff(client, services, "住建局", "admin", "bad-invite-admin")

    def recorded() -> int:
        return int(client.get("/api/v1/admin/changes", headers=admin).get_json()["total"])

    before = recorded()
    for body, status in (
        ({"department": "城管局", "role": "handler"}, 404),
        ({"department": "公安局", "role": "mayor"}, 422),
        ({"department": "公安局"}, 422),
        ({"department": "公安局", "role": "handler", "hours": 0}, 422),
    ):
        answer = client.post("/api/v1/admin/staff/invites", json=body, headers=admin)
        assert answer.status_code == status, body
    assert recorded() == before
