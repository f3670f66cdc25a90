"""The console's admin pages in a real browser: an admin imports the sample
communities workbook, invites a staff member (who binds with the code shown),
publishes a new version of the responsibility list and reads its diff; a
supervisor refers a case and both timelines link the other."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.models import PropertyCompany
from app.settings import ROOT
from tests.browser.test_console import _logged_in
from tests.helpers import file_case, login, make_staff, user_id
from tests.integration.test_routing_versions import document

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SAMPLE = ROOT / "docs" / "samples" / "communities-sample.xlsx"


@pytest.fixture
def served(app: Any, services: Any, live: str) -> str:
    # Links name the server the browser talks to.
    app.extensions["settings"] = services.settings = services.settings.but(public_base_url=live)
    return live


@pytest.fixture
def admin_id(client: Any, services: Any, served: str) -> int:
    return user_id(client, make_staff(client, services, "住建局", "admin", "browser-county-admin"))


def test_an_admin_imports_communities_invites_staff_and_publishes_a_version(
    app: Any, client: Any, services: Any, browser: Any, live: str, admin_id: int, shot: Any
) -> None:
    page = _logged_in(app, browser, admin_id)
    _import_the_sample(page, live, shot)
    _edit_a_community(page, live, services, shot)
    _invite_a_staff_member(page, live, client, shot)
    _publish_and_read_the_diff(page, live, shot)


def _import_the_sample(page: Any, live: str, shot: Any) -> None:
    page.goto(f"{live}/console/communities")
    before = int(page.inner_text(".pager span").split()[1])
    page.set_input_files("#import-communities input[name=file]", str(SAMPLE))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("#import-summary")
    summary = page.inner_text("#import-summary")
    assert "导入完成" in summary
    after = int(page.inner_text(".pager span").split()[1])
    added = int(summary.split("新增 ")[1].split(" ")[0])
    assert added > 0 and after == before + added
    shot(page, "communities")
    page.select_option("select[name=township]", "闽宁镇")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**township=*")
    townships = page.locator("#communities tbody td:nth-child(2)").all_inner_texts()
    assert townships and set(townships) == {"闽宁镇"}


def _edit_a_community(page: Any, live: str, services: Any, shot: Any) -> None:
    page.goto(f"{live}/console/communities?q=幸福里")
    page.get_by_role("link", name="幸福里小区").click()
    page.wait_for_url("**/console/communities/*")
    with services.db.uow() as uow:
        company = uow.session.scalar(
            select(PropertyCompany).where(PropertyCompany.name == "安泰物业服务有限公司")
        )
        assert company is not None
        company.blacklisted_at = services.clock.now()
        uow.commit()
    page.fill("#assign-company input[name=company]", "安泰物业服务有限公司")
    page.get_by_role("button", name="指定").click()
    assert "黑名单" in page.inner_text(".error")
    shot(page, "community-refused")
    page.fill("#edit-community input[name=address]", "幸福路 1 号")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**ok=community_edited")
    assert page.input_value("#edit-community input[name=address]") == "幸福路 1 号"
    shot(page, "community")


def _invite_a_staff_member(page: Any, live: str, client: Any, shot: Any) -> None:
    page.goto(f"{live}/console/staff")
    page.select_option("#invite select[name=department]", "公安局")
    page.select_option("#invite select[name=role]", "handler")
    page.get_by_role("button", name="生成绑定码").click()
    page.wait_for_selector("#invite-issued")
    code = page.inner_text("#invite-code").strip()
    assert len(code.replace("-", "")) == 12 and page.locator("#invite-issued svg").is_visible()
    shot(page, "staff-invite")
    newcomer = login(client, "browser-newcomer")
    bound = requests.post(
        f"{live}/api/v1/auth/bind-staff", json={"binding_code": code}, headers=newcomer, timeout=10
    )
    assert bound.status_code == 200, bound.text
    newcomer_id = bound.json()["user"]["id"]
    page.goto(f"{live}/console/staff?department=公安局")
    row = page.locator(f"tr[data-staff='{newcomer_id}']")
    assert "承办人" in row.inner_text() and "已绑定" in page.inner_text("#invites")
    row.locator("input[name=wecom_id]").fill("gongan.li")
    row.get_by_role("button", name="保存").click()
    page.wait_for_url("**ok=wecom")
    page.locator(f"tr[data-staff='{newcomer_id}']").get_by_role("link", name="撤销身份").click()
    page.wait_for_url(f"**/console/staff/{newcomer_id}/revoke")
    shot(page, "staff-revoke")
    page.get_by_role("button", name="确定撤销").click()
    page.wait_for_url("**ok=revoked")
    assert page.locator(f"tr[data-staff='{newcomer_id}']").count() == 0
    shot(page, "staff")
    gone = requests.get(f"{live}/api/v1/staff/cases", headers=newcomer, timeout=10)
    assert gone.status_code == 403


def _publish_and_read_the_diff(page: Any, live: str, shot: Any) -> None:
    page.goto(f"{live}/console/routing")
    page.get_by_role("link", name="发布新版本").click()
    page.wait_for_url("**/console/routing/publish")
    assert 'version: "2023.1"' in page.input_value("textarea[name=document]")
    page.fill("textarea[name=document]", document("2026.5", departments=[]))
    page.fill("input[name=note]", "调整遛狗类别的主办部门")
    page.get_by_role("button", name="检查并发布").click()
    problems = page.locator("#publish-problems li").all_inner_texts()
    assert len(problems) >= 2 and "均未发布" in page.inner_text("#publish-problems")
    shot(page, "routing-refused")
    page.fill("textarea[name=document]", document("2026.5"))
    page.get_by_role("button", name="检查并发布").click()
    page.wait_for_url("**/console/routing/versions/2026.5?ok=published")
    diff = page.inner_text("#diff")
    assert "责任清单条目" in diff and "dirt-5" in diff and "公安局" in diff and "超时" in diff
    assert page.locator("table.diff tr.changed ins", has_text="公安局").count() >= 1
    shot(page, "routing-diff")
    page.goto(f"{live}/console/routing")
    versions = page.locator("#versions tbody tr td:first-child").all_inner_texts()
    assert versions[0].startswith("2026.5") and "正在生效" in versions[0] and versions[1] == "2023.1"
    shot(page, "routing")
    page.goto(f"{live}/console/changes")
    assert "责任清单版本" in page.inner_text("#changes") and "小区" in page.inner_text("#changes")
    shot(page, "changes")


def test_a_supervisor_refers_a_case(
    app: Any, client: Any, services: Any, browser: Any, served: str, shot: Any
) -> None:
    live = served
    resident = login(client, "browser-refer-res")
    supervisor = make_staff(client, services, "住建局", "supervisor", "browser-refer-sup")
    case = file_case(client, resident, description="楼下邻居饲养的烈性犬咬伤了路过的老人")
    page = _logged_in(app, browser, user_id(client, supervisor))
    page.goto(f"{live}/console/cases/{case['id']}")
    page.select_option("#refer select[name=department]", "公安局")
    page.fill("#refer input[name=reason]", "烈性犬伤人，涉嫌违法，请公安机关依法查处")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="移交").click()
    page.wait_for_url("**ok=refer")
    assert "已移交" in page.inner_text(".notice")
    link = page.locator("ol.timeline li.ev-referred a.case-link")
    new_number = link.inner_text()
    assert new_number != case["number"] and new_number in page.inner_text("dl.facts")
    shot(page, "case-referred")
    link.click()
    page.wait_for_url("**/console/cases/*")
    assert new_number in page.inner_text("h1") and "公安局" in page.inner_text("main")
    back = page.locator("ol.timeline li.ev-referred a.case-link")
    assert back.inner_text() == case["number"]
    shot(page, "case-referred-new")
    back.click()
    page.wait_for_url(f"**/console/cases/{case['id']}")
