"""Every role against every endpoint, each answer as intended.

A case of 遛狗不拴绳 in 幸福里小区 (杨和镇) is handled by 综合执法局 (主办),
住建局 (协办) and 杨和镇 (属地); 公安局 has nothing to do with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from app.clock import FixedClock
from tests.helpers import community_id, file_case, login, make_staff, upload_photo

ROLES = ["anon", "reporter", "stranger", "primary", "head", "co", "township", "other", "supervisor", "admin"]
STAFF = ["primary", "head", "co", "township", "other", "supervisor", "admin"]
PARTIES = ["reporter", "primary", "head", "co", "township", "supervisor", "admin"]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def logged_in(status: int) -> dict[str, int]:
    return everyone(status) | {"anon": 401}


def staff_only(status: int) -> dict[str, int]:
    return logged_in(403) | dict.fromkeys(STAFF, status)


def supervisors_only(status: int) -> dict[str, int]:
    return logged_in(403) | {"supervisor": status, "admin": status}


def primary_step(status: int) -> dict[str, int]:
    # Residents are not staff, and no department but the primary may take a
    # primary's step, whether it co-handles or has nothing to do with the case.
    return staff_only(403) | {"primary": status, "head": status}


VIEW = logged_in(404) | dict.fromkeys(PARTIES, 200)

# name -> (method, path template, body or None, expected status per role)
MATRIX: dict[str, tuple[str, str, Any, dict[str, int]]] = {
    "categories": ("GET", "/api/v1/categories", None, everyone(200)),
    "communities": ("GET", "/api/v1/communities", None, everyone(200)),
    "community": ("GET", "/api/v1/communities/{community}", None, everyone(200)),
    "templates": ("GET", "/api/v1/subscribe-templates", None, logged_in(200)),
    "subscriptions": ("POST", "/api/v1/staff/subscriptions", {"x": "accept"}, logged_in(200)),
    "file": ("POST", "/api/v1/cases", "CASE_BODY", logged_in(201)),
    "mine": ("GET", "/api/v1/cases/mine", None, logged_in(200)),
    "detail": ("GET", "/api/v1/cases/{case}", None, VIEW),
    "rate unresolved": (
        "POST",
        "/api/v1/cases/{case}/rating",
        {"score": 5},
        logged_in(404) | {"reporter": 409},
    ),
    "reopen unresolved": (
        "POST",
        "/api/v1/cases/{case}/reopen",
        {"reason": "不满意"},
        logged_in(404) | {"reporter": 409},
    ),
    "queue": ("GET", "/api/v1/staff/cases", None, staff_only(200)),
    "accept": ("POST", "/api/v1/staff/cases/{case}/accept", {}, primary_step(200)),
    "progress": (
        "POST",
        "/api/v1/staff/cases/{case}/progress",
        {"note": "已到现场"},
        staff_only(200) | {"other": 403, "supervisor": 200, "admin": 200},
    ),
    "return": ("POST", "/api/v1/staff/cases/{case}/return", {"reason": "不属于本部门"}, primary_step(200)),
    "extension": (
        "POST",
        "/api/v1/staff/cases/{case}/extension",
        {"reason": "需要协调", "until": "2025-12-31"},
        primary_step(201),
    ),
    "resolve unaccepted": (
        "POST",
        "/api/v1/staff/cases/{case}/resolve",
        {"note": "已处理", "photo_ids": ["PHOTO"]},
        primary_step(409),
    ),
    "overdue": ("GET", "/api/v1/supervision/overdue", None, supervisors_only(200)),
    "overdue xlsx": ("GET", "/api/v1/supervision/overdue.xlsx", None, supervisors_only(200)),
    "stats": ("GET", "/api/v1/supervision/stats", None, supervisors_only(200)),
    "stats xlsx": ("GET", "/api/v1/supervision/stats.xlsx", None, supervisors_only(200)),
    "extensions": ("GET", "/api/v1/supervision/extensions", None, supervisors_only(200)),
    "failed": ("GET", "/api/v1/supervision/failed-notifications", None, supervisors_only(200)),
    "reject": (
        "POST",
        "/api/v1/supervision/cases/{case}/reject",
        {"reason": "不属于小区事项"},
        supervisors_only(200),
    ),
    "dispatch open": (
        "POST",
        "/api/v1/supervision/cases/{case}/dispatch",
        {"category": "fire_lane_blocked"},
        supervisors_only(409),
    ),
    "merge": (
        "POST",
        "/api/v1/supervision/cases/{case}/merge",
        {"into": "OTHER_CASE"},
        supervisors_only(200),
    ),
}


@pytest.fixture
def world(client: Any, services: Any) -> dict[str, Any]:
    services.clock = FixedClock(datetime(2025, 6, 10, 2, 0, tzinfo=UTC))
    headers: dict[str, dict[str, str]] = {
        "anon": {},
        "reporter": login(client, "m-reporter"),
        "stranger": login(client, "m-stranger"),
        "primary": make_staff(client, services, "综合执法局", "handler", "m-primary"),
        "head": make_staff(client, services, "综合执法局", "head", "m-head"),
        "co": make_staff(client, services, "住建局", "handler", "m-co"),
        "township": make_staff(client, services, "杨和镇", "handler", "m-town"),
        "other": make_staff(client, services, "公安局", "handler", "m-other"),
        "supervisor": make_staff(client, services, "住建局", "supervisor", "m-sup"),
        "admin": make_staff(client, services, "住建局", "admin", "m-admin"),
    }
    return {"headers": headers, "community": community_id(client)}


def test_every_role_against_every_endpoint(client: Any, services: Any, world: dict[str, Any]) -> None:
    failures = []
    filed = 0

    def new_case() -> dict[str, Any]:
        nonlocal filed
        filed += 1
        if filed % 15 == 0:
            services.clock.advance(days=1)  # the reporter's daily limit
        return file_case(client, world["headers"]["reporter"])

    for name, (method, template, body, expected) in MATRIX.items():
        for role in ROLES:
            headers = world["headers"][role]
            case = new_case() if "{case}" in template else None
            path = template.format(case=case["id"] if case else "", community=world["community"])
            payload: Any = body
            if body == "CASE_BODY":
                payload = {
                    "category": "dog_unleashed",
                    "community_id": world["community"],
                    "description": "矩阵测试的工单",
                }
            elif isinstance(body, dict):
                payload = dict(body)
                if payload.get("photo_ids") == ["PHOTO"]:
                    payload["photo_ids"] = [upload_photo(client, headers)["id"]] if headers else []
                if payload.get("into") == "OTHER_CASE":
                    payload["into"] = new_case()["id"]
            call: Callable[..., Any] = client.get if method == "GET" else client.post
            kwargs = {"headers": headers}
            if method == "POST":
                kwargs["json"] = payload
            answer = call(path, **kwargs)
            if answer.status_code != expected[role]:
                failures.append(f"{name} as {role}: {answer.status_code}, expected {expected[role]}")
            if answer.status_code >= 400:
                error = answer.get_json()["error"]
                assert error["code"] and error["message"], (name, role)
    assert not failures, "\n".join(failures)


def test_staff_never_see_the_reporters_openid_and_an_anonymous_reporter_reaches_no_one(
    client: Any, services: Any, world: dict[str, Any]
) -> None:
    from app.models import User
    from tests.helpers import user_id

    reporter = world["headers"]["reporter"]
    with services.db.uow() as uow:
        openid = uow.session.get(User, user_id(client, reporter)).openid  # type: ignore[union-attr]
    case = file_case(client, reporter, anonymous=True)
    for role in ("primary", "co", "township", "supervisor", "admin"):
        text = client.get(f"/api/v1/cases/{case['id']}", headers=world["headers"][role]).get_data(
            as_text=True
        )
        assert openid not in text
        timeline = client.get(f"/api/v1/cases/{case['id']}", headers=world["headers"][role]).get_json()[
            "timeline"
        ]
        assert timeline[0]["by"] == "匿名居民"
    queue = client.get("/api/v1/staff/cases", headers=world["headers"]["primary"]).get_data(as_text=True)
    assert openid not in queue
    named = file_case(client, reporter)
    seen = client.get(f"/api/v1/cases/{named['id']}", headers=world["headers"]["primary"]).get_json()
    assert seen["timeline"][0]["by"] == "居民"


def test_a_department_never_sees_another_departments_cases(client: Any, world: dict[str, Any]) -> None:
    file_case(client, world["headers"]["reporter"])
    other = client.get("/api/v1/staff/cases", headers=world["headers"]["other"]).get_json()
    assert other["total"] == 0
    mine = client.get("/api/v1/staff/cases", headers=world["headers"]["primary"]).get_json()
    assert mine["total"] == 1
