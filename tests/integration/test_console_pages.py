"""The console's pages over HTTP (the browser tests drive the same pages in
Chromium): who sees what, bad input answered with a page, steps that fail
change nothing, the retry of a failed notification."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from app.clock import Clock
from handlers.notifications.sender import send_due
from handlers.supervision.escalation import sweep
from tests.console_helpers import console_login, csrf
from tests.helpers import file_case, login, make_staff


@pytest.fixture
def people(client: Any, services: Any) -> dict[str, dict[str, str]]:
    return {
        "resident": login(client, "res"),
        "law": make_staff(client, services, "综合执法局", "handler", "law"),
        "head": make_staff(client, services, "综合执法局", "head", "head"),
        "supervisor": make_staff(client, services, "住建局", "supervisor", "sup"),
    }


def _as(app: Any, headers: dict[str, str]) -> Any:
    browser = app.test_client()
    assert console_login(browser, headers).status_code == 303
    return browser


def test_a_head_sees_the_departments_cases_and_no_supervisors_page(
    app: Any, client: Any, people: dict[str, Any]
) -> None:
    ours = file_case(client, people["resident"])
    theirs = file_case(
        client, people["resident"], category="owner_data_leaked", description="物业泄露业主电话号码"
    )
    head = _as(app, people["head"])
    listed = head.get("/console/cases").get_data(as_text=True)
    assert ours["number"] in listed and theirs["number"] not in listed
    assert head.get(f"/console/cases/{theirs['id']}").status_code == 404
    assert "在小程序中办理" in head.get(f"/console/cases/{ours['id']}").get_data(as_text=True)
    for path in ("/console/stats", "/console/extensions", "/console/property", "/console/overdue.xlsx"):
        page = head.get(path)
        assert page.status_code == 403 and "没有权限" in page.get_data(as_text=True), path
    assert head.get("/console/overdue").headers["Location"] == "/console/cases?overdue=1"
    refused = head.post(f"/console/cases/{ours['id']}/reject", data={"csrf": _token(head), "reason": "重复"})
    assert refused.status_code == 403 and "仅督办人员" in refused.get_data(as_text=True)
    sup = _as(app, people["supervisor"])
    assert theirs["number"] in sup.get("/console/cases").get_data(as_text=True)


def _token(browser: Any) -> str:
    return csrf(browser.get("/console/cases").get_data(as_text=True))


def test_search_filters_and_bad_input(app: Any, client: Any, people: dict[str, Any]) -> None:
    dog = file_case(client, people["resident"])
    fire = file_case(
        client, people["resident"], category="fire_lane_blocked", description="消防通道被长期占用"
    )
    sup = _as(app, people["supervisor"])
    by_number = sup.get(f"/console/cases?q={dog['number'].lower()}").get_data(as_text=True)
    assert dog["number"] in by_number and fire["number"] not in by_number
    by_words = sup.get("/console/cases?q=消防通道&status=open").get_data(as_text=True)
    assert fire["number"] in by_words and dog["number"] not in by_words
    by_category = sup.get("/console/cases?category=dog_unleashed").get_data(as_text=True)
    assert dog["number"] in by_category and fire["number"] not in by_category
    assert "共 0 条" in sup.get("/console/cases?overdue=1").get_data(as_text=True)
    for query in (
        "page=abc",
        "page=0",
        "per_page=1000",
        "status=nope",
        "from=2026-13-01",
        "category=x",
        "overdue=2",
    ):
        page = sup.get(f"/console/cases?{query}")
        assert page.status_code == 422, query
        assert "<html" in page.get_data(as_text=True) and "error" not in page.content_type, query
    assert sup.get("/console/cases/abc").status_code == 422
    assert sup.get("/console/cases/99999").status_code == 404
    assert sup.get("/console/rankings?period=1999-01").status_code == 422
    assert sup.get("/console/nowhere").status_code == 404
    assert "找不到" in sup.get("/console/nowhere").get_data(as_text=True)


def test_a_step_that_fails_changes_nothing_and_says_why(
    app: Any, client: Any, people: dict[str, Any]
) -> None:
    case = file_case(client, people["resident"])
    other = file_case(client, people["resident"], description="同一只狗，每天早上也不拴绳")
    sup = _as(app, people["supervisor"])
    token = _token(sup)
    short = sup.post(f"/console/cases/{case['id']}/reject", data={"csrf": token, "reason": "x"})
    assert short.status_code == 422 and "原因至少需要 2 个字" in short.get_data(as_text=True)
    early = sup.post(
        f"/console/cases/{case['id']}/dispatch", data={"csrf": token, "category": "dog_unleashed"}
    )
    assert early.status_code == 409 and "不能派发" in early.get_data(as_text=True)
    missing = sup.post(f"/console/cases/{case['id']}/merge", data={"csrf": token, "into": "YN19990101-0001"})
    assert missing.status_code == 404
    after = client.get(f"/api/v1/cases/{case['id']}", headers=people["supervisor"]).get_json()
    assert after["status"] == "dispatched" and len(after["timeline"]) == 2
    merged = sup.post(f"/console/cases/{other['id']}/merge", data={"csrf": token, "into": case["number"]})
    assert merged.status_code == 303 and merged.headers["Location"].endswith("ok=merge")
    assert "已合并到目标工单" in sup.get(merged.headers["Location"]).get_data(as_text=True)
    assert (
        client.get(f"/api/v1/cases/{other['id']}", headers=people["supervisor"]).get_json()["status"]
        == "merged"
    )


def test_deny_an_extension_on_the_case_page_and_export_the_overdue_list(
    app: Any, client: Any, services: Any, people: dict[str, Any]
) -> None:
    case = file_case(client, people["resident"])
    services.clock = Clock(offset_seconds=3 * 24 * 3600)
    sweep(services.context())
    sup = _as(app, people["supervisor"])
    export = sup.get("/console/overdue.xlsx?department=综合执法局")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "工单编号" and [r[0] for r in rows[1:]] == [case["number"]]
    # An extension reaches at most a year ahead; a month is plenty.
    until = (services.clock.now() + timedelta(days=30)).date().isoformat()
    ask = {"reason": "需要联系犬主本人", "until": until}
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=people["law"]).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/staff/cases/{case['id']}/extension", json=ask, headers=people["law"]
        ).status_code
        == 201
    )
    page = sup.get(f"/console/cases/{case['id']}").get_data(as_text=True)
    assert "驳回延期" in page and "需要联系犬主本人" in page
    extension = client.get("/api/v1/supervision/extensions", headers=people["supervisor"]).get_json()[
        "items"
    ][0]
    empty = sup.post(
        f"/console/cases/{case['id']}/extension/deny",
        data={"csrf": csrf(page), "extension_id": str(extension["id"])},
    )
    assert empty.status_code == 422
    denied = sup.post(
        f"/console/cases/{case['id']}/extension/deny",
        data={"csrf": csrf(page), "extension_id": str(extension["id"]), "reason": "期限内可以办结"},
    )
    assert denied.status_code == 303
    assert (
        client.get("/api/v1/supervision/extensions?status=denied", headers=people["supervisor"]).get_json()[
            "total"
        ]
        == 1
    )
    bulletin = sup.get(f"/console/bulletins/{services.clock.now().astimezone(services.county.tz):%Y-%m}.xlsx")
    assert bulletin.status_code == 200 and bulletin.mimetype.endswith("spreadsheetml.sheet")


def test_a_failed_notification_is_sent_again(
    app: Any, client: Any, services: Any, people: dict[str, Any]
) -> None:
    file_case(client, people["resident"])
    send_due(services.context(), "test")
    listed = client.get("/api/v1/supervision/failed-notifications", headers=people["supervisor"]).get_json()
    first = listed["items"][0]
    assert first["status"] == "no_channel"
    retried = client.post(
        f"/api/v1/supervision/failed-notifications/{first['id']}/retry", json={}, headers=people["supervisor"]
    )
    assert retried.status_code == 200 and retried.get_json() == {"id": first["id"], "status": "pending"}
    again = client.post(
        f"/api/v1/supervision/failed-notifications/{first['id']}/retry", json={}, headers=people["supervisor"]
    )
    assert again.status_code == 409
    assert (
        client.post(
            f"/api/v1/supervision/failed-notifications/{first['id']}/retry", json={}, headers=people["head"]
        ).status_code
        == 403
    )
    sup = _as(app, people["supervisor"])
    second = listed["items"][1]["id"]
    answer = sup.post(f"/console/failed-notifications/{second}/retry", data={"csrf": _token(sup)})
    assert answer.status_code == 303
    left = client.get("/api/v1/supervision/failed-notifications", headers=people["supervisor"]).get_json()
    assert left["total"] == listed["total"] - 2
