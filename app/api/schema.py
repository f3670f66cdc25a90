"""Request shapes, declared once with pydantic, and the OpenAPI document.

``@body(Model)`` parses the JSON body, validates it and passes the model to
the view; a bad body becomes a 4xx with a Chinese message naming the field.
Every decorated view is listed in ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from handlers.errors import BadRequest, Invalid, Unsupported

F = TypeVar("F", bound=Callable[..., Any])

# (method, path) -> (summary, request model) for the OpenAPI document.
_operations: dict[tuple[str, str], tuple[str, type[BaseModel] | None]] = {}

FIELD_NAMES = {
    "code": "登录凭证",
    "binding_code": "绑定码",
    "category": "问题类别",
    "community_id": "小区",
    "description": "问题描述",
    "location_text": "位置描述",
    "lat": "纬度",
    "lng": "经度",
    "photo_ids": "照片",
    "anonymous": "匿名",
    "score": "评分",
    "comment": "评价",
    "reason": "原因",
    "note": "说明",
    "until": "延期至",
    "violation": "违规认定",
    "into": "合并到的工单",
}


class Body(BaseModel):
    """Base of every request body: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _message(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    field = FIELD_NAMES.get(loc[0], loc[0]) if loc else "请求"
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return f"请填写{field}"
    if kind == "extra_forbidden":
        return f"不认识的字段：{loc[0] if loc else ''}"
    if kind in {"string_too_short"}:
        return f"{field}至少需要 {ctx.get('min_length')} 个字"
    if kind in {"string_too_long"}:
        return f"{field}最多 {ctx.get('max_length')} 个字"
    if kind == "too_long":
        return f"{field}最多 {ctx.get('max_length')} 项"
    if kind == "too_short":
        return f"{field}至少需要 {ctx.get('min_length')} 项"
    if kind.startswith(("greater_than", "less_than")):
        return f"{field}超出允许范围"
    if kind in {"literal_error", "enum"}:
        return f"{field}的取值不在允许范围内"
    if kind.startswith("string_") or kind in {"str_type"}:
        return f"{field}格式不正确"
    return f"{field}格式不正确"


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.mimetype == "application/json":
        raise Unsupported("请以 JSON 格式提交（Content-Type: application/json）", "bad_content_type")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("请求内容为空", "empty_body")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("请求内容不是有效的 JSON", "bad_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "bad_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(_message(dict(first)), "invalid_field") from exc


def body(model: type[BaseModel]) -> Callable[[F], F]:
    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return view(parse_body(model), *args, **kwargs)

        inner.__request_model__ = model  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap


def openapi(app: Any) -> dict[str, Any]:
    """An OpenAPI 3.1 document built from the URL map and the body models."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1", "/wechat", "/healthz")):
            continue
        view = app.view_functions[rule.endpoint]
        model = getattr(view, "__request_model__", None)
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "summary": (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else rule.endpoint,
                "operationId": f"{rule.endpoint}_{method.lower()}",
                "responses": {"200": {"description": "OK"}, "4XX": {"$ref": "#/components/responses/Error"}},
            }
            if model is not None and method in {"POST", "PUT", "PATCH"}:
                schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
                    },
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "小区问题随手拍 API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "错误",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "properties": {
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
