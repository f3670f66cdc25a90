"""Appending to a case's timeline. Events are never edited or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent, Photo, User

RESIDENT_LABEL = "居民"
SYSTEM_LABEL = "系统"


def actor_label(user: User | None) -> str:
    if user is None:
        return SYSTEM_LABEL
    if user.is_staff and user.department is not None:
        return user.department.name
    return RESIDENT_LABEL


def record(
    session: Session,
    case: Case,
    kind: str,
    at: datetime,
    *,
    by: User | None = None,
    label: str | None = None,
    note: str = "",
    step: str | None = None,
    photo_ids: list[str] | None = None,
    **data: Any,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        at=at,
        kind=kind,
        actor_id=by.id if by else None,
        actor_label=label if label is not None else actor_label(by),
        department_id=by.department_id if by is not None and by.is_staff else None,
        note=note,
        step=step,
        data=data,
    )
    session.add(event)
    if photo_ids:
        session.flush()  # the photos point at the event
        photos = session.scalars(select(Photo).where(Photo.id.in_(photo_ids))).all()
        for photo in photos:
            photo.case_id = case.id
            photo.event_id = event.id
    return event
