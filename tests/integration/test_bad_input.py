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


# Open311 GeoReport v2: (name, change of a good form-encoded POST; None drops the field, status).
OPEN311_POST: list[tuple[str, dict[str, str | None], int]] = [
    ("api_key missing", {"api_key": None}, 403),
    ("api_key wrong", {"api_key": "o311_not-a-key"}, 403),
    ("service_code missing", {"service_code": None}, 400),
    ("service_code unknown", {"service_code": "ufo_sighting"}, 404),
    ("community missing", {"attribute[community]": None}, 400),
    ("community as a name", {"attribute[community]": "幸福里小区"}, 400),
    ("community unknown", {"attribute[community]": "999999"}, 400),
    ("community huge", {"attribute[community]": "99999999999999999999"}, 400),
    ("description missing", {"description": None}, 400),
    ("description too short", {"description": "狗"}, 400),
    ("description too long", {"description": "长" * 1001}, 400),
    ("description risky", {"description": "这段文字里有违禁词"}, 400),
    ("no location", {"lat": None, "long": None}, 400),
    ("lat without long", {"long": None}, 400),
    ("lat out of range", {"lat": "91"}, 400),
    ("lat not a number", {"lat": "north"}, 400),
    ("lat not finite", {"lat": "nan"}, 400),
    ("address too long", {"lat": None, "long": None, "address_string": "楼" * 201}, 400),
    ("media_url a script", {"media_url": "javascript:alert(1)"}, 400),
    ("media_url too long", {"media_url": "https://example.org/" + "a" * 2000}, 400),
]
OPEN311_GET = [
    ("status unknown", "status=pending"),
    ("start_date not a date", "start_date=yesterday"),
    ("start_date before 2000", "start_date=1999-01-01T00:00:00Z"),
    ("end before start", "start_date=2026-06-02T00:00:00Z&end_date=2026-06-01T00:00:00Z"),
    ("more than 90 days", "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"),
    ("service_request_id not ids", "service_request_id=1,abc"),
]


def _open311_errors(answer: Any, fmt: str, status: int) -> list[str]:
    """The spec's error list, in the asked format, with English descriptions."""
    import xml.etree.ElementTree as ET

    assert answer.status_code == status
    if fmt == "json":
        errors = answer.get_json()
        assert all(set(e) == {"code", "description"} and e["code"] == status for e in errors)
        descriptions = [e["description"] for e in errors]
    else:
        root = ET.fromstring(answer.data)
        assert root.tag == "errors" and all(e.tag == "error" for e in root)
        assert all(e.findtext("code") == str(status) for e in root)
        descriptions = [e.findtext("description") or "" for e in root]
    assert descriptions and all(d and not CJK.search(d) for d in descriptions), descriptions
    return descriptions


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("name", "change", "status"), OPEN311_POST, ids=[c[0] for c in OPEN311_POST])
def test_a_bad_open311_request_is_refused_in_english_and_nothing_is_written(
    app: Any, client: Any, services: Any, name: str, change: dict[str, str | None], status: int, fmt: str
) -> None:
    from handlers.open311 import new_key

    login(client, "o311-bad")  # WeChat's access token is cached before the snapshot
    data = {
        "api_key": new_key(services.context(), "bad-input"),
        "service_code": "dog_unleashed",
        "attribute[community]": str(community_id(client)),
        "description": "楼下有人遛狗不拴绳",
        "lat": "38.48",
        "long": "106.23",
    }
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    before = _snapshot(services)
    answer = client.post(f"/open311/v2/requests.{fmt}", data=data)
    _open311_errors(answer, fmt, status)
    assert _snapshot(services) == before, name


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_malformed_open311_request_is_refused(client: Any, services: Any, fmt: str) -> None:
    before = _snapshot(services)
    as_json = client.post(f"/open311/v2/requests.{fmt}", json={"service_code": "dog_unleashed"})
    _open311_errors(as_json, fmt, 400)
    as_text = client.post(f"/open311/v2/requests.{fmt}", data=b"hello", content_type="text/plain")
    _open311_errors(as_text, fmt, 400)
    _open311_errors(client.put(f"/open311/v2/requests.{fmt}"), fmt, 405)
    for query in (q for _, q in OPEN311_GET):
        _open311_errors(client.get(f"/open311/v2/requests.{fmt}?{query}"), fmt, 400)
    assert client.get("/open311/v2/requests.csv").status_code == 404
    assert _snapshot(services) == before
