"""Reading what a console page was sent with the same pydantic shapes the API
and the handlers use, and answering a form: back to the page with a notice,
or the page again with the error a person reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import redirect, request
from werkzeug.wrappers import Response

from app.api.errors import status_of
from handlers.commands import Shape, build
from handlers.errors import DomainError

S = TypeVar("S", bound=Shape)

# What a page says after a form worked (?ok=...); only these words are shown.
DONE = {
    "dispatch": "已重新派发，相关部门将收到通知",
    "reject": "已不予受理，居民将看到原因",
    "merge": "已合并到目标工单",
    "approve": "已批准延期，办结期限已更新",
    "deny": "已驳回延期申请",
    "retry": "已重新放入发送队列",
    "refer": "已移交，接收部门的新工单已派发",
}


def args(shape: type[S], **extra: Any) -> S:
    """The query string, read by ``shape`` (a broken rule is a 422 page)."""
    return build(shape, request.args.to_dict() | extra)


def form(shape: type[S], *fields: str, **extra: Any) -> S:
    """The named form fields (text as typed), read by ``shape``."""
    return build(shape, {f: request.form.get(f, "") for f in fields} | extra)


def numbers(data: dict[str, Any], *fields: str) -> dict[str, Any]:
    """Form text that reads as a number becomes one (the shapes take JSON's
    types strictly); anything else is left for the shape to refuse by name."""
    out = dict(data)
    for f in fields:
        text = out.get(f)
        if isinstance(text, str):
            try:
                out[f] = int(text) if text.strip().lstrip("-").isdigit() else float(text)
            except ValueError:
                pass
    return out


def done(path: str, ok: str, **query: str) -> Response:
    return redirect(f"{path}?{urlencode(query | {'ok': ok})}", 303)


def attempt(
    run: Callable[[], None], then: Callable[[], Response], again: Callable[[str, int], Any]
) -> Response | Any:
    """Run a form's command; on a domain error show the page ``again`` with it."""
    try:
        run()
    except DomainError as exc:
        return again(exc.message, status_of(exc))
    return then()
