"""Reading cases: a resident's own, one case with its timeline and photos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.models import Case, Photo, User
from handlers.cases.photos import can_view_case
from handlers.context import Context
from handlers.errors import NotFound


@dataclass
class CaseView:
    case: Case
    photos_by_event: dict[int, list[Photo]]
    viewer_is_reporter: bool


def _with_parts() -> Any:
    return (selectinload(Case.assignments), selectinload(Case.events))


def case_for(ctx: Context, case_id: int, user: User) -> CaseView:
    """One case for a party to it; anyone else gets 404 (not even its existence)."""
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.id == case_id).options(*_with_parts()))
        if case is None or not can_view_case(s, case, user):
            raise NotFound("找不到该工单", "case_not_found")
        photos: dict[int, list[Photo]] = {}
        for photo in s.scalars(
            select(Photo).where(Photo.case_id == case.id).order_by(Photo.created_at, Photo.id)
        ):
            photos.setdefault(photo.event_id or 0, []).append(photo)
        s.expunge_all()
    return CaseView(case, photos, case.reporter_id == user.id)


def my_cases(ctx: Context, user_id: int, page: int, per_page: int) -> tuple[list[Case], int]:
    """The reporter's cases, newest first, with the surviving cases of merged ones."""
    with ctx.uow() as uow:
        s = uow.session
        merged_into = select(Case.merged_into_id).where(
            Case.reporter_id == user_id, Case.merged_into_id.is_not(None)
        )
        where = or_(Case.reporter_id == user_id, Case.id.in_(merged_into))
        total = s.scalar(select(func.count(Case.id)).where(where)) or 0
        cases = list(
            s.scalars(
                select(Case)
                .where(where)
                .options(selectinload(Case.assignments))
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
        s.expunge_all()
    return cases, total
