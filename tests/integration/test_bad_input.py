"""Every field wrong in every way a client gets it wrong: a 4xx with a Chinese
message in ``{"error": {"code", "message"}}``, and the database unchanged."""

from __future__ import annotations

import gc
import io
import json
import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Base
from tests.helpers import community_id, file_case, login, make_staff, upload_photo

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


# -- the issue's list, and a walk of every endpoint with wrong inputs ------------------

NO_TRACE = re.compile(r"Traceback|File \"|werkzeug|<html", re.IGNORECASE)


def _refused_in_chinese(answer: Any, where: str) -> None:
    assert 400 <= answer.status_code < 500, (where, answer.status_code, answer.get_data(as_text=True)[:200])
    body = answer.get_json(silent=True)
    assert body is not None and set(body["error"]) == {"code", "message"}, (where, answer.get_data()[:200])
    assert CJK.search(body["error"]["message"]), (where, body)
    assert not NO_TRACE.search(answer.get_data(as_text=True)), where


def _people(client: Any, services: Any) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "resident": login(client, "walk-resident"),
        "handler": make_staff(client, services, "综合执法局", "handler", "walk-handler"),
        "office": make_staff(client, services, "住建局", "supervisor", "walk-office"),
    }


ISSUE_FINDINGS = [
    ("resident", "/api/v1/photos/abc?e=%C2%B2&s=a", 422),
    ("resident", "/api/v1/cases/mine?page=99999999999999999999999", 422),
    ("office", "/api/v1/supervision/bulletins/0000", 422),
    ("office", "/api/v1/supervision/rankings?period=9999-12", 422),
    ("office", "/api/v1/supervision/stats?to=9999-12-31", 422),
    ("office", "/api/v1/supervision/stats.xlsx?from=1999-12-31", 422),
    ("office", "/api/v1/supervision/rankings.xlsx?period=2101", 422),
    ("office", "/api/v1/supervision/bulletins/2025-13.xlsx", 422),
    ("office", "/api/v1/supervision/overdue?per_page=%C2%B2", 422),
    ("office", "/api/v1/supervision/extensions?page=1e3", 422),
    ("handler", "/api/v1/staff/cases?page=-1", 422),
    ("resident", "/api/v1/photos/abc?e=99999999999&s=a", 422),
    ("resident", "/api/v1/photos/abc?e=1&s=a&r=2", 422),
    ("anonymous", "/api/v1/communities/99999999999999999999999", 422),
]


def test_each_input_the_issue_found_crashing_is_a_4xx_in_chinese(client: Any, services: Any) -> None:
    people = _people(client, services)
    for who, url, status in ISSUE_FINDINGS:
        answer = client.get(url, headers=people[who])
        assert answer.status_code == status, (url, answer.status_code)
        _refused_in_chinese(answer, url)


def test_a_json_body_of_100000_brackets_is_a_400(client: Any) -> None:
    answer = client.post("/api/v1/auth/wechat-login", data="[" * 100000, content_type="application/json")
    assert answer.status_code == 400
    _refused_in_chinese(answer, "brackets")
    deep = "{" + '"a":{' * 40 + '"b":1' + "}" * 41
    answer = client.post("/api/v1/auth/wechat-login", data=deep, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "too_deep"


def test_unknown_paths_and_methods_answer_json_not_html(client: Any) -> None:
    for method, path, status in (
        ("GET", "/nothing-here", 404),
        ("GET", "/api/v1/nothing-here", 404),
        ("DELETE", "/api/v1/cases/mine", 405),
        ("PUT", "/healthz", 405),
        ("PATCH", "/wechat/callback", 405),
    ):
        answer = client.open(path, method=method)
        assert answer.status_code == status, path
        assert answer.mimetype == "application/json"
        _refused_in_chinese(answer, path)


BAD_PATH_VALUES = ["abc", "%C2%B2", "99999999999999999999999", "0", "-1", "1.5", "9999-12", "0000"]
BAD_QUERIES = [
    "",
    "?page=99999999999999999999999&per_page=%C2%B2",
    "?period=9999-12&from=0000-01-01&to=9999-12-31",
    "?status=%00&overdue=maybe&department=" + "x" * 300,
    "?e=%C2%B2&s=a&r=x",
    "?q=%FF%FE&step=" + "y" * 100,
]
BAD_BODIES: list[tuple[bytes, str]] = [
    (b"[" * 100000, "application/json"),
    (b'{"a":', "application/json"),
    (b"{}", "application/json"),
    (b'{"note": 1, "reason": [], "score": "5", "code": null, "category": {}}', "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"x=1", "application/x-www-form-urlencoded"),
]


def _urls(rule: Any) -> list[str]:
    if not rule.arguments:
        return [rule.rule]
    urls = []
    for value in BAD_PATH_VALUES:
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", value)
        urls.append(url)
    return urls


def test_every_endpoint_answers_wrong_input_with_a_4xx_in_chinese_and_writes_nothing(
    client: Any, services: Any
) -> None:
    """Every operation, as every kind of caller, with wrong path values, wrong
    queries and wrong bodies: never a 5xx, never a stack trace or an HTML
    page, every refusal JSON in Chinese, and the database unchanged."""
    people = _people(client, services)
    rules = [
        r
        for r in client.application.url_map.iter_rules()
        # Open311 answers GeoReport's own errors and the console answers pages: each has its table above or in
        # its own tests.
        if not r.rule.startswith(("/static", "/api/v1/static", "/api/v1/swagger", "/open311", "/console"))
    ]
    before = _snapshot(services)
    seen = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for url in _urls(rule):
                for headers in people.values():
                    variants = BAD_BODIES if method == "POST" else [(b"", "")]
                    for query in BAD_QUERIES if rule.arguments else BAD_QUERIES[1:]:
                        for body, content_type in variants[:2] if query else variants:
                            answer = client.open(
                                url + query,
                                method=method,
                                data=body,
                                content_type=content_type,
                                headers=headers,
                            )
                            seen += 1
                            where = f"{method} {url}{query[:40]} {body[:20]!r}"
                            assert answer.status_code < 500, where
                            if answer.status_code >= 400:
                                _refused_in_chinese(answer, where)
    assert seen > 1000
    assert _snapshot(services) == before


# -- texts other people read go through content security ------------------------------

RISKY = "这段说明里有违禁词"
DOUBTFUL = "这段说明需要 review-text 人工复核"

# (name, who, the case's state, path, body with TEXT)
TEXTS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    (
        "rating comment",
        "resident",
        "resolved",
        "/api/v1/cases/{case}/rating",
        {"score": 4, "comment": "TEXT"},
    ),
    ("reopen reason", "resident", "resolved", "/api/v1/cases/{case}/reopen", {"reason": "TEXT"}),
    ("progress note", "handler", "accepted", "/api/v1/staff/cases/{case}/progress", {"note": "TEXT"}),
    (
        "resolve note",
        "handler",
        "accepted",
        "/api/v1/staff/cases/{case}/resolve",
        {"note": "TEXT", "photo_ids": ["EVIDENCE"]},
    ),
    ("return reason", "handler", "accepted", "/api/v1/staff/cases/{case}/return", {"reason": "TEXT"}),
    (
        "extension reason",
        "handler",
        "accepted",
        "/api/v1/staff/cases/{case}/extension",
        {"reason": "TEXT", "until": "IN_60_DAYS"},
    ),
    ("reject reason", "office", "accepted", "/api/v1/supervision/cases/{case}/reject", {"reason": "TEXT"}),
    (
        "deny reason",
        "office",
        "pending",
        "/api/v1/supervision/extensions/{extension}/deny",
        {"reason": "TEXT"},
    ),
    (
        "approve note",
        "office",
        "pending",
        "/api/v1/supervision/extensions/{extension}/approve",
        {"note": "TEXT"},
    ),
]


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def _case_in(client: Any, services: Any, state: str) -> dict[str, Any]:
    """A case in ``state`` (accepted, pending: with an extension asked, resolved) and its people."""
    people = _people(client, services)
    case = file_case(client, people["resident"])
    handler = people["handler"]
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler).status_code == 200
    )
    found: dict[str, Any] = {"people": people, "case": case["id"], "extension": None}
    if state == "pending":
        asked = client.post(
            f"/api/v1/staff/cases/{case['id']}/extension",
            json={"reason": "需要协调物业", "until": _in_days(60)},
            headers=handler,
        )
        assert asked.status_code == 201, asked.get_json()
        found["extension"] = asked.get_json()["id"]
    if state == "resolved":
        photo = upload_photo(client, handler)["id"]
        done = client.post(
            f"/api/v1/staff/cases/{case['id']}/resolve",
            json={"note": "已现场处理", "photo_ids": [photo]},
            headers=handler,
        )
        assert done.status_code == 200, done.get_json()
    return found


def _text_request(
    client: Any, found: dict[str, Any], who: str, path: str, body: dict[str, Any], text: str
) -> Any:
    headers = found["people"][who]
    filled = {k: (text if v == "TEXT" else _in_days(60) if v == "IN_60_DAYS" else v) for k, v in body.items()}
    if filled.get("photo_ids") == ["EVIDENCE"]:
        filled["photo_ids"] = [upload_photo(client, headers)["id"]]
    url = path.format(case=found["case"], extension=found["extension"])
    return client.post(url, json=filled, headers=headers)


@pytest.mark.parametrize(("name", "who", "state", "path", "body"), TEXTS, ids=[t[0] for t in TEXTS])
def test_risky_text_others_would_read_is_refused_and_nothing_is_recorded(
    client: Any, services: Any, name: str, who: str, state: str, path: str, body: dict[str, Any]
) -> None:
    found = _case_in(client, services, state)
    if "EVIDENCE" in str(body):
        body = dict(body, photo_ids=[upload_photo(client, found["people"][who])["id"]])
    before = _snapshot(services)
    answer = _text_request(client, found, who, path, body, RISKY)
    assert answer.status_code == 422, (name, answer.get_json())
    assert answer.get_json()["error"]["code"] == "content_risky"
    _refused_in_chinese(answer, name)
    assert _snapshot(services) == before


@pytest.mark.parametrize(("name", "who", "state", "path", "body"), TEXTS, ids=[t[0] for t in TEXTS])
def test_doubtful_text_is_recorded_and_marks_the_case_for_review(
    client: Any, services: Any, name: str, who: str, state: str, path: str, body: dict[str, Any]
) -> None:
    found = _case_in(client, services, state)
    office = found["people"]["office"]
    assert client.get(f"/api/v1/cases/{found['case']}", headers=office).get_json()["needs_review"] is False
    answer = _text_request(client, found, who, path, body, DOUBTFUL)
    assert 200 <= answer.status_code < 300, (name, answer.get_json())
    assert client.get(f"/api/v1/cases/{found['case']}", headers=office).get_json()["needs_review"] is True


# -- photos, and a filing key reused -------------------------------------------------------

PHOTO_UPLOADS: list[tuple[str, dict[str, Any], str, int]] = [
    ("no file", {"other": (io.BytesIO(b"x"), "a.jpg")}, "multipart/form-data", 400),
    (
        "two files",
        {"file": [(io.BytesIO(b"a"), "a.jpg"), (io.BytesIO(b"b"), "b.jpg")]},
        "multipart/form-data",
        400,
    ),
    ("empty file", {"file": (io.BytesIO(b""), "a.jpg")}, "multipart/form-data", 400),
    ("not an image", {"file": (io.BytesIO(b"hello, not a photo"), "a.jpg")}, "multipart/form-data", 415),
    ("JSON instead", {}, "application/json", 415),
    (
        "over 10 MB",
        {"file": (io.BytesIO(b"\xff" * (11 * 1024 * 1024)), "big.jpg")},
        "multipart/form-data",
        413,
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status"), PHOTO_UPLOADS, ids=[p[0] for p in PHOTO_UPLOADS]
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    client: Any, services: Any, name: str, data: dict[str, Any], content_type: str, status: int
) -> None:
    headers = login(client, "bad-upload")
    before = _snapshot(services)
    with warnings.catch_warnings():
        # Flask's test client leaves its own spooled request body to the
        # garbage collector; that is the client's file, not the product's.
        warnings.simplefilter("ignore", ResourceWarning)
        answer = client.post("/api/v1/photos", data=data, content_type=content_type, headers=headers)
        assert answer.status_code == status, (name, answer.get_json())
        _refused_in_chinese(answer, name)
        del answer
        gc.collect()
    assert _snapshot(services) == before


def test_a_filing_key_reused_with_another_body_is_refused_and_nothing_is_written(
    client: Any, services: Any
) -> None:
    headers = login(client, "bad-key")
    body = dict(GOOD, community_id=community_id(client))
    assert (
        client.post("/api/v1/cases", json=body, headers=headers | {"Idempotency-Key": "k"}).status_code == 201
    )
    before = _snapshot(services)
    for change in (
        {"description": "另一件事：楼道里堆满了杂物"},
        {"anonymous": True},
        {"location_text": "5号楼"},
    ):
        answer = client.post("/api/v1/cases", json=body | change, headers=headers | {"Idempotency-Key": "k"})
        assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "idempotency_key_reused"
        _refused_in_chinese(answer, str(change))
    assert _snapshot(services) == before


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
