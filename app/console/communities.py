"""Admins: communities (search, create, edit, assign a property company),
their .xlsx import and export, on the admin API's handlers."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.wrappers import Response

from app.api.admin_places import communities_workbook, uploaded_sheet
from app.api.errors import status_of
from app.api.reference import CommunityPath
from app.api.web import ctx
from app.console.forms import DONE, args, attempt, done, numbers
from app.console.paging import Pager
from app.console.web import bp, needs, page, viewer
from app.models.people import ADMIN
from handlers.admin.communities import (
    AssignCompany,
    CommunityEdit,
    CommunityFilter,
    NewCommunity,
    assign_to_community,
    community_detail,
    create_community,
    edit_community,
    list_communities,
)
from handlers.admin.imports import COLUMNS, ImportResult, import_communities
from handlers.commands import build
from handlers.errors import DomainError
from handlers.places.communities import all_units
from handlers.property.companies import company_overview

DONE.update(
    {
        "community_created": "已新增小区",
        "community_edited": "已保存小区信息",
        "company_assigned": "已指定物业服务企业",
    }
)


def _typed(*fields: str) -> dict[str, Any]:
    """The fields a person filled in (an empty optional box is left out)."""
    typed = {f: request.form[f].strip() for f in fields if request.form.get(f, "").strip()}
    return numbers(typed, "lat", "lng")


def _townships() -> list[str]:
    return [u.name for u in all_units(ctx()) if u.is_township]


def _companies() -> list[tuple[str, bool]]:
    """Company names for the form's suggestions, blacklisted ones marked."""
    return [(v.company.name, v.company.blacklisted_at is not None) for v in company_overview(ctx())]


def _imported() -> ImportResult | None:
    """The summary of an import this page was redirected to after (its counts
    in the query string, so a reload does not send the file again)."""
    if request.args.get("ok") != "imported":
        return None
    created, updated = request.args.get("created", ""), request.args.get("updated", "")
    if not (created.isascii() and created.isdigit() and updated.isascii() and updated.isdigit()):
        return None
    return ImportResult(created=int(created), updated=int(updated), errors=[])


def _list_page(
    error: str = "", status: int = 200, result: ImportResult | None = None, problems: list[str] | None = None
) -> tuple[str, int]:
    f = args(CommunityFilter)
    rows, total = list_communities(ctx(), viewer().id, f)
    return page(
        "communities.html",
        status=status,
        f=f,
        rows=rows,
        pager=Pager(f.page, f.per_page, total),
        townships=_townships(),
        companies=_companies(),
        columns=COLUMNS,
        result=result or _imported(),
        problems=problems or [],
        error=error,
        # What was typed into a refused "new community" form, shown again.
        typed=request.form if request.method == "POST" and error else {},
        notice=DONE.get(request.args.get("ok", "")),
    )


@bp.get("/communities")
@needs(ADMIN)
def communities() -> tuple[str, int]:
    return _list_page()


@bp.post("/communities")
@needs(ADMIN)
def community_create() -> Response | Any:
    def run() -> None:
        cmd = build(NewCommunity, _typed("name", "township", "address", "lat", "lng", "property_company"))
        created.append(create_community(ctx(), viewer().id, cmd).id)

    created: list[int] = []
    return attempt(run, lambda: done(f"/console/communities/{created[0]}", "community_created"), _list_page)


@bp.post("/communities/import")
@needs(ADMIN)
def community_import() -> Response | tuple[str, int]:
    """Each row's problem when refused; when accepted, on to the list with
    the import's summary."""
    try:
        result = import_communities(ctx(), viewer().id, uploaded_sheet())
    except DomainError as exc:
        return _list_page(exc.message, status_of(exc))
    if result.errors:
        return _list_page(result.message, 422, result)
    return done("/console/communities", "imported", created=str(result.created), updated=str(result.updated))


@bp.get("/communities.xlsx")
@needs(ADMIN)
def community_export() -> Response:
    return communities_workbook(viewer().id)


def _community_page(community_id: int, error: str = "", status: int = 200) -> tuple[str, int]:
    found = community_detail(ctx(), viewer().id, community_id)
    return page(
        "community.html",
        status=status,
        c=found.community,
        terms=found.terms,
        townships=_townships(),
        companies=_companies(),
        error=error,
        notice=DONE.get(request.args.get("ok", "")),
    )


def _community_id(value: str) -> int:
    return args(CommunityPath, community_id=value).community_id


@bp.get("/communities/<community_id>")
@needs(ADMIN)
def community(community_id: str) -> tuple[str, int]:
    return _community_page(_community_id(community_id))


def _on_community(community_id: str, ok: str, run: Any) -> Response | Any:
    cid = _community_id(community_id)
    return attempt(
        lambda: run(cid),
        lambda: done(f"/console/communities/{cid}", ok),
        lambda message, status: _community_page(cid, message, status),
    )


@bp.post("/communities/<community_id>")
@needs(ADMIN)
def community_edit(community_id: str) -> Response | Any:
    def run(cid: int) -> None:
        typed = {f: request.form.get(f, "").strip() for f in ("name", "township", "address")}
        place = _typed("lat", "lng")
        # The whole form is sent: two empty boxes clear the location.
        cmd = build(CommunityEdit, typed | (place or {"lat": None, "lng": None}))
        edit_community(ctx(), viewer().id, cid, cmd)

    return _on_community(community_id, "community_edited", run)


@bp.post("/communities/<community_id>/company")
@needs(ADMIN)
def community_company(community_id: str) -> Response | Any:
    def run(cid: int) -> None:
        assign_to_community(ctx(), viewer().id, cid, build(AssignCompany, _typed("company")))

    return _on_community(community_id, "company_assigned", run)
