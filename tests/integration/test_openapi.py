"""The published OpenAPI document describes every operation completely: its
summary and tag in Chinese, its parameters with their ranges, its body,
every answer with a schema, the errors it may give, and who may call it.
(scripts/api_fuzz.py checks it against a served instance with schemathesis.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

CJK = re.compile(r"[\u4e00-\u9fff]")
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items() if m in METHODS]


@pytest.fixture
def doc(client: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()  # type: ignore[no-any-return]


def test_every_operation_has_a_chinese_summary_and_tag(doc: dict[str, Any]) -> None:
    for method, path, op in _operations(doc):
        assert CJK.search(op.get("summary") or ""), (method, path)
        assert op.get("tags") and all(CJK.search(t) for t in op["tags"]), (method, path)
    summaries = [op["summary"] for _, _, op in _operations(doc)]
    assert len(set(summaries)) == len(summaries)


def test_every_answer_has_a_schema_and_every_error_is_the_error_shape(doc: dict[str, Any]) -> None:
    for method, path, op in _operations(doc):
        responses = op["responses"]
        assert any(s.startswith("2") for s in responses), (method, path)
        assert "422" in responses and "503" in responses, (method, path)
        for status, response in responses.items():
            assert response.get("description"), (method, path, status)
            content = response["content"]
            assert all("schema" in media for media in content.values()), (method, path, status)
            json_schema = content.get("application/json", {}).get("schema", {})
            if int(status) >= 400 and path != "/healthz" and not path.startswith("/wechat/"):
                # The error shape, or one that carries it with more (a refused import lists every row).
                shape = doc["components"]["schemas"][json_schema["$ref"].rsplit("/", 1)[-1]]
                assert json_schema == {"$ref": "#/components/schemas/ErrorOut"} or shape["properties"][
                    "error"
                ] == {"$ref": "#/components/schemas/ErrorDetail"}, (method, path, status)
                assert CJK.search(response["description"]), (method, path, status)


def test_who_may_call_is_declared(doc: dict[str, Any]) -> None:
    public = {"/api/v1/auth/wechat-login", "/api/v1/categories", "/api/v1/communities", "/healthz"}
    for method, path, op in _operations(doc):
        security = op.get("security") or []
        if path in public or path.startswith(("/api/v1/communities/", "/wechat/")) or path.endswith("labels"):
            assert {"bearer": []} not in security and "401" not in op["responses"], (method, path)
        elif path != "/api/v1/departments":
            assert {"bearer": []} in security and "401" in op["responses"], (method, path)
    photo = doc["paths"]["/api/v1/photos/{photo_id}"]["get"]
    assert photo["security"] == [{}, {"bearer": []}]  # a signed link needs no token


def test_parameters_carry_their_ranges_and_patterns(doc: dict[str, Any]) -> None:
    case = doc["paths"]["/api/v1/cases/{case_id}"]["get"]["parameters"][0]
    assert case["in"] == "path" and case["required"] is True
    assert case["schema"]["minimum"] == 1 and case["schema"]["maximum"] == 2**31 - 1
    rankings = doc["paths"]["/api/v1/supervision/rankings"]["get"]["parameters"][0]
    assert rankings["name"] == "period" and rankings["in"] == "query"
    assert re.fullmatch(rankings["schema"]["pattern"], "2025-Q2")
    assert not re.fullmatch(rankings["schema"]["pattern"], "1999-06")
    stats = {p["name"]: p for p in doc["paths"]["/api/v1/supervision/stats"]["get"]["parameters"]}
    assert set(stats) == {"from", "to"}
    pattern = stats["from"]["schema"]["anyOf"][0]["pattern"]
    assert re.fullmatch(pattern, "2026-06-01") and not re.fullmatch(pattern, "2026-13-01")
    export = doc["paths"]["/api/v1/supervision/overdue.xlsx"]["get"]["parameters"]
    assert "page" not in {p["name"] for p in export}  # an export is never paged
    filing = doc["paths"]["/api/v1/cases"]["post"]["parameters"]
    assert [p["name"] for p in filing if p["in"] == "header"] == ["Idempotency-Key"]


def test_bodies_are_json_or_multipart_as_sent(doc: dict[str, Any]) -> None:
    upload = doc["paths"]["/api/v1/photos"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    filing = doc["paths"]["/api/v1/cases"]["post"]
    assert filing["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/NewCase")
    assert {"200", "201", "400", "404", "413", "415", "429"} <= set(filing["responses"])
    bind = doc["paths"]["/api/v1/auth/bind-staff"]["post"]["responses"]
    assert {"404", "409", "410"} <= set(bind)
    xlsx = doc["paths"]["/api/v1/supervision/overdue.xlsx"]["get"]["responses"]["200"]["content"]
    assert list(xlsx) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def test_the_docs_page_is_served_locally(client: Any) -> None:
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/api/v1/swagger")
    page = client.get("/api/v1/swagger")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    assert b"//cdn" not in page.data and b"unpkg" not in page.data
