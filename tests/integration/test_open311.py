"""Open311 GeoReport v2 at /open311/v2/, called as an outside client calls it
(form-encoded POSTs, ``.xml`` and ``.json``), checked field by field against
the GeoReport v2 text: the element and field names of each response, its
root, the formats' content types, the spec's statuses and error list."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Community, Notification, Open311Key, User
from tests.helpers import community_id, file_case, login, make_staff, upload_photo, user_id

V2 = "/open311/v2"
# The fields of each response, in the spec's words.
SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
CREATED = ["service_request_id", "service_notice", "account_id"]
REQUEST = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
W3 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


def new_key(app: Any, name: str = "市民热线平台") -> str:
    result = app.test_cli_runner().invoke(args=["open311", "key", "--name", name])
    assert result.exit_code == 0, result.output
    return str(result.output.strip().splitlines()[-1])


def xml_of(answer: Any, root: str) -> ET.Element:
    assert answer.content_type == "text/xml; charset=utf-8"
    assert answer.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    tree = ET.fromstring(answer.data)
    assert tree.tag == root
    return tree


def json_of(answer: Any) -> Any:
    assert answer.content_type == "application/json; charset=utf-8"
    return answer.get_json()


def fields(element: ET.Element) -> dict[str, str]:
    return {child.tag: child.text or "" for child in element}


def form(key: str, client: Any, **extra: str) -> dict[str, str]:
    return {
        "api_key": key,
        "service_code": "dog_unleashed",
        "attribute[community]": str(community_id(client)),
        "description": "楼下有人遛狗不拴绳，孩子很害怕",
        "lat": "38.4872",
        "long": "106.2309",
    } | extra


def post(client: Any, fmt: str, data: dict[str, str]) -> Any:
    return client.post(f"{V2}/requests.{fmt}", data=data, content_type="application/x-www-form-urlencoded")


def test_services_are_the_categories_in_xml_and_json(client: Any) -> None:
    codes = [c["code"] for c in client.get("/api/v1/categories").get_json()["items"]]
    root = xml_of(client.get(f"{V2}/services.xml"), "services")
    services = [fields(s) for s in root]
    assert [s.tag for s in root] == ["service"] * len(codes)
    assert [s["service_code"] for s in services] == codes
    for service in services:
        assert list(service) == SERVICE
        assert service["metadata"] == "true" and service["type"] == "realtime"
        assert service["service_name"] and service["group"] and service["keywords"]
    as_json = json_of(client.get(f"{V2}/services.json?jurisdiction_id=example.gov"))
    assert [list(s) for s in as_json] == [SERVICE] * len(codes)
    assert [
        {k: str(v).lower() if isinstance(v, bool) else v for k, v in s.items()} for s in as_json
    ] == services


def test_a_service_definition_has_the_required_community_attribute(client: Any, services: Any) -> None:
    with services.db.uow() as uow:
        communities = [
            (str(i), n)
            for i, n in uow.session.execute(select(Community.id, Community.name).order_by(Community.id))
        ]
    root = xml_of(client.get(f"{V2}/services/dog_unleashed.xml"), "service_definition")
    assert [c.tag for c in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == "dog_unleashed"
    (attribute,) = root.find("attributes") or []
    assert attribute.tag == "attribute" and [c.tag for c in attribute] == ATTRIBUTE
    assert fields(attribute) | {"values": ""} == {
        "variable": "true",
        "code": "community",
        "datatype": "singlevaluelist",
        "required": "true",
        "datatype_description": fields(attribute)["datatype_description"],
        "order": "1",
        "description": "问题所在小区",
        "values": "",
    }
    values = [(v.findtext("key"), v.findtext("name")) for v in attribute.find("values") or []]
    assert values == communities and all(v.tag == "value" for v in attribute.find("values") or [])
    as_json = json_of(client.get(f"{V2}/services/dog_unleashed.json"))
    assert list(as_json) == ["service_code", "attributes"]
    (json_attribute,) = as_json["attributes"]
    assert list(json_attribute) == ATTRIBUTE
    assert json_attribute["required"] is True and json_attribute["variable"] is True
    assert [(v["key"], v["name"]) for v in json_attribute["values"]] == communities


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_filed_request_is_routed_checked_and_read_back_like_any_case(
    app: Any, client: Any, services: Any
) -> None:
    key = new_key(app)
    supervisor = make_staff(client, services, "住建局", "supervisor", "o311-sup")
    handler = make_staff(client, services, "综合执法局", "handler", "o311-handler")
    media = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=media.serve_forever, daemon=True).start()
    link = f"http://127.0.0.1:{media.server_address[1]}/photo.jpg"
    personal = {"email": "someone@example.org", "first_name": "某", "last_name": "某", "phone": "13800000000"}
    try:
        answer = post(
            client, "xml", form(key, client, media_url=link, jurisdiction_id="example.gov", **personal)
        )
    finally:
        media.shutdown()
        media.server_close()
    assert answer.status_code == 201
    (created,) = xml_of(answer, "service_requests")
    assert created.tag == "request" and list(fields(created)) == CREATED  # no token: realtime
    case_id = int(fields(created)["service_request_id"])
    assert _Counter.hits == 0  # the media link is kept, never fetched

    # Routed by the responsibility list, the department notified, as a case from the mini-program.
    case = client.get(f"/api/v1/cases/{case_id}", headers=supervisor).get_json()
    twin = file_case(client, login(client, "o311-twin"))
    assert case["departments"] == twin["departments"]
    assert link in case["timeline"][0]["note"] and "未下载" in case["timeline"][0]["note"]
    with services.db.uow() as uow:
        told = select(func.count(Notification.id)).where(
            Notification.case_id == case_id, Notification.user_id == user_id(client, handler)
        )
        assert uow.session.scalar(told) == 1

    read = json_of(client.get(f"{V2}/requests/{case_id}.json"))
    assert len(read) == 1 and list(read[0]) == REQUEST
    got = read[0]
    assert got["service_request_id"] == str(case_id) and got["status"] == "open"
    assert got["service_code"] == "dog_unleashed" and got["service_name"] == "遛狗不拴绳"
    assert got["description"] == "楼下有人遛狗不拴绳，孩子很害怕"
    assert got["agency_responsible"] == case["departments"][0]["name"] == "综合执法局"
    assert all(W3.fullmatch(got[k]) for k in ("requested_datetime", "updated_datetime", "expected_datetime"))
    # The spec's w3 format is to the second; the deadline itself is not when
    # the case is filed in working hours (from 08:30 county time).
    due = datetime.fromisoformat(case["resolve_due_at"]).replace(microsecond=0)
    assert datetime.fromisoformat(got["expected_datetime"]) == due
    assert (got["lat"], got["long"], got["media_url"]) == (38.4872, 106.2309, link)
    text = client.get(f"{V2}/requests/{case_id}.xml").get_data(as_text=True)
    for secret in (*personal.values(), "Open311：", key):
        assert secret not in text and secret not in str(read)


def test_xml_and_json_carry_the_same_request(app: Any, client: Any) -> None:
    key = new_key(app)
    filed = json_of(post(client, "json", form(key, client, lat="", long="", address_string="3号楼东侧")))
    assert list(filed[0]) == CREATED and filed[0]["account_id"] is None
    case_id = filed[0]["service_request_id"]
    (in_xml,) = xml_of(client.get(f"{V2}/requests/{case_id}.xml"), "service_requests")
    (in_json,) = json_of(client.get(f"{V2}/requests/{case_id}.json"))
    assert list(fields(in_xml)) == REQUEST
    assert fields(in_xml) == {k: "" if v is None else str(v) for k, v in in_json.items()}
    assert in_json["address"] == "3号楼东侧" and in_json["lat"] is None


def test_public_reads_carry_no_personal_data(client: Any, services: Any) -> None:
    resident = login(client, "o311-private")
    photo = upload_photo(client, resident)
    case = file_case(client, resident, photo_ids=[photo["id"]], anonymous=True)
    with services.db.uow() as uow:
        openid = uow.session.scalar(select(User.openid).where(User.id == user_id(client, resident)))
    assert openid
    for fmt in ("xml", "json"):
        text = client.get(f"{V2}/requests.{fmt}").get_data(as_text=True)
        assert str(case["id"]) in text and case["description"] in text
        assert openid not in text and photo["id"] not in text and "/api/v1/photos" not in text
        assert "reporter" not in text and "anonymous" not in text


def _ids(answer: Any) -> set[int]:
    return {int(r["service_request_id"]) for r in json_of(answer)}


def test_requests_filter_by_id_code_dates_and_status(app: Any, client: Any, services: Any) -> None:
    key = new_key(app)
    dog = int(json_of(post(client, "json", form(key, client)))[0]["service_request_id"])
    fire = int(
        json_of(post(client, "json", form(key, client, service_code="fire_lane_blocked")))[0][
            "service_request_id"
        ]
    )
    other = file_case(client, login(client, "o311-filter"))["id"]
    supervisor = make_staff(client, services, "住建局", "supervisor", "o311-filter-sup")
    rejected = client.post(
        f"/api/v1/supervision/cases/{other}/reject", json={"reason": "不属于小区问题"}, headers=supervisor
    )
    assert rejected.status_code == 200

    assert _ids(client.get(f"{V2}/requests.json")) == {dog, fire, other}
    assert _ids(client.get(f"{V2}/requests.json?status=open")) == {dog, fire}
    assert _ids(client.get(f"{V2}/requests.json?status=closed")) == {other}
    assert _ids(client.get(f"{V2}/requests.json?status=open,closed")) == {dog, fire, other}
    assert _ids(client.get(f"{V2}/requests.json?service_code=fire_lane_blocked,dog_unleashed")) == {
        dog,
        fire,
        other,
    }
    assert _ids(client.get(f"{V2}/requests.json?service_code=fire_lane_blocked")) == {fire}
    # service_request_id overrides every other argument.
    assert _ids(client.get(f"{V2}/requests.json?service_request_id={dog},{other}&status=closed")) == {
        dog,
        other,
    }
    assert _ids(client.get(f"{V2}/requests.json?service_code=&status=&jurisdiction_id=")) == {
        dog,
        fire,
        other,
    }
    now = datetime.fromisoformat(json_of(client.get(f"{V2}/requests/{dog}.json"))[0]["requested_datetime"])
    year = now.year
    assert _ids(client.get(f"{V2}/requests.json?start_date={year + 1}-01-01T00:00:00Z")) == set()
    window = f"start_date={now.date().isoformat()}&end_date={year + 1}-01-01T00:00:00%2B08:00"
    if (datetime.fromisoformat(f"{year + 1}-01-01T00:00:00+08:00") - now).days < 90:
        assert _ids(client.get(f"{V2}/requests.json?{window}")) == {dog, fire, other}
    (closed,) = json_of(client.get(f"{V2}/requests/{other}.json"))
    assert closed["status"] == "closed" and closed["status_notes"] == "不予受理"
    (root,) = [xml_of(client.get(f"{V2}/requests.xml?status=closed"), "service_requests")]
    assert [r.tag for r in root] == ["request"]


def test_the_daily_limit_counts_per_key(app: Any, client: Any, services: Any) -> None:
    first, second = new_key(app, "平台甲"), new_key(app, "平台乙")
    limit = services.county.daily_case_limit
    for _ in range(limit):
        assert post(client, "json", form(first, client)).status_code == 201
    refused = post(client, "xml", form(first, client))
    assert refused.status_code == 400
    (error,) = xml_of(refused, "errors")
    assert error.tag == "error" and fields(error)["code"] == "400" and "day" in fields(error)["description"]
    assert post(client, "json", form(second, client)).status_code == 201


def test_open311_key_prints_a_new_key_on_its_last_line_and_keeps_only_its_hash(
    app: Any, services: Any
) -> None:
    key = new_key(app, "区县网格平台")
    assert len(key) > 30
    with services.db.uow() as uow:
        stored = uow.session.scalars(select(Open311Key.key_hash)).all()
    assert key not in stored and len(stored) == 1
    again = app.test_cli_runner().invoke(args=["open311", "key", "--name", "区县网格平台"])
    assert again.exit_code == 1 and "已有" in again.output
    assert new_key(app, "另一个平台") != key


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_service_and_request_are_404_in_the_spec_error_format(client: Any, fmt: str) -> None:
    for path in (
        f"services/nothing.{fmt}",
        f"requests/999999.{fmt}",
        f"requests/abc.{fmt}",
        f"nothing.{fmt}",
    ):
        answer = client.get(f"{V2}/{path}")
        assert answer.status_code == 404, path
        if fmt == "xml":
            (error,) = xml_of(answer, "errors")
            assert list(fields(error)) == ["code", "description"] and fields(error)["code"] == "404"
        else:
            assert json_of(answer) == [{"code": 404, "description": json_of(answer)[0]["description"]}]
