"""Admins: communities (list, create, edit, assign a company, import and
export as .xlsx)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_openapi3 import FileStorage
from pydantic import BaseModel, ConfigDict, Field

from app.api.answers import ErrorOut, Listing, answer, iso
from app.api.reference import CommunityPath
from app.api.web import admin, blueprint, ctx
from app.models import Community
from app.xlsx import XLSX, NotASpreadsheet, read_rows, workbook, xlsx_response
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
from handlers.admin.imports import COLUMNS, MAX_ROWS, ImportResult, export_rows, import_communities
from handlers.commands import Query
from handlers.errors import BadRequest, Invalid, TooLarge, Unsupported

bp = blueprint("admin_places", "/api/v1/admin", "管理：小区", also=(403, 404, 409))
MAX_FILE = 5 * 1024 * 1024


class CompanyRef(BaseModel):
    id: int
    name: str
    blacklisted: bool


class AdminCommunityOut(BaseModel):
    id: int
    name: str
    township: str
    address: str
    lat: float | None
    lng: float | None
    property_company: CompanyRef | None


class TermOut(BaseModel):
    company: str
    started_at: str | None
    ended_at: str | None


class AdminCommunityDetail(AdminCommunityOut):
    companies: list[TermOut] = Field(description="历任物业服务企业，当前的在最后")


def _out(c: Community) -> AdminCommunityOut:
    company = c.property_company
    return AdminCommunityOut(
        id=c.id,
        name=c.name,
        township=c.township.name,
        address=c.address,
        lat=c.lat,
        lng=c.lng,
        property_company=CompanyRef(
            id=company.id, name=company.name, blacklisted=company.blacklisted_at is not None
        )
        if company
        else None,
    )


@bp.get("/communities", responses={200: Listing[AdminCommunityOut]})
def communities(query: CommunityFilter) -> Response:
    """小区列表，按乡镇(街道)和名称（q 为名称的一部分，township 为乡镇）"""
    rows, total = list_communities(ctx(), admin().id, query)
    items = [_out(c) for c in rows]
    return answer(
        Listing[AdminCommunityOut](items=items, page=query.page, per_page=query.per_page, total=total)
    )


@bp.post("/communities", responses={201: AdminCommunityOut})
def create(body: NewCommunity) -> Response:
    """新增小区（同一乡镇已有同名小区时 409）"""
    return answer(_out(create_community(ctx(), admin().id, body)), 201)


@bp.get("/communities/<community_id>", responses={200: AdminCommunityDetail})
def community(path: CommunityPath) -> Response:
    """一个小区，及服务过它的每一家物业企业"""
    found = community_detail(ctx(), admin().id, path.community_id)
    tz = ctx().county.tz
    terms = [
        TermOut(company=t.company, started_at=iso(t.started_at, tz), ended_at=iso(t.ended_at, tz))
        for t in found.terms
    ]
    return answer(AdminCommunityDetail(**_out(found.community).model_dump(), companies=terms))


@bp.patch("/communities/<community_id>", responses={200: AdminCommunityOut})
def edit(path: CommunityPath, body: CommunityEdit) -> Response:
    """修改小区的名称、乡镇(街道)、地址或位置"""
    return answer(_out(edit_community(ctx(), admin().id, path.community_id, body)))


@bp.put("/communities/<community_id>/company", responses={200: AdminCommunityOut})
def assign(path: CommunityPath, body: AssignCompany) -> Response:
    """指定小区的物业服务企业（保留历史）；黑名单企业 409"""
    return answer(_out(assign_to_community(ctx(), admin().id, path.community_id, body)))


class CommunitySheet(Query):
    file: FileStorage | None = Field(default=None, title="表格", description=f"列：{'、'.join(COLUMNS)}")


class RowErrorOut(BaseModel):
    row: int
    message: str


class ImportOut(BaseModel):
    created: int
    updated: int
    errors: list[RowErrorOut] = Field(description="每一行的问题（有任何问题时不导入任何一行）")


class ImportRefusedOut(ErrorOut):
    """A refused import: the error, and (when rows were read) every row's problem."""

    model_config = ConfigDict(
        json_schema_extra=None,
        openapi_extra={"description": "导入被拒绝：参数不符合规则，或表格有问题（errors 逐行列出，带行号）"},  # type: ignore[typeddict-unknown-key]
    )

    created: int | None = None
    updated: int | None = None
    errors: list[RowErrorOut] | None = None


def _upload() -> bytes:
    if not request.mimetype.startswith("multipart/form-data"):
        raise Unsupported("请以 multipart/form-data 上传表格（字段名 file）", "bad_content_type")
    files = request.files.getlist("file")
    try:
        if len(files) != 1:
            raise BadRequest("请上传一个 .xlsx 表格（字段名 file）", "file_missing")
        data = files[0].read(MAX_FILE + 1)
    finally:
        for upload in request.files.values():
            upload.close()
    if len(data) > MAX_FILE:
        raise TooLarge("表格超过 5MB，请分批导入", "file_too_large")
    return data


def _import_answer(result: ImportResult) -> Response:
    body = ImportOut(
        created=result.created,
        updated=result.updated,
        errors=[RowErrorOut(row=e.row, message=e.message) for e in result.errors],
    ).model_dump()
    if not result.errors:
        return jsonify(body)
    response = jsonify(body | {"error": {"code": "import_invalid", "message": result.message}})
    response.status_code = 422
    return response


def uploaded_sheet() -> list[tuple[int, list[Any]]]:
    """The rows of the one .xlsx uploaded as ``file`` (the console's import form too)."""
    try:
        return read_rows(_upload(), MAX_ROWS + 2)
    except NotASpreadsheet as exc:
        raise Invalid("文件不是有效的 Excel 表格（.xlsx），请用模板另存为 .xlsx 后重试", "not_xlsx") from exc


@bp.post("/communities/import", responses={200: ImportOut, 422: ImportRefusedOut})
def import_(form: CommunitySheet) -> Response:
    """从 .xlsx 导入小区（multipart 字段 file）：逐行检查，全部成功才写入"""
    user = admin()
    return _import_answer(import_communities(ctx(), user.id, uploaded_sheet()))


def communities_workbook(user_id: int) -> Response:
    """Every community in the import's columns (the console's export too)."""
    rows = export_rows(ctx(), user_id)
    return xlsx_response(workbook([("小区", COLUMNS, rows)]), "小区.xlsx")


@bp.get("/communities.xlsx", responses={200: XLSX})
def export() -> Response:
    """按导入格式导出全部小区"""
    return communities_workbook(admin().id)
