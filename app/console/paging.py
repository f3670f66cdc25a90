"""Paging links that keep the page's filters (so a URL can be shared)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import request


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return min(self.total, (self.page - 1) * self.per_page + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    def url(self, page: int) -> str:
        query = {k: v for k, v in request.args.items() if k not in ("page", "ok")}
        return f"{request.path}?{urlencode(query | {'page': page})}"


def query_string(*drop: str) -> str:
    """This page's filters, for an export link or a form that keeps them."""
    return urlencode({k: v for k, v in request.args.items() if k not in ("page", "ok", *drop)})
