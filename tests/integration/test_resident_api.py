"""The resident's half over HTTP: login, photos, filing, tracking, rating."""

from __future__ import annotations

import gc
import io
import json
import warnings
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.clock import FixedClock
from app.models import Case, Notification
from tests.fixtures_images import bomb_png, exif_jpeg, truncated_jpeg
from tests.helpers import community_id, file_case, login, make_staff, upload_photo, user_id


def _post_photo(client: Any, headers: dict[str, str], data: bytes, name: str = "a.jpg") -> Any:
    return client.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


# -- login --------------------------------------------------------------------------------


def test_login_answers_a_token_and_the_user_never_the_session_key(client: Any, fake_wechat: Any) -> None:
    answer = client.post("/api/v1/auth/wechat-login", json={"code": "user-lin:1"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"token", "user"}
    assert body["user"]["role"] == "resident" and body["user"]["department"] is None
    assert "session_key" not in answer.get_data(as_text=True) and "openid" not in answer.get_data(
        as_text=True
    )
    again = client.post("/api/v1/auth/wechat-login", json={"code": "user-lin:2"}).get_json()
    assert again["user"]["id"] == body["user"]["id"]
    # jscode2session carried the access token wechatpy adds.
    assert any(c["path"] == "sns/jscode2session" for c in fake_wechat.calls)


def test_a_reused_or_invalid_code_is_a_clear_4xx(client: Any) -> None:
    client.post("/api/v1/auth/wechat-login", json={"code": "user-once:1"})
    reused = client.post("/api/v1/auth/wechat-login", json={"code": "user-once:1"})
    assert reused.status_code == 400 and reused.get_json()["error"]["code"] == "wechat_code_used"
    invalid = client.post("/api/v1/auth/wechat-login", json={"code": "invalid-xyz"})
    assert invalid.status_code == 400 and "登录" in invalid.get_json()["error"]["message"]


def test_wechat_down_or_busy_is_a_503_that_says_try_again(client: Any, fake_wechat: Any) -> None:
    fake_wechat.set_mode(down=True)
    down = client.post("/api/v1/auth/wechat-login", json={"code": "user-down:1"})
    assert down.status_code == 503 and "稍后" in down.get_json()["error"]["message"]
    fake_wechat.set_mode(down=False, busy=True)
    assert client.post("/api/v1/auth/wechat-login", json={"code": "user-busy:1"}).status_code == 503


def test_a_bad_or_missing_token_is_401(client: Any) -> None:
    assert client.get("/api/v1/cases/mine").status_code == 401
    bad = client.get("/api/v1/cases/mine", headers={"Authorization": "Bearer forged.token.value"})
    assert bad.status_code == 401 and bad.get_json()["error"]["message"]


# -- photos ----------------------------------------------------------------------------------


def test_photo_upload_strips_metadata_and_only_parties_open_it(client: Any) -> None:
    owner = login(client, "p1")
    stranger = login(client, "p2")
    answer = _post_photo(client, owner, exif_jpeg())
    assert answer.status_code == 201
    photo = answer.get_json()
    assert set(photo) >= {"id", "sha256", "width", "height", "url", "thumb_url"}
    assert photo["url"].startswith("/") and photo["id"] in photo["url"]
    data = client.get(photo["url"]).get_data()
    assert data[:2] == b"\xff\xd8" and b"GPS" not in data and b"Exif" not in data
    # Without the signed URL: the owner's token works, a stranger's does not.
    plain = f"/api/v1/photos/{photo['id']}"
    assert client.get(plain, headers=owner).status_code == 200
    assert client.get(plain, headers=stranger).status_code == 404
    assert client.get(plain + "?e=9999999999&s=forged").status_code == 404


def test_the_same_photo_twice_is_stored_once(client: Any, services: Any, tmp_path: Any) -> None:
    headers = login(client, "p3")
    data = exif_jpeg()
    first = _post_photo(client, headers, data).get_json()
    second = _post_photo(client, headers, data).get_json()
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    stored = [p for p in services.photos.root.rglob("*.jpg")]
    assert len(stored) == 2  # one display copy, one thumbnail


def test_bad_uploads_are_refused_with_a_message(client: Any) -> None:
    headers = login(client, "p4")
    assert _post_photo(client, headers, b"not an image at all", "x.jpg").status_code == 415
    assert _post_photo(client, headers, truncated_jpeg()).status_code == 422
    assert _post_photo(client, headers, bomb_png(), "b.png").status_code == 413
    with warnings.catch_warnings():
        # Flask's test client leaves its own spooled request body to the
        # garbage collector; that is the client's file, not the product's.
        warnings.simplefilter("ignore", ResourceWarning)
        too_big = _post_photo(client, headers, b"\xff" * (10 * 1024 * 1024 + 10))
        assert too_big.status_code == 413 and too_big.get_json()["error"]["message"]
        del too_big
        gc.collect()
    assert client.post("/api/v1/photos", json={"file": "x"}, headers=headers).status_code == 415
    assert _post_photo(client, {}, exif_jpeg()).status_code == 401


# -- filing -----------------------------------------------------------------------------------


def test_filing_answers_201_with_the_contract_fields(client: Any, services: Any) -> None:
    headers = login(client, "f1")
    make_staff(client, services, "消防救援大队", "handler", "fire")
    answer = client.post(
        "/api/v1/cases",
        json={
            "category": "fire_lane_blocked",
            "community_id": community_id(client),
            "description": "消防通道被私家车堵死了",
            "location_text": "2号楼北侧",
            "lat": 38.28,
            "lng": 106.24,
            "photo_ids": [],
            "anonymous": True,
        },
        headers=headers,
    )
    assert answer.status_code == 201
    case = answer.get_json()
    assert {"id", "number", "status", "departments", "accept_due_at", "resolve_due_at"} <= set(case)
    assert case["departments"][0] == {
        "id": case["departments"][0]["id"],
        "name": "消防救援大队",
        "role": "主办",
    }
    assert case["accept_due_at"].endswith("+08:00")
    with services.db.uow() as uow:
        rows = uow.session.scalars(select(Notification).where(Notification.case_id == case["id"])).all()
        assert [r.purpose for r in rows] == ["new_case"]


def test_an_idempotency_key_files_one_case(client: Any, services: Any) -> None:
    headers = login(client, "f2")
    body = {
        "category": "dog_unleashed",
        "community_id": community_id(client),
        "description": "小区里每天早上有人遛狗不拴绳",
        "location_text": "3号楼东侧",
    }
    first = client.post("/api/v1/cases", json=body, headers=headers | {"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    # The same report again (a retry after a lost answer; spaced and ordered
    # differently, defaults spelled out): the first case, nothing filed.
    raw = json.dumps(dict(reversed(list(body.items()))) | {"photo_ids": [], "anonymous": False}, indent=2)
    again = client.post(
        "/api/v1/cases",
        data=raw,
        content_type="application/json",
        headers=headers | {"Idempotency-Key": "k-1"},
    )
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    with services.db.uow() as uow:
        assert uow.session.scalar(select(func.count(Case.id))) == 1


def test_an_idempotency_key_reused_for_another_report_is_refused_not_dropped(
    client: Any, services: Any
) -> None:
    headers = login(client, "f2b")
    first = file_case(client, headers, extra_headers={"Idempotency-Key": "k-2"})
    urgent = {
        "category": "fire_lane_blocked",
        "community_id": community_id(client),
        "description": "消防通道被私家车堵死了，很危险",
    }
    reused = client.post("/api/v1/cases", json=urgent, headers=headers | {"Idempotency-Key": "k-2"})
    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in reused.get_json()["error"]["message"]
    with services.db.uow() as uow:
        assert uow.session.scalar(select(func.count(Case.id))) == 1
    # The same key still answers the first report; a new key files the urgent one.
    assert client.get(f"/api/v1/cases/{first['id']}", headers=headers).status_code == 200
    fresh = client.post("/api/v1/cases", json=urgent, headers=headers | {"Idempotency-Key": "k-3"})
    assert fresh.status_code == 201 and fresh.get_json()["id"] != first["id"]


def test_the_daily_limit_answers_429(client: Any, services: Any) -> None:
    services.clock = FixedClock(datetime(2025, 6, 10, 2, 0, tzinfo=UTC))
    headers = login(client, "f3")
    for _ in range(20):
        file_case(client, headers)
    over = client.post(
        "/api/v1/cases",
        json={"category": "dog_unleashed", "community_id": community_id(client), "description": "第二十一件"},
        headers=headers,
    )
    assert over.status_code == 429 and "明天" in over.get_json()["error"]["message"]
    services.clock.advance(days=1)
    assert file_case(client, headers)["status"] == "dispatched"


def test_risky_text_is_refused_and_an_absent_wechat_marks_the_case_for_review(
    client: Any, fake_wechat: Any
) -> None:
    headers = login(client, "f4")
    risky = client.post(
        "/api/v1/cases",
        json={
            "category": "dog_unleashed",
            "community_id": community_id(client),
            "description": "这里有违禁词内容",
        },
        headers=headers,
    )
    assert risky.status_code == 422 and risky.get_json()["error"]["code"] == "content_risky"
    fake_wechat.set_mode(fail_next={"path": "wxa/msg_sec_check", "http": 500, "times": 5})
    case = file_case(client, headers)
    assert case["needs_review"] is True and case["status"] == "dispatched"
    fake_wechat.set_mode(down=True)
    assert file_case(client, headers, description="微信不可用时也不会丢件")["needs_review"] is True


def test_someone_elses_or_a_used_photo_cannot_be_attached(client: Any) -> None:
    mine, theirs = login(client, "f5"), login(client, "f6")
    their_photo = upload_photo(client, theirs)
    body = {"category": "dog_unleashed", "community_id": community_id(client), "description": "带别人的照片"}
    stolen = client.post("/api/v1/cases", json=body | {"photo_ids": [their_photo["id"]]}, headers=mine)
    assert stolen.status_code == 422
    photo = upload_photo(client, mine)
    file_case(client, mine, photo_ids=[photo["id"]])
    reused = client.post("/api/v1/cases", json=body | {"photo_ids": [photo["id"]]}, headers=mine)
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "photo_used"


# -- tracking -----------------------------------------------------------------------------------


def test_my_cases_newest_first_paginated_and_nobody_elses(client: Any) -> None:
    mine, theirs = login(client, "t1"), login(client, "t2")
    numbers = [file_case(client, mine, description=f"第{i}件事情描述")["number"] for i in range(3)]
    file_case(client, theirs)
    page = client.get("/api/v1/cases/mine?per_page=2", headers=mine).get_json()
    assert page["total"] == 3 and page["per_page"] == 2 and page["page"] == 1
    assert [c["number"] for c in page["items"]] == numbers[::-1][:2]
    assert client.get("/api/v1/cases/mine?per_page=101", headers=mine).status_code == 422


def test_reopen_sends_the_case_back_to_the_primary_department(client: Any, services: Any) -> None:
    resident = login(client, "t3")
    handler = make_staff(client, services, "综合执法局", "handler", "t3h")
    case = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
    too_early = client.post(f"/api/v1/cases/{case['id']}/rating", json={"score": 4}, headers=resident)
    assert too_early.status_code == 409
    photo = upload_photo(client, handler)
    client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve",
        json={"note": "已处理", "photo_ids": [photo["id"]]},
        headers=handler,
    )
    reopened = client.post(
        f"/api/v1/cases/{case['id']}/reopen", json={"reason": "狗还是没拴绳"}, headers=resident
    )
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "reopened"
    queue = client.get("/api/v1/staff/cases", headers=handler).get_json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    # Not the reporter: 404, even for a valid step.
    assert (
        client.post(
            f"/api/v1/cases/{case['id']}/reopen", json={"reason": "x" * 3}, headers=login(client, "t4")
        ).status_code
        == 404
    )
    assert user_id(client, resident) != user_id(client, handler)


def test_after_the_rating_window_the_worker_closes_the_case(client: Any, services: Any) -> None:
    from handlers.cases.closing import close_expired

    services.clock = FixedClock(datetime(2025, 6, 10, 2, 0, tzinfo=UTC))
    resident = login(client, "t5")
    handler = make_staff(client, services, "综合执法局", "handler", "t5h")
    case = file_case(client, resident)
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
    photo = upload_photo(client, handler)
    client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve",
        json={"note": "已处理", "photo_ids": [photo["id"]]},
        headers=handler,
    )
    services.clock.advance(days=6)
    assert close_expired(services.context()) == 0
    services.clock.advance(days=1, seconds=1)
    assert close_expired(services.context()) == 1
    late = client.post(f"/api/v1/cases/{case['id']}/rating", json={"score": 3}, headers=resident)
    assert late.status_code == 409
    assert client.get(f"/api/v1/cases/{case['id']}", headers=resident).get_json()["status"] == "closed"
