"""What every view shares: the handler context, the caller, blueprints that
publish their operations in the OpenAPI document, paging."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import current_app, g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.answers import ErrorOut
from app.api.security import authenticated_user
from app.models import User
from app.models.people import ADMIN, STAFF_ROLES, SUPERVISORS
from handlers.commands import ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Forbidden

# Every operation may answer these, as {"error": {"code", "message"}}.
ERRORS: dict[str | int | HTTPStatus, type[BaseModel] | dict[str, Any] | None] = {
    status: ErrorOut for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def ctx() -> Context:
    """The handler context for this request."""
    if "ctx" not in g:
        g.ctx = current_app.extensions["services"].context()
    return g.ctx  # type: ignore[no-any-return]


def caller(*roles: str) -> User:
    """The calling user, with one of ``roles`` when given: 401 without a
    valid token, 403 with another role. The role is read on every request."""
    user = authenticated_user()
    if roles and user.role not in roles:
        raise Forbidden("您没有权限进行此操作", "forbidden")
    return user


def staff() -> User:
    return caller(*STAFF_ROLES)


def supervisor() -> User:
    return caller(*SUPERVISORS)


def admin() -> User:
    """An administrator (管理员): county data, staff, the responsibility list."""
    return caller(ADMIN)


def blueprint(name: str, prefix: str, tag: str, public: bool = False) -> APIBlueprint:
    return APIBlueprint(
        name,
        __name__,
        url_prefix=prefix,
        abp_tags=[Tag(name=tag)],
        abp_security=[] if public else BEARER,
        abp_responses=ERRORS,
    )


class Paging(Query):
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=20, ge=1, le=100, title="每页条数")


class CaseId(Query):
    case_id: ParamId = Field(title="工单编号")
