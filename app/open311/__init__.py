"""Open311 GeoReport v2 at /open311/v2/, for other civic tools: services
(our categories), a service's definition (its required ``community``
attribute), filing a request with an API key, and reading requests. Every
resource in XML (``.xml``) and JSON (``.json``); errors are GeoReport's list
with English descriptions, as its clients expect. Outside the OpenAPI
document of /api/v1: this API is described by the GeoReport v2 spec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from app.api.web import ctx
from app.open311.documents import document
from app.open311.forms import Problems, request_filter, request_id, service_request
from handlers.errors import DomainError, Forbidden, NotFound, Unauthorized
from handlers.open311 import (
    PublicRequest,
    file_request,
    request_by_id,
    requests_matching,
    service_definition,
    services,
)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(xml, json):fmt>"
PREFIX = "/open311/"

# What a domain error says to a GeoReport client, with the spec's status:
# 404 for what does not exist, 403 for the api_key, 400 for the rest.
ENGLISH = {
    "open311_bad_key": (403, "Missing or invalid api_key"),
    "unknown_category": (404, "service_code not found"),
    "case_not_found": (404, "service_request_id not found"),
    "unknown_community": (
        400,
        "attribute[community]: no community has this key (see services/{service_code}.xml)",
    ),
    "content_risky": (
        400,
        "description or address_string was refused by content security; nothing was filed",
    ),
    "daily_limit": (400, "This api_key has filed as many requests as a day allows; try again tomorrow"),
    "open311_bad_range": (400, "end_date is before start_date"),
    "open311_span_too_long": (400, "start_date to end_date may not span more than 90 days"),
}


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in ("xml", "json") else ("json" if request.path.endswith(".json") else "xml")


def errors(status: int, descriptions: list[str]) -> Response:
    body = [{"code": status, "description": d} for d in descriptions]
    return document(_fmt(), "errors", body, status)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    fallback = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden | Unauthorized) else 400
    status, description = ENGLISH.get(exc.code, (fallback, f"The request was refused ({exc.code})"))
    return errors(status, [description])


@bp.errorhandler(Problems)
def _problems(exc: Problems) -> Response:
    return errors(exc.status, exc.problems)


def http_error(exc: HTTPException) -> Response:
    """A bare HTTP error under /open311/ (no such resource, wrong method...)."""
    status = exc.code or 400
    return errors(status, [f"{exc.name}: see the GeoReport v2 resources under /open311/v2/"])


def unavailable() -> Response:
    return errors(503, ["Service temporarily unavailable; please try again later"])


def unexpected() -> Response:
    return errors(500, ["Internal error; please try again later"])


def _w3(when: datetime | None) -> str | None:
    """ISO 8601 with the county's offset, to the second (the spec's w3 format)."""
    return when.astimezone(ctx().county.tz).replace(microsecond=0).isoformat() if when else None


def _request(r: PublicRequest) -> dict[str, Any]:
    return {
        "service_request_id": str(r.id),
        "status": "open" if r.open else "closed",
        "status_notes": r.status_label,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.agency_responsible,
        "service_notice": r.service_notice,
        "requested_datetime": _w3(r.requested_at),
        "updated_datetime": _w3(r.updated_at),
        "expected_datetime": _w3(r.expected_at),
        "address": r.address,
        "address_id": None,
        "zipcode": None,
        "lat": r.lat,
        "long": r.lng,
        "media_url": r.media_url,
    }


@bp.get(f"/services.{FMT}")
def service_list(fmt: str) -> Response:
    """Every category a resident can report, as a service."""
    body = [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": True,
            "type": "realtime",
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in services(ctx())
    ]
    return document(fmt, "services", body)


@bp.get(f"/services/<code>.{FMT}")
def definition(code: str, fmt: str) -> Response:
    """A service's one attribute: the community, chosen from the list."""
    service, communities = service_definition(ctx(), code)
    attribute = {
        "variable": True,
        "code": "community",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "小区 (residential community): send attribute[community]=<key>",
        "order": 1,
        "description": "问题所在小区",
        "values": [{"key": str(c.key), "name": c.name} for c in communities],
    }
    return document(fmt, "service_definition", {"service_code": service.code, "attributes": [attribute]})


@bp.post(f"/requests.{FMT}")
def create(fmt: str) -> Response:
    """File a request: form-encoded, with an api_key; routed, checked and limited like any case."""
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Problems(400, ["POST requests as application/x-www-form-urlencoded"])
    api_key = request.form.get("api_key", "").strip()
    if not api_key:
        raise Forbidden("请提供 API 密钥", "open311_bad_key")
    cmd, media_url = service_request(request.form.to_dict())
    filed = file_request(ctx(), api_key, cmd, media_url)
    body = [{"service_request_id": str(filed.id), "service_notice": filed.service_notice, "account_id": None}]
    return document(fmt, "service_requests", body, 201)


@bp.get(f"/requests.{FMT}")
def search(fmt: str) -> Response:
    """Requests, newest first (filters: service_request_id, service_code, start_date, end_date, status)."""
    c = ctx()
    found = requests_matching(c, request_filter(request.args.to_dict(), c.county.tz))
    return document(fmt, "service_requests", [_request(r) for r in found])


@bp.get(f"/requests/<service_request_id>.{FMT}")
def one(service_request_id: str, fmt: str) -> Response:
    """One request."""
    case_id = request_id(service_request_id)
    if case_id is None:
        raise NotFound("找不到该工单", "case_not_found")
    return document(fmt, "service_requests", [_request(request_by_id(ctx(), case_id))])
