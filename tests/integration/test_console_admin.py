"""The console's admin pages over HTTP (communities, staff, the
responsibility list's versions, the change record) and referral on the case
page: who may open them, CSRF, each form's success and refusal, on the same
handlers and rules as the admin API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.models import Community, PropertyCompany, RoutingVersion, User
from app.settings import ROOT
from tests.console_helpers import console_login, csrf
from tests.helpers import file_case, login, make_staff, user_id
from tests.integration.test_routing_versions import document

SAMPLE = ROOT / "docs" / "samples" / "communities-sample.xlsx"
HEADER = ["小区名称", "乡镇(街道)", "地址", "物业公司", "纬度", "经度"]
ADMIN_PAGES = ("/console/communities", "/console/staff", "/console/routing", "/console/changes")


@pytest.fixture
def people(client: Any, services: Any) -> dict[str, dict[str, str]]:
    return {
        "resident": login(client, "adm-res"),
        "law": make_staff(client, services, "综合执法局", "handler", "adm-law"),
        "head": make_staff(client, services, "综合执法局", "head", "adm-head"),
        "supervisor": make_staff(client, services, "住建局", "supervisor", "adm-sup"),
        "admin": make_staff(client, services, "住建局", "admin", "adm-admin"),
    }


def _as(app: Any, headers: dict[str, str]) -> Any:
    browser = app.test_client()
    assert console_login(browser, headers).status_code == 303
    return browser


def _token(browser: Any, path: str = "/console/communities") -> str:
    return csrf(browser.get(path).get_data(as_text=True))


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)  # type: ignore[union-attr]
    for row in rows:
        sheet.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count(services: Any, model: Any) -> int:
    with services.db.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_supervisor_and_a_head_are_refused_the_admin_pages(app: Any, people: dict[str, Any]) -> None:
    for who in ("supervisor", "head"):
        browser = _as(app, people[who])
        nav = browser.get("/console/cases").get_data(as_text=True)
        assert "小区管理" not in nav and "待上线" not in nav, who
        for path in (*ADMIN_PAGES, "/console/communities.xlsx", "/console/routing/publish"):
            page = browser.get(path)
            assert page.status_code == 403 and "没有权限" in page.get_data(as_text=True), (who, path)
        token = _token(browser, "/console/cases")
        posted = browser.post(
            "/console/staff/invites", data={"csrf": token, "department": "住建局", "role": "admin"}
        )
        assert posted.status_code == 403, who
    admin = _as(app, people["admin"])
    nav = admin.get("/console/overdue").get_data(as_text=True)
    assert "待上线" not in nav
    for path in ADMIN_PAGES:
        assert f'href="{path}"' in nav and admin.get(path).status_code == 200, path


def test_a_form_without_its_token_changes_nothing(app: Any, services: Any, people: dict[str, Any]) -> None:
    admin = _as(app, people["admin"])
    before = _count(services, Community)
    for path, data in (
        ("/console/communities", {"name": "无令牌小区", "township": "李俊镇"}),
        ("/console/staff/invites", {"department": "住建局", "role": "handler"}),
        ("/console/routing/publish", {"document": document("2026.9"), "note": "无令牌"}),
    ):
        refused = admin.post(path, data=data)
        assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True), path
        forged = admin.post(path, data=data | {"csrf": "0" * 64})
        assert forged.status_code == 400, path
    assert _count(services, Community) == before
    assert _count(services, RoutingVersion) == 1


def test_communities_are_searched_created_edited_and_refused_a_blacklisted_company(
    app: Any, services: Any, people: dict[str, Any]
) -> None:
    admin = _as(app, people["admin"])
    listed = admin.get("/console/communities?q=幸福").get_data(as_text=True)
    assert "幸福里小区" in listed and "康宁苑" not in listed
    assert admin.get("/console/communities?per_page=500").status_code == 422
    assert admin.get("/console/communities?township=火星镇").status_code == 422
    token = _token(admin)
    created = admin.post(
        "/console/communities",
        data={
            "csrf": token,
            "name": "测试新村",
            "township": "李俊镇",
            "address": "建设路 8 号",
            "lat": "",
            "lng": "",
        },
    )
    assert created.status_code == 303 and created.headers["Location"].endswith("ok=community_created")
    page = admin.get(created.headers["Location"]).get_data(as_text=True)
    assert "已新增小区" in page and "测试新村" in page
    cid = int(created.headers["Location"].split("/")[-1].split("?")[0])
    duplicate = admin.post(
        "/console/communities",
        data={"csrf": token, "name": "测试新村", "township": "李俊镇", "address": "建设路 9 号"},
    )
    refused = duplicate.get_data(as_text=True)
    assert duplicate.status_code == 409 and "已有名为“测试新村”的小区" in refused
    # What was typed stays in the form, to be corrected rather than typed again.
    assert 'value="建设路 9 号"' in refused and "<option selected>李俊镇</option>" in refused
    half = admin.post(
        f"/console/communities/{cid}",
        data={"csrf": token, "name": "测试新村", "township": "李俊镇", "lat": "38.5", "lng": ""},
    )
    assert half.status_code == 422 and "纬度和经度需要同时提供" in half.get_data(as_text=True)
    edited = admin.post(
        f"/console/communities/{cid}",
        data={
            "csrf": token,
            "name": "测试新村",
            "township": "望远镇",
            "address": "",
            "lat": "38.5",
            "lng": "106.2",
        },
    )
    assert edited.status_code == 303
    with services.db.uow() as uow:
        row = uow.session.get(Community, cid)
        assert row is not None and row.township.name == "望远镇" and row.lat == 38.5
        company = uow.session.scalar(
            select(PropertyCompany).where(PropertyCompany.name == "安泰物业服务有限公司")
        )
        assert company is not None
        company.blacklisted_at = services.clock.now()
        uow.commit()
    refused = admin.post(
        f"/console/communities/{cid}/company", data={"csrf": token, "company": "安泰物业服务有限公司"}
    )
    assert refused.status_code == 409 and "黑名单" in refused.get_data(as_text=True)
    assigned = admin.post(
        f"/console/communities/{cid}/company", data={"csrf": token, "company": "宁苑物业服务有限公司"}
    )
    assert assigned.status_code == 303
    page = admin.get(f"/console/communities/{cid}").get_data(as_text=True)
    assert "宁苑物业服务有限公司" in page and "至今" in page
    changes = admin.get("/console/changes?entity=community").get_data(as_text=True)
    assert "测试新村" in changes and "望远镇" in changes
    assert admin.get("/console/changes?entity=nope").status_code == 422


def test_an_import_shows_each_rows_problem_or_its_summary_and_the_export_reads_back(
    app: Any, services: Any, people: dict[str, Any]
) -> None:
    admin = _as(app, people["admin"])
    token = _token(admin)
    before = _count(services, Community)
    bad = _xlsx([["坏行小区", "火星镇", "", "", None, None], ["", "李俊镇", "", "", None, None]])
    refused = admin.post(
        "/console/communities/import",
        data={"csrf": token, "file": (io.BytesIO(bad), "小区.xlsx")},
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "没有导入任何一行" in page
    assert "第 2 行" in page and "第 3 行" in page and "火星镇" in page
    assert _count(services, Community) == before
    garbage = admin.post(
        "/console/communities/import",
        data={"csrf": token, "file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert garbage.status_code == 422 and "不是有效的 Excel 表格" in garbage.get_data(as_text=True)
    accepted = admin.post(
        "/console/communities/import",
        data={"csrf": token, "file": (io.BytesIO(SAMPLE.read_bytes()), "sample.xlsx")},
        content_type="multipart/form-data",
    )
    assert accepted.status_code == 303  # on to the list: a reload does not send the file again
    summary = admin.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "导入完成" in summary
    total = _count(services, Community)
    assert total > before and f"新增 {total - before} 个小区" in summary
    export = admin.get("/console/communities.xlsx")
    assert export.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) - 1 == total


def test_staff_are_invited_given_a_wecom_id_and_revoked_after_a_confirm_step(
    app: Any, client: Any, services: Any, people: dict[str, Any]
) -> None:
    admin = _as(app, people["admin"])
    token = _token(admin, "/console/staff")
    listed = admin.get("/console/staff?department=综合执法局").get_data(as_text=True)
    law_id = user_id(client, people["law"])
    assert (
        f'data-staff="{law_id}"' in listed
        and f'data-staff="{user_id(client, people["admin"])}"' not in listed
    )
    assert admin.get("/console/staff?role=boss").status_code == 422
    wrong = admin.post(
        "/console/staff/invites", data={"csrf": token, "department": "不存在局", "role": "handler"}
    )
    assert wrong.status_code == 404 and "找不到部门" in wrong.get_data(as_text=True)
    issued = admin.post(
        "/console/staff/invites",
        data={"csrf": token, "department": "公安局", "role": "handler", "hours": "24"},
    )
    page = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "只显示这一次" in page and "<svg" in page
    code = page.split('id="invite-code">')[1].split("<")[0]
    newcomer = login(client, "adm-newcomer")
    bound = client.post("/api/v1/auth/bind-staff", json={"binding_code": code}, headers=newcomer)
    assert bound.status_code == 200 and bound.get_json()["user"]["department"]["name"] == "公安局"
    assert "已绑定（用户" in admin.get("/console/staff").get_data(as_text=True)
    bad_id = admin.post(f"/console/staff/{law_id}/wecom", data={"csrf": token, "wecom_id": "张 三"})
    assert bad_id.status_code == 422
    saved = admin.post(f"/console/staff/{law_id}/wecom", data={"csrf": token, "wecom_id": "zhangsan"})
    assert saved.status_code == 303 and 'value="zhangsan"' in admin.get("/console/staff").get_data(
        as_text=True
    )
    confirm = admin.get(f"/console/staff/{law_id}/revoke").get_data(as_text=True)
    assert "确定撤销" in confirm and "综合执法局" in confirm
    with services.db.uow() as uow:
        assert uow.session.get(User, law_id).role == "handler"  # type: ignore[union-attr]
    revoked = admin.post(f"/console/staff/{law_id}/revoke", data={"csrf": token})
    assert revoked.status_code == 303 and revoked.headers["Location"].endswith("ok=revoked")
    after = admin.get(revoked.headers["Location"]).get_data(as_text=True)
    assert f'data-staff="{law_id}"' not in after and "撤销身份" in after
    again = admin.post(f"/console/staff/{law_id}/revoke", data={"csrf": token})
    assert again.status_code == 409 and "不是工作人员" in again.get_data(as_text=True)
    me = user_id(client, people["admin"])
    self_revoke = admin.post(f"/console/staff/{me}/revoke", data={"csrf": token})
    assert self_revoke.status_code == 409 and "不能撤销自己" in self_revoke.get_data(as_text=True)


def test_a_version_is_published_diffed_and_a_broken_one_refused_naming_every_problem(
    app: Any, services: Any, people: dict[str, Any]
) -> None:
    admin = _as(app, people["admin"])
    form = admin.get("/console/routing/publish").get_data(as_text=True)
    assert "version: " in form and "2023.1" in form
    token = csrf(form)
    broken = document("2026.3", departments=[], categories=[])
    refused = admin.post("/console/routing/publish", data={"csrf": token, "document": broken, "note": "坏的"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "均未发布" in page
    listed = page.split('id="publish-problems"')[1].split("</ol>")[0]
    assert listed.count("<li>") >= 2 and listed.count("<li>") == int(
        listed.split("责任清单有 ")[1].split(" ")[0]
    )
    assert "坏的" in page  # the form keeps what was typed
    no_note = admin.post("/console/routing/publish", data={"csrf": token, "document": document("2026.3")})
    assert no_note.status_code == 422
    past = admin.post(
        "/console/routing/publish",
        data={"csrf": token, "document": document("2026.3"), "note": "x", "effective_from": "2000-01-01"},
    )
    assert past.status_code == 422 and "不能早于" in past.get_data(as_text=True)
    assert _count(services, RoutingVersion) == 1
    published = admin.post(
        "/console/routing/publish",
        data={"csrf": token, "document": document("2026.3"), "note": "遛狗类别改由公安局牵头"},
    )
    assert (
        published.status_code == 303
        and published.headers["Location"] == "/console/routing/versions/2026.3?ok=published"
    )
    shown = admin.get(published.headers["Location"]).get_data(as_text=True)
    assert "已发布责任清单新版本" in shown and 'id="against">2023.1<' in shown
    assert (
        "责任清单条目" in shown and "dirt-5" in shown and "<del>综合执法局</del> → <ins>公安局</ins>" in shown
    )
    assert "办结时限" in shown and "修改" in shown
    versions = admin.get("/console/routing").get_data(as_text=True)
    assert "2026.3" in versions and "遛狗类别改由公安局牵头" in versions and "正在生效" in versions
    first = admin.get("/console/routing/versions/2023.1").get_data(as_text=True)
    assert "第一个版本" in first
    against = admin.get("/console/routing/versions/2023.1?against=2026.3").get_data(as_text=True)
    assert "<del>公安局</del> → <ins>综合执法局</ins>" in against
    assert admin.get("/console/routing/versions/2023.1?against=9.9").status_code == 404
    assert admin.get("/console/routing/versions/<x>").status_code in (404, 422)
    again = admin.post(
        "/console/routing/publish", data={"csrf": token, "document": document("2026.3"), "note": "再来"}
    )
    assert again.status_code == 409 and "已发布过" in again.get_data(as_text=True)
    assert "责任清单版本" in admin.get("/console/changes?entity=routing_version").get_data(as_text=True)


def test_a_supervisor_refers_a_case_and_both_timelines_link_the_other(
    app: Any, client: Any, people: dict[str, Any]
) -> None:
    case = file_case(client, people["resident"])
    head = _as(app, people["head"])
    assert 'id="refer"' in head.get(f"/console/cases/{case['id']}").get_data(as_text=True)
    sup = _as(app, people["supervisor"])
    page = sup.get(f"/console/cases/{case['id']}").get_data(as_text=True)
    assert 'id="refer"' in page and '<option value="公安局">公安局</option>' in page
    assert '<option value="综合执法局">' not in page  # the department leading it is not offered
    token = csrf(page)
    to_self = sup.post(
        f"/console/cases/{case['id']}/refer",
        data={"csrf": token, "department": "综合执法局", "reason": "移交给自己"},
    )
    assert to_self.status_code == 422 and "无需移交" in to_self.get_data(as_text=True)
    short = sup.post(
        f"/console/cases/{case['id']}/refer", data={"csrf": token, "department": "公安局", "reason": "x"}
    )
    assert short.status_code == 422
    referred = sup.post(
        f"/console/cases/{case['id']}/refer",
        data={"csrf": token, "department": "公安局", "reason": "饲养烈性犬伤人，涉嫌违法"},
    )
    assert referred.status_code == 303 and referred.headers["Location"].endswith("ok=refer")
    old = client.get(f"/api/v1/cases/{case['id']}", headers=people["supervisor"]).get_json()
    (link,) = old["referred_to"]
    page = sup.get(referred.headers["Location"]).get_data(as_text=True)
    assert (
        "已移交" in page
        and f'<a href="/console/cases/{link["id"]}" class="case-link">{link["number"]}</a>' in page
    )
    new_page = sup.get(f"/console/cases/{link['id']}").get_data(as_text=True)
    assert f'<a href="/console/cases/{case["id"]}" class="case-link">{case["number"]}</a>' in new_page
    assert "移交自" in new_page
    assert f'<option value="公安局">公安局（已移交 {link["number"]}）</option>' in page
    twice = sup.post(
        f"/console/cases/{case['id']}/refer",
        data={"csrf": token, "department": "公安局", "reason": "再移交一次"},
    )
    assert twice.status_code == 409 and "尚未办结" in twice.get_data(as_text=True)
