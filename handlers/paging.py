"""One page of a list and the list's total: the count and the page's rows
under the same conditions, so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

T = TypeVar("T")


def one_page(
    s: Session,
    model: type[T],
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnExpressionArgument[Any]],
    page: int,
    per_page: int,
    options: Sequence[ORMOption] = (),
) -> tuple[list[T], int]:
    """Rows ``per_page`` at a time (``page`` counts from 1) and how many match."""
    total = s.scalar(select(func.count()).select_from(model).where(*where)) or 0
    rows = s.scalars(
        select(model)
        .where(*where)
        .options(*options)
        .order_by(*order_by)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total
