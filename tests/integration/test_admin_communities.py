"""Admins keep the county's communities over HTTP: the shipped sample imports,
a bad row refuses the whole file naming every row, edits and company
assignments keep their history, and every change is recorded."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.models import Base, PropertyCompany
from app.settings import ROOT
from tests.helpers import login, make_staff

SAMPLE = ROOT / "docs" / "samples" / "communities-sample.xlsx"
HEADER = ["小区名称", "乡镇(街道)", "地址", "物业公司", "纬度", "经度"]


@pytest.fixture
def admin(client: Any, services: Any) -> dict[str, str]:
    return make_staff(client, services, "住建局", "admin", "county-admin")


def _xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)  # type: ignore[union-attr]
    for row in rows:
        sheet.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(client: Any, headers: dict[str, str], data: bytes, name: str = "小区.xlsx") -> Any:
    return client.post(
        "/api/v1/admin/communities/import",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _rows(services: Any) -> dict[str, int]:
    with services.db.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def _all(client: Any, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    return client.get(  # type: ignore[no-any-return]
        "/api/v1/admin/communities", query_string={"per_page": 100, **query}, headers=headers
    ).get_json()["items"]


def test_the_sample_file_imports_fifty_communities_across_the_seven_townships(
    client: Any, admin: dict[str, str]
) -> None:
    first = _import(client, admin, SAMPLE.read_bytes())
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"created": 50, "updated": 0, "errors": []}
    listed = _all(client, admin)
    assert len(listed) == 58  # the eight demo communities and the sample's fifty
    assert len(Counter(c["township"] for c in listed)) == 7
    one = next(c for c in listed if c["name"] == "和平小区")
    assert one["township"] == "李俊镇" and one["lat"] == 38.2 and one["property_company"]["name"]
    # The same file again changes nothing.
    assert _import(client, admin, SAMPLE.read_bytes()).get_json() == {
        "created": 0,
        "updated": 0,
        "errors": [],
    }
    # Residents find them at once.
    assert client.get("/api/v1/communities", query_string={"q": "和平小区"}).get_json()["items"]

    exported = client.get("/api/v1/admin/communities.xlsx", headers=admin)
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    values = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert list(values[0]) == HEADER and len(values) == 59
    # What was exported imports back as it is.
    assert _import(client, admin, exported.data).get_json() == {"created": 0, "updated": 0, "errors": []}


def test_a_bad_row_refuses_the_whole_file_and_names_every_row(
    client: Any, services: Any, admin: dict[str, str]
) -> None:
    before = _rows(services)
    answer = _import(
        client,
        admin,
        _xlsx(
            [
                ["新建小区一", "李俊镇", "建设路1号", "宁苑物业服务有限公司", 38.3, 106.2],
                ["新建小区二", "不存在镇", "", "", None, None],
                ["新建小区一", "李俊镇", "", "", None, None],
                ["", "望洪镇", "", "", None, None],
                ["新建小区三", "望洪镇", "", "无名物业", "北纬", 106.2],
                ["新建小区四", "杨和镇", "", "", 38.3, None],
            ]
        ),
    )
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["created"] == 0 and body["updated"] == 0 and body["error"]["code"] == "import_invalid"
    rows = {e["row"] for e in body["errors"]}
    assert rows == {3, 4, 5, 6, 7}
    said = {e["row"]: e["message"] for e in body["errors"]}
    assert "不存在镇" in said[3] and "第2行" in said[4] and "缺少小区名称" in said[5]
    row6 = [e["message"] for e in body["errors"] if e["row"] == 6]
    assert any("北纬" in m for m in row6) and any("无名物业" in m for m in row6)
    assert body["error"]["message"].startswith("导入失败") and "第3行" in body["error"]["message"]
    assert "纬度和经度" in said[7]
    assert _rows(services) == before


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (["小区名称", "地址"], "缺少列“乡镇(街道)”"),
        ([*HEADER, "备注"], "不认识的列“备注”"),
    ],
)
def test_a_sheet_with_the_wrong_columns_is_refused(
    client: Any, services: Any, admin: dict[str, str], header: list[str], problem: str
) -> None:
    before = _rows(services)
    answer = _import(client, admin, _xlsx([["甲小区", "李俊镇", "", "", None, None, ""]], header))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["row"] == 1 and answer.get_json()["errors"][0][
        "message"
    ].startswith(problem)
    assert _rows(services) == before


def test_not_a_spreadsheet_is_refused(client: Any, services: Any, admin: dict[str, str]) -> None:
    import zipfile

    before = _rows(services)
    answer = _import(client, admin, b"name,township\n", "小区.csv")
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "not_xlsx"
    # A small file that unpacks to gigabytes is refused before it is read.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (120 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024
    refused = _import(client, admin, bomb.getvalue())
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "not_xlsx"
    assert _rows(services) == before


def test_create_edit_and_assign_with_history_and_a_record_of_each_change(
    client: Any, services: Any, admin: dict[str, str]
) -> None:
    made = client.post(
        "/api/v1/admin/communities",
        json={
            "name": "新月家园",
            "township": "闽宁镇",
            "address": "闽宁镇新月路8号",
            "lat": 38.25,
            "lng": 106.1,
        },
        headers=admin,
    )
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    twice = client.post(
        "/api/v1/admin/communities", json={"name": "新月家园", "township": "闽宁镇"}, headers=admin
    )
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "duplicate_community"
    moved = client.patch(
        f"/api/v1/admin/communities/{cid}",
        json={"township": "望远镇", "lat": None, "lng": None},
        headers=admin,
    )
    assert moved.status_code == 200 and moved.get_json()["township"] == "望远镇"
    assert moved.get_json()["lat"] is None and moved.get_json()["address"] == "闽宁镇新月路8号"
    for company in ("宁苑物业服务有限公司", "河畔物业管理有限公司"):
        done = client.put(
            f"/api/v1/admin/communities/{cid}/company", json={"company": company}, headers=admin
        )
        assert done.status_code == 200 and done.get_json()["property_company"]["name"] == company
    detail = client.get(f"/api/v1/admin/communities/{cid}", headers=admin).get_json()
    terms = detail["companies"]
    assert [t["company"] for t in terms] == ["宁苑物业服务有限公司", "河畔物业管理有限公司"]
    assert terms[0]["ended_at"] and terms[1]["ended_at"] is None

    changes = client.get(
        "/api/v1/admin/changes", query_string={"entity_id": str(cid)}, headers=admin
    ).get_json()
    kinds = [(c["entity"], c["action"]) for c in changes["items"]]
    assert kinds == [
        ("assignment", "assign"),
        ("assignment", "assign"),
        ("community", "edit"),
        ("community", "create"),
    ]
    edit = changes["items"][2]
    assert edit["before"]["township"] == "闽宁镇" and edit["after"]["township"] == "望远镇"
    assert edit["by"].startswith("住建局") and edit["at"]
    assert changes["items"][0]["before"]["company"] == "宁苑物业服务有限公司"


def test_a_blacklisted_company_takes_no_community(client: Any, services: Any, admin: dict[str, str]) -> None:
    with services.db.uow() as uow:
        company = uow.session.scalar(
            select(PropertyCompany).where(PropertyCompany.name == "安泰物业服务有限公司")
        )
        assert company is not None
        company.blacklisted_at = services.clock.now()
        uow.commit()
    cid = _all(client, admin, q="幸福里小区")[0]["id"]
    before = _rows(services)
    refused = client.put(
        f"/api/v1/admin/communities/{cid}/company", json={"company": "安泰物业服务有限公司"}, headers=admin
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "company_blacklisted"
    assert "黑名单" in refused.get_json()["error"]["message"]
    created = client.post(
        "/api/v1/admin/communities",
        json={"name": "黑名单试验小区", "township": "李俊镇", "property_company": "安泰物业服务有限公司"},
        headers=admin,
    )
    assert created.status_code == 409
    imported = _import(
        client, admin, _xlsx([["黑名单试验小区", "李俊镇", "", "安泰物业服务有限公司", None, None]])
    )
    assert imported.status_code == 422 and "黑名单" in imported.get_json()["errors"][0]["message"]
    cli = client.application.test_cli_runner().invoke(
        args=["property", "assign", "--company", "安泰物业服务有限公司", "--community", "幸福里小区"]
    )
    assert cli.exit_code == 1 and "黑名单" in cli.output
    assert _rows(services) == before
    # The communities it already serves keep it: an import naming it there changes nothing.
    served = _all(client, admin, q="胜景家园")[0]
    same = _import(client, admin, _xlsx([["胜景家园", "胜利乡", "", "安泰物业服务有限公司", None, None]]))
    assert same.status_code == 200 and served["property_company"]["blacklisted"] is True


def test_only_admins_keep_communities(client: Any, services: Any) -> None:
    supervisor = make_staff(client, services, "住建局", "supervisor", "not-admin")
    resident = login(client, "plain")
    for headers, status in ((supervisor, 403), (resident, 403), ({}, 401)):
        assert client.get("/api/v1/admin/communities", headers=headers).status_code == status
        assert client.get("/api/v1/admin/communities.xlsx", headers=headers).status_code == status
        assert _import(client, headers, SAMPLE.read_bytes()).status_code == status


def test_the_export_holds_whatever_was_typed(client: Any, services: Any, admin: dict[str, str]) -> None:
    """A name typed with a control character (a bell, say) or starting like a
    formula still exports: the character is dropped, the formula stays text."""
    from io import BytesIO

    from openpyxl import load_workbook

    township = "杨和镇"
    for name in ("铃声\x07小区", '=HYPERLINK("http://evil.example")'):
        made = client.post(
            "/api/v1/admin/communities", json={"name": name, "township": township}, headers=admin
        )
        assert made.status_code == 201, made.get_json()
    exported = client.get("/api/v1/admin/communities.xlsx", headers=admin)
    assert exported.status_code == 200
    sheet = load_workbook(BytesIO(exported.data)).active
    assert sheet is not None
    names = {row[0].value: row[0] for row in sheet.iter_rows(min_row=2)}
    assert "铃声小区" in names
    formula = names['=HYPERLINK("http://evil.example")']
    assert formula.data_type == "s"
