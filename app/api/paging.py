"""``?page=`` and ``?per_page=`` (at most 100)."""

from __future__ import annotations

from flask import request

from handlers.errors import Invalid


def _positive(name: str, default: int, label: str) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid(f"{label}应为正整数", "invalid_paging")
    return int(raw)


def paging() -> tuple[int, int]:
    page = _positive("page", 1, "页码")
    per_page = _positive("per_page", 20, "每页条数")
    if per_page > 100:
        raise Invalid("每页最多 100 条", "invalid_paging")
    return page, per_page
