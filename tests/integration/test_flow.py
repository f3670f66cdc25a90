"""One case through its whole life, over HTTP, against the fake WeChat."""

from __future__ import annotations

from typing import Any

from tests.helpers import file_case, login, make_staff, upload_photo


def test_a_case_is_filed_routed_handled_rated_and_closed(
    client: Any, services: Any, fake_wechat: Any
) -> None:
    resident = login(client, "alice")
    handler = make_staff(client, services, "综合执法局", "handler", "zhang")
    township = make_staff(client, services, "杨和镇", "handler", "li")
    photo = upload_photo(client, resident)

    case = file_case(client, resident, photo_ids=[photo["id"]])
    assert case["status"] == "dispatched"
    assert case["number"].startswith("YN")
    assert [(d["name"], d["role"]) for d in case["departments"]] == [
        ("综合执法局", "主办"),
        ("住建局", "协办"),
        ("杨和镇", "属地"),
    ]
    assert case["accept_due_at"] and case["resolve_due_at"]
    assert [e["kind"] for e in case["timeline"]] == ["submitted", "dispatched"]

    queue = client.get("/api/v1/staff/cases", headers=handler).get_json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    assert client.get("/api/v1/staff/cases", headers=township).get_json()["total"] == 1

    # The township co-handles: it may add progress but not accept.
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=township).status_code == 403
    )
    assert (
        client.post(
            f"/api/v1/staff/cases/{case['id']}/progress", json={"note": "已通知社区"}, headers=township
        )
    ).status_code == 200

    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler).status_code == 200
    )
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler).status_code == 409
    )

    no_evidence = client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve", json={"note": "已处理"}, headers=handler
    )
    assert no_evidence.status_code == 422
    evidence = upload_photo(client, handler)
    resolved = client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve",
        json={"note": "已劝导犬主拴绳", "photo_ids": [evidence["id"]]},
        headers=handler,
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved"

    rated = client.post(f"/api/v1/cases/{case['id']}/rating", json={"score": 5}, headers=resident)
    assert rated.status_code == 200, rated.get_json()
    body = rated.get_json()
    assert body["status"] == "closed"
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds == ["submitted", "dispatched", "progress", "accepted", "resolved", "rated", "closed"]
    # Another resident cannot see it.
    other = login(client, "bob")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404
