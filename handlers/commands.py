"""The shapes of what people send, declared once with pydantic: the API
validates requests with them (and publishes them in its OpenAPI document),
handlers take them as commands, other edges (Open311, the console, the CLI)
build them and get the same rules.

A field's ``title`` is how a person calls it; a broken rule becomes an
``Invalid`` naming that field in Chinese.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from handlers.errors import Invalid

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def _ascii_digits(value: object) -> object:
    """Numbers in paths and queries are plain ASCII digits ("²" or "1e3" are not)."""
    if isinstance(value, str):
        if not _ASCII_DIGITS.fullmatch(value):
            raise ValueError("应为正整数")
        return int(value)
    return value


# An id in a JSON body: a number 1 .. 2^31-1 (text is refused).
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
# An id in a path or a query: ASCII digits, 1 .. 2^31-1. The range comes
# before the digits check so the published schema carries it as min/max.
ParamId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_ascii_digits)]
# A count in a query: ASCII digits.
ParamInt = Annotated[int, BeforeValidator(_ascii_digits)]


class Shape(BaseModel):
    """Base of every request shape; remembers each by name for error messages."""

    registry: ClassVar[dict[str, type[Shape]]] = {}
    model_config = ConfigDict(str_strip_whitespace=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        Shape.registry[cls.__name__] = cls


class Command(Shape):
    """A JSON body: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Query(Shape):
    """Query or path parameters: text from the URL, read leniently, unknown ones ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _field_title(model: str, loc: tuple[int | str, ...]) -> str:
    shape = Shape.registry.get(model)
    if not loc:
        return "请求"
    name = str(loc[0])
    info = shape.model_fields.get(name) if shape is not None else None
    return (info.title if info is not None and info.title else None) or name


def loc_is_model(err: ErrorDetails) -> bool:
    return not err.get("loc")


def _message(title: str, err: ErrorDetails) -> str:
    kind = str(err.get("type", ""))
    limits = err.get("ctx") or {}
    messages = {
        "missing": f"请填写{title}",
        "extra_forbidden": f"不认识的字段：{title}",
        "string_too_short": f"{title}至少需要 {limits.get('min_length')} 个字",
        "string_too_long": f"{title}最多 {limits.get('max_length')} 个字",
        "too_short": f"{title}至少需要 {limits.get('min_length')} 项",
        "too_long": f"{title}最多 {limits.get('max_length')} 项",
    }
    if kind in messages:
        return messages[kind]
    if kind == "value_error" and limits.get("error"):
        # Our own validators speak Chinese; a field's own rule names the field.
        said = str(limits["error"])
        return said if loc_is_model(err) else f"{title}{said}"
    if kind.startswith(("greater_than", "less_than")):
        return f"{title}超出允许范围"
    if kind in {"literal_error", "enum"}:
        return f"{title}的取值不在允许范围内"
    return f"{title}格式不正确"


S = TypeVar("S", bound=Shape)


def invalid(exc: ValidationError) -> Invalid:
    """The first broken rule, as a person reads it."""
    first = exc.errors()[0]
    title = _field_title(exc.title, first.get("loc", ()))
    return Invalid(_message(title, first), "invalid_field")


def build(shape: type[S], data: object) -> S:
    """Validate ``data`` into ``shape``, or raise the Invalid a person reads."""
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc
