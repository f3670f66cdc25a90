"""The PC console in a real browser: logging in by the one-time link and by
the QR code (confirmed through the API as the mini-program would), a
supervisor's day at the desk, and who is refused."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from handlers.accounts import revoke_staff
from tests.browser.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
DESK = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def world(app: Any, client: Any, services: Any, live: str) -> World:
    # Links and QR codes name the server the browser talks to.
    app.extensions["settings"] = services.settings = services.settings.but(public_base_url=live)
    return build_world(client, services)


def _link(app: Any, user_id: int) -> str:
    result = app.test_cli_runner().invoke(args=["console", "link", "--user", str(user_id)])
    assert result.exit_code == 0, result.output
    return str(result.output.strip().splitlines()[-1])


def _logged_in(app: Any, browser: Any, user_id: int) -> Any:
    """A fresh browser profile logged in by a one-time link."""
    page = browser.new_context(**DESK).new_page()
    page.goto(_link(app, user_id))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/*")
    return page


def _confirm(live: str, headers: dict[str, str], shown: str) -> requests.Response:
    """What the mini-program sends after wx.scanCode."""
    code = shown.replace("-", "").upper()
    return requests.post(f"{live}/api/v1/console/logins/{code}/confirm", json={}, headers=headers, timeout=10)


def test_log_in_by_the_one_time_link_and_by_the_qr_code(
    app: Any, browser: Any, live: str, world: World, shot: Any
) -> None:
    page = browser.new_context(**DESK).new_page()
    page.goto(_link(app, world.admin_id))
    assert "住建局 · 管理员" in page.inner_text("main")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live}/console/overdue")
    assert "管理员" in page.inner_text(".who")
    assert page.locator(".side a[href^='/console/'][data-nav]").all_inner_texts()[-4:] == [
        "小区管理",
        "工作人员",
        "责任清单",
        "变更记录",
    ]

    pc = browser.new_context(**DESK).new_page()
    pc.goto(f"{live}/console/login")
    assert pc.locator(".qr svg").is_visible()
    shown = pc.inner_text("#login-code")
    shot(pc, "login")
    assert _confirm(live, world.supervisor, shown).json() == {"status": "confirmed"}
    pc.wait_for_url(f"{live}/console/overdue", timeout=15_000)
    assert "住建局 · 督办人员" in pc.inner_text(".who")
    assert _confirm(live, world.supervisor, shown).status_code == 404  # once


def test_a_supervisors_day_at_the_desk(app: Any, browser: Any, live: str, world: World, shot: Any) -> None:
    page = _logged_in(app, browser, world.supervisor_id)
    _overdue_and_export(page, live, world, shot)
    _open_the_case_and_its_photos(page, world, shot)
    _approve_an_extension(page, live, world, shot)
    _redispatch_the_returned_case(page, live, world, shot)
    _search_cases(page, live, world, shot)
    _reports_and_bulletin(page, live, shot)
    _property_and_failed_notifications(page, live, shot)


def _overdue_and_export(page: Any, live: str, world: World, shot: Any) -> None:
    page.goto(f"{live}/console/overdue")
    page.select_option("select[name=department]", "综合执法局")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**department=*")
    numbers = page.locator("table.grid tbody td:first-child a").all_inner_texts()
    assert world.overdue["number"] in numbers and world.extended["number"] not in numbers
    assert "超期" in page.inner_text("table.grid tbody")
    assert "township=" not in page.url  # empty filters stay out of the shared URL
    shot(page, "overdue")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "工单编号" and world.overdue["number"] in [r[0] for r in rows[1:]]
    assert all(r[4] == "综合执法局" for r in rows[1:])


def _open_the_case_and_its_photos(page: Any, world: World, shot: Any) -> None:
    page.get_by_role("link", name=world.overdue["number"]).click()
    page.wait_for_url(f"**/console/cases/{world.overdue['id']}")
    page.wait_for_function(
        "() => { const s = [...document.querySelectorAll('.photos img')];"
        " return s.length === 2 && s.every(i => i.complete && i.naturalWidth > 0) }"
    )
    facts = page.inner_text("main")
    assert "3号楼东侧草坪" in facts and "38.472100" in facts and "主办" in facts and "属地" in facts
    assert "督办提醒" in page.inner_text("ol.timeline")
    shot(page, "case")
    page.locator(".photos a.photo").first.click()
    full = page.locator("#lightbox img")
    page.wait_for_function("() => document.querySelector('#lightbox img').naturalWidth > 0")
    assert full.evaluate("i => i.naturalWidth") == 1600
    shot(page, "case-photo")
    page.keyboard.press("Escape")


def _approve_an_extension(page: Any, live: str, world: World, shot: Any) -> None:
    page.goto(f"{live}/console/extensions")
    row = page.locator(f"tr:has-text('{world.extended['number']}')")
    assert "需要协调消防部门联合清理" in row.inner_text()
    shot(page, "extensions")
    row.locator("input[name=note]").fill("同意，请按期办结")
    row.get_by_role("button", name="批准").click()
    page.wait_for_url("**ok=approve")
    assert "已批准延期" in page.inner_text(".notice")
    case = requests.get(
        f"{live}/api/v1/cases/{world.extended['id']}", headers=world.supervisor, timeout=10
    ).json()
    assert case["resolve_due_at"] > world.extended["resolve_due_at"] and case["pending_extension"] is None
    assert case["timeline"][-1]["kind"] == "extension_approved"


def _redispatch_the_returned_case(page: Any, live: str, world: World, shot: Any) -> None:
    page.goto(f"{live}/console/cases/{world.returned['id']}")
    assert "已退回" in page.inner_text("h1")
    shot(page, "case-returned")
    page.select_option("select[name=category]", "irregular_contract")
    page.get_by_role("button", name="派发").click()
    page.wait_for_url("**ok=dispatch")
    assert "已重新派发" in page.inner_text(".notice") and "待签收" in page.inner_text("h1")
    assert page.locator("table.grid td", has_text="住建局").count() >= 1


def _search_cases(page: Any, live: str, world: World, shot: Any) -> None:
    page.goto(f"{live}/console/cases")
    page.keyboard.press("/")
    page.keyboard.type(world.overdue["number"])
    page.keyboard.press("Enter")
    page.wait_for_url("**q=*")
    assert page.locator("table.grid tbody tr").count() == 1
    page.goto(f"{live}/console/cases?q=汽油桶")
    assert world.extended["number"] in page.inner_text("table.grid")
    page.goto(f"{live}/console/cases")
    assert page.locator("table.grid tbody tr").count() == 4
    shot(page, "cases")


def _charts_drawn(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(c => c.querySelector('svg'))"
    )


def _reports_and_bulletin(page: Any, live: str, shot: Any) -> None:
    page.goto(f"{live}/console/stats")
    _charts_drawn(page)
    assert "综合执法局" in page.inner_text("table.grid")
    shot(page, "stats")
    page.goto(f"{live}/console/rankings")
    _charts_drawn(page)
    shot(page, "rankings")
    page.get_by_role("link", name="打印通报").click()
    page.wait_for_url("**/console/bulletins/*")
    assert "工作通报" in page.inner_text("article.sheet")
    shot(page, "bulletin")
    page.emulate_media(media="print")
    assert page.locator(".side").is_hidden() and page.locator(".toolbar").is_hidden()
    assert page.locator("article.sheet h1").is_visible()
    shot(page, "bulletin-print")
    page.emulate_media(media="screen")


def _property_and_failed_notifications(page: Any, live: str, shot: Any) -> None:
    page.goto(f"{live}/console/property")
    assert "宁苑物业服务有限公司" in page.inner_text("main")
    shot(page, "property")
    page.goto(f"{live}/console/failed-notifications")
    before = page.locator("table.grid tbody tr").count()
    assert before >= 1 and "无法送达" in page.inner_text("table.grid")
    shot(page, "failed-notifications")
    page.get_by_role("button", name="重新发送").first.click()
    page.wait_for_url("**ok=retry")
    assert page.locator("table.grid tbody tr").count() == before - 1


def test_a_resident_a_head_and_a_revoked_supervisor(
    app: Any, services: Any, client: Any, browser: Any, live: str, world: World, shot: Any
) -> None:
    pc = browser.new_context(**DESK).new_page()
    pc.goto(f"{live}/console/login")
    refused = _confirm(live, world.resident, pc.inner_text("#login-code"))
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "您的身份不能登录电脑端"
    pc.wait_for_timeout(2500)  # a poll or two: nothing happens
    assert pc.url == f"{live}/console/login" and "等待" in pc.inner_text("#login-state")
    pc.goto(f"{live}/console/cases")
    assert "/console/login" in pc.url

    head = _logged_in(app, browser, client_user_id(client, world.head))
    assert head.url.endswith("/console/cases")
    listed = head.inner_text("table.grid")
    assert world.overdue["number"] in listed and world.elsewhere["number"] not in listed
    shot(head, "head-cases")
    head.goto(f"{live}/console/cases/{world.elsewhere['id']}")
    assert "找不到该工单" in head.inner_text("main")
    head.goto(f"{live}/console/stats")
    assert "没有权限" in head.inner_text("main")

    page = _logged_in(app, browser, world.supervisor_id)
    assert "超期工单" in page.inner_text("h1")
    revoke_staff(services.context(), world.supervisor_id)
    page.reload()
    assert "/console/login" in page.url and "身份已变更" in page.inner_text("main")
    shot(page, "revoked")


def client_user_id(client: Any, headers: dict[str, str]) -> int:
    from tests.helpers import user_id

    return user_id(client, headers)
