"""What every view shares: the handler context, the caller, blueprints that
publish their operations in the OpenAPI document, paging."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import current_app, g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.security import authenticated_user
from app.models import User
from app.models.people import ADMIN, STAFF_ROLES, SUPERVISORS
from handlers.commands import ParamId, ParamInt, Query
from handlers.context import Context
from handlers.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def ctx() -> Context:
    """The handler context for this request."""
    if "ctx" not in g:
        g.ctx = current_app.extensions["services"].request_context()
    return g.ctx  # type: ignore[no-any-return]


def end_request(_exc: BaseException | None = None) -> None:
    """The request's context gives back what it kept (``request_context``)."""
    if "ctx" in g:
        current_app.extensions["services"].end_request(g.ctx)


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


# What each error status means, for the published document; every error
# answers {"error": {"code", "message"}}.
MEANING = {
    400: "请求内容无法读取：为空、不是有效的 JSON 对象、嵌套过深，或缺少上传的文件",
    401: "未登录，或登录凭证无效、已过期",
    403: "当前身份无权进行此操作",
    404: "找不到该资源",
    409: "当前状态不允许该操作",
    410: "已过期（如绑定码）",
    413: "内容太大",
    415: "内容类型不对（JSON 接口要求 application/json，上传照片要求 multipart/form-data）",
    422: "参数或字段不符合规则，message 指出是哪一项",
    429: "操作太频繁或超出每日限额",
    503: "数据库或微信等依赖暂时不可用，请稍后重试",
}
Responses = dict[str | int | HTTPStatus, type[BaseModel] | dict[str, Any] | None]


def errors(*statuses: int) -> Responses:
    """Error answers for the published document (a fresh dict each call:
    flask-openapi3 writes into them)."""
    return {
        status: {
            "description": MEANING[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for status in statuses
    }


class Blueprint(APIBlueprint):
    """An APIBlueprint whose operations document the errors every one of them
    may answer: 422 and 503 always, 401 where a token is required, 400, 413
    and 415 where a body is read. Each operation adds its own (403, 404, ...)."""

    def __init__(self, name: str, prefix: str, tag: str, public: bool, also: tuple[int, ...] = ()) -> None:
        super().__init__(name, __name__, url_prefix=prefix, abp_tags=[Tag(name=tag)])
        self.public = public
        self.also = also

    def _documented(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            security = options.pop("security", None if not self.public else [])
            security = BEARER if security is None else security
            statuses = [422, 503, *self.also]
            if BEARER[0] in security:
                statuses.append(401)
            if {"body", "form"} & set(inspect.signature(func).parameters):
                statuses += [400, 413, 415]
            responses = errors(*statuses) | (options.pop("responses", None) or {})
            route = getattr(super(Blueprint, self), method)
            return route(rule, security=security, responses=responses, **options)(func)  # type: ignore[no-any-return]

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._documented("get", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._documented("post", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._documented("put", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._documented("patch", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._documented("delete", rule, options)


def admin() -> User:
    """An administrator (管理员): county data, staff, the responsibility list."""
    return caller(ADMIN)


def blueprint(
    name: str, prefix: str, tag: str, public: bool = False, also: tuple[int, ...] = ()
) -> Blueprint:
    """``also``: error statuses every operation of the blueprint may answer
    (an administrators' blueprint: 403 for anyone else, 404, 409)."""
    return Blueprint(name, prefix, tag, public, also)


class Paging(Query):
    page: ParamId = Field(default=1, title="页码")
    per_page: ParamInt = Field(default=20, ge=1, le=100, title="每页条数")


class CaseId(Query):
    case_id: ParamId = Field(title="工单编号")
