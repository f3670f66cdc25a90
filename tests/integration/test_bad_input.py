"""Every field wrong in every way a client gets it wrong: a 4xx with a Chinese
message in ``{"error": {"code", "message"}}``, and the database unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Base
from tests.helpers import community_id, login, upload_photo

CJK = re.compile(r"[\u4e00-\u9fff]")


def _snapshot(services: Any) -> dict[str, int]:
    with services.db.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


GOOD = {
    "category": "dog_unleashed",
    "description": "小区里有人遛狗不拴绳",
    "location_text": "3号楼",
    "photo_ids": [],
}

# (name, mutation of the body; "COMMUNITY" is replaced by a real id)
CASES: list[tuple[str, dict[str, Any] | None, list[str]]] = [
    ("category missing", {"category": None}, []),
    ("category wrong type", {"category": 12}, []),
    ("category unknown", {"category": "ufo_sighting"}, []),
    ("category too long", {"category": "x" * 200}, []),
    ("category SQL", {"category": "dog_unleashed'; DROP TABLE cases;--"}, []),
    ("community missing", {"community_id": None}, []),
    ("community as text", {"community_id": "1"}, []),
    ("community unknown", {"community_id": 999999}, []),
    ("community negative", {"community_id": -1}, []),
    ("community huge", {"community_id": 10**20}, []),
    ("community float", {"community_id": 1.5}, []),
    ("description missing", {"description": None}, []),
    ("description too short", {"description": "狗"}, []),
    ("description only spaces", {"description": "      "}, []),
    ("description too long", {"description": "长" * 1001}, []),
    ("description wrong type", {"description": ["遛狗不拴绳很危险"]}, []),
    ("location too long", {"location_text": "楼" * 201}, []),
    ("location wrong type", {"location_text": 3}, []),
    ("lat out of range", {"lat": 91.0, "lng": 100.0}, []),
    ("lat without lng", {"lat": 38.0}, []),
    ("lat as text", {"lat": "north", "lng": 100.0}, []),
    ("photos not a list", {"photo_ids": "abc"}, []),
    ("too many photos", {"photo_ids": [f"p{i}" for i in range(10)]}, []),
    ("unknown photo", {"photo_ids": ["does-not-exist"]}, []),
    ("photo of someone else", {"photo_ids": ["THEIRS"]}, []),
    ("duplicate photo", {"photo_ids": ["MINE", "MINE"]}, []),
    ("photo id wrong type", {"photo_ids": [1, 2]}, []),
    ("anonymous wrong type", {"anonymous": "yes"}, []),
    ("unknown field", {"reporter_id": 1}, []),
    ("risky text", {"description": "这段文字里有违禁词"}, []),
]


@pytest.mark.parametrize(("name", "change", "_unused"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_case_body_is_refused_and_nothing_is_written(
    client: Any, services: Any, name: str, change: dict[str, Any], _unused: list[str]
) -> None:
    headers = login(client, "bad")
    mine = upload_photo(client, headers)["id"]
    theirs = upload_photo(client, login(client, "other"))["id"]
    body = dict(GOOD, community_id=community_id(client))
    for key, value in change.items():
        if value is None:
            body.pop(key, None)
        elif key == "photo_ids" and isinstance(value, list):
            body[key] = [mine if v == "MINE" else theirs if v == "THEIRS" else v for v in value]
        else:
            body[key] = value
    before = _snapshot(services)
    answer = client.post("/api/v1/cases", json=body, headers=headers)
    assert 400 <= answer.status_code < 500, (name, answer.status_code)
    error = answer.get_json()["error"]
    assert set(error) == {"code", "message"} and error["code"]
    assert CJK.search(error["message"]), error["message"]
    assert _snapshot(services) == before


RAW: list[tuple[str, bytes, str, int]] = [
    ("empty body", b"", "application/json", 400),
    ("broken JSON", b'{"category": "dog_unleashed",', "application/json", 400),
    ("JSON array", b"[1, 2]", "application/json", 400),
    ("JSON string", b'"hello"', "application/json", 400),
    ("form encoded", b"category=dog_unleashed", "application/x-www-form-urlencoded", 415),
    ("plain text", b"hello", "text/plain", 415),
    ("bad utf-8", b'{"description": "\xff\xfe"}', "application/json", 400),
]


@pytest.mark.parametrize(("name", "raw", "content_type", "status"), RAW, ids=[r[0] for r in RAW])
def test_a_malformed_request_is_refused(
    client: Any, services: Any, name: str, raw: bytes, content_type: str, status: int
) -> None:
    headers = login(client, "raw")
    before = _snapshot(services)
    answer = client.post("/api/v1/cases", data=raw, content_type=content_type, headers=headers)
    assert answer.status_code == status, name
    assert CJK.search(answer.get_json()["error"]["message"])
    assert _snapshot(services) == before


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script> 狗没有拴绳",
        "狗🐕没拴绳😡，太危险了！",
        "The dog 狗 собака कुत्ता is off the leash",
        "' OR 1=1; -- 遛狗不拴绳",
    ],
)
def test_script_sql_emoji_and_mixed_scripts_are_stored_as_plain_text(client: Any, text: str) -> None:
    headers = login(client, "text")
    body = dict(GOOD, community_id=community_id(client), description=text)
    answer = client.post("/api/v1/cases", json=body, headers=headers)
    assert answer.status_code == 201
    stored = client.get(f"/api/v1/cases/{answer.get_json()['id']}", headers=headers).get_json()
    assert stored["description"] == text
    assert json.loads(json.dumps(stored))["description"] == text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/wechat-login", {}),
        ("/api/v1/auth/wechat-login", {"code": ""}),
        ("/api/v1/auth/wechat-login", {"code": 123}),
        ("/api/v1/auth/bind-staff", {"binding_code": "NOPE-NOPE-NOPE"}),
        ("/api/v1/auth/bind-staff", {}),
    ],
)
def test_bad_auth_bodies_are_4xx(client: Any, path: str, body: dict[str, Any]) -> None:
    headers = login(client, "auth")
    answer = client.post(path, json=body, headers=headers)
    assert 400 <= answer.status_code < 500
    assert CJK.search(answer.get_json()["error"]["message"])


def test_bad_paging_and_unknown_ids_are_4xx(client: Any) -> None:
    headers = login(client, "paging")
    for query in (
        "page=0",
        "page=abc",
        "per_page=0",
        "per_page=1000",
        "page=-1",
        "page=%C2%B2",
        "page=99999999999999999999999",
    ):
        assert client.get(f"/api/v1/cases/mine?{query}", headers=headers).status_code == 422, query
    assert client.get("/api/v1/cases/999999", headers=headers).status_code == 404
    # A path number is plain ASCII digits within range, or the request is refused as such.
    for bad in ("abc", "%C2%B2", "99999999999999999999", "0"):
        answer = client.get(f"/api/v1/cases/{bad}", headers=headers)
        assert answer.status_code == 422 and CJK.search(answer.get_json()["error"]["message"]), bad
    assert client.get("/api/v1/communities/999999").status_code == 404
    assert client.get("/api/v1/nothing-here").get_json()["error"]["message"]


def _sheet(rows: list[list[Any]]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [["小区名称", "乡镇(街道)", "地址", "物业公司", "纬度", "经度"], *rows]:
        sheet.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_BROKEN_LIST = "version: '2026.9'\ncounty: 永宁县\nroutes:\n  - {id: dirt-1, leads: [城管局]}\n"
# (name, method, path, body or sheet rows, status); HERE is 幸福里小区's id.
COUNTY_DATA: list[tuple[str, str, str, Any, int]] = [
    (
        "list version that is not YAML",
        "POST",
        "/api/v1/admin/routing/versions",
        {"document": "a: [", "note": "x"},
        422,
    ),
    (
        "broken list version",
        "POST",
        "/api/v1/admin/routing/versions",
        {"document": _BROKEN_LIST, "note": "x"},
        422,
    ),
    ("import with a bad row", "IMPORT", "", [["新小区", "杨和镇", "", "", 38.3, 106.2], ["", "杨和镇"]], 422),
    ("import naming a township that does not exist", "IMPORT", "", [["新小区", "不存在镇"]], 422),
    (
        "import with a name twice in a township",
        "IMPORT",
        "",
        [["新小区", "杨和镇"], ["新小区", "杨和镇"]],
        422,
    ),
    (
        "import assigning a blacklisted company",
        "IMPORT",
        "",
        [["新小区", "杨和镇", "", "安泰物业服务有限公司"]],
        422,
    ),
    (
        "community name twice in a township",
        "POST",
        "/api/v1/admin/communities",
        {"name": "幸福里小区", "township": "杨和镇"},
        409,
    ),
    (
        "community in a township that does not exist",
        "POST",
        "/api/v1/admin/communities",
        {"name": "新小区", "township": "不存在镇"},
        422,
    ),
    (
        "community with half a location",
        "POST",
        "/api/v1/admin/communities",
        {"name": "新小区", "township": "杨和镇", "lat": 38.3},
        422,
    ),
    ("community renamed onto another", "PATCH", "/api/v1/admin/communities/HERE", {"name": "丽景花园"}, 409),
    ("community edit with nothing", "PATCH", "/api/v1/admin/communities/HERE", {}, 422),
    (
        "assignment of a blacklisted company",
        "PUT",
        "/api/v1/admin/communities/HERE/company",
        {"company": "安泰物业服务有限公司"},
        409,
    ),
    (
        "assignment of an unknown company",
        "PUT",
        "/api/v1/admin/communities/HERE/company",
        {"company": "无名物业"},
        404,
    ),
    (
        "invite to an unknown role",
        "POST",
        "/api/v1/admin/staff/invites",
        {"department": "公安局", "role": "mayor"},
        422,
    ),
    ("referral to an unknown department", "REFER", "", {"department": "城管局", "reason": "移交处理"}, 422),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status"), COUNTY_DATA, ids=[c[0] for c in COUNTY_DATA]
)
def test_bad_county_data_is_refused_in_chinese_and_nothing_is_written(
    client: Any, services: Any, name: str, method: str, path: str, body: Any, status: int
) -> None:
    import io

    from app.models import PropertyCompany
    from tests.helpers import file_case, make_staff

    admin = make_staff(client, services, "住建局", "admin", "bad-admin")
    with services.db.uow() as uow:
        company = uow.session.scalar(
            select(PropertyCompany).where(PropertyCompany.name == "安泰物业服务有限公司")
        )
        assert company is not None
        company.blacklisted_at = services.clock.now()
        uow.commit()
    case = file_case(client, login(client, "bad-refer-res")) if method == "REFER" else None
    path = path.replace("HERE", str(community_id(client, "幸福里小区")))
    before = _snapshot(services)
    if method == "IMPORT":
        answer = client.post(
            "/api/v1/admin/communities/import",
            data={"file": (io.BytesIO(_sheet(body)), "小区.xlsx")},
            headers=admin,
            content_type="multipart/form-data",
        )
    elif method == "REFER":
        assert case is not None
        answer = client.post(f"/api/v1/staff/cases/{case['id']}/refer", json=body, headers=admin)
    else:
        answer = client.open(path, method=method, json=body, headers=admin)
    assert answer.status_code == status, (name, answer.get_json())
    error = answer.get_json()["error"]
    assert error["code"] and CJK.search(error["message"]), error
    assert _snapshot(services) == before
