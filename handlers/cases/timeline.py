"""Appending to a case's timeline. Events are never edited or deleted.

An event keeps who did it: the user, and for staff their department and its
name as it was then. The system's and residents' events are named at
display time from the county's words (``labels.actors``)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.db import built, executemany, fetch
from app.models import Case, CaseEvent, Photo, User
from app.models.cases import MEDIA_FLAGGED
from handlers.ports import JSONDict

EVENTS = cast(Table, CaseEvent.__table__)


def event_row(
    case_id: int, kind: str, at: datetime, *, note: str = "", step: str | None = None, **data: object
) -> dict[str, object]:
    """A system event (no actor) as a row for a bulk insert, as ``record`` would write it."""
    return {
        "case_id": case_id,
        "at": at,
        "kind": kind,
        "actor_id": None,
        "actor_label": "",
        "department_id": None,
        "note": note,
        "step": step,
        "data": JSONDict(data),
    }


def _actor(by: User | None) -> dict[str, object]:
    """Who an event is by, as ``record`` and ``event_by`` write it: staff are
    shown as their department."""
    staff = by is not None and by.is_staff and by.department is not None
    return {
        "actor_id": by.id if by else None,
        "actor_label": by.department.name if staff and by and by.department else "",
        "department_id": by.department_id if staff and by else None,
    }


def event_by(
    case: Case, kind: str, at: datetime, by: User | None, *, note: str = "", **data: object
) -> CaseEvent:
    """An event as ``record`` writes it, not added to the session: for
    ``insert_events`` to write with others in one statement."""
    values = {"case_id": case.id, "at": at, "kind": kind, **_actor(by), "note": note, "step": None}
    return built(CaseEvent, values | {"data": JSONDict(data)})


INSERT_EVENTS = insert(EVENTS)
INSERT_EVENT_RETURNING = insert(EVENTS).returning(EVENTS.c.id)
EVENT_COLUMNS = ("case_id", "at", "kind", "actor_id", "actor_label", "department_id", "note", "step", "data")


def insert_events(s: Session, events: list[CaseEvent], photos: list[Photo]) -> None:
    """Write events made by ``event_by`` in one statement; ``photos`` (the
    caller's own, loaded) are attached to the first, which is then written on
    its own to learn its id."""
    conn = s.connection()
    rows = [{k: getattr(e, k) for k in EVENT_COLUMNS} for e in events]
    if photos:
        first = events[0]
        first.id = fetch(conn, INSERT_EVENT_RETURNING, rows[0])[0][0]
        for photo in photos:
            photo.case_id, photo.event_id = first.case_id, first.id
        rows = rows[1:]
    executemany(conn, INSERT_EVENTS, rows)


def record(
    session: Session,
    case: Case,
    kind: str,
    at: datetime,
    *,
    by: User | None = None,
    note: str = "",
    step: str | None = None,
    photo_ids: list[str] | None = None,
    **data: object,
) -> CaseEvent:
    event = CaseEvent(case=case, at=at, kind=kind, **_actor(by), note=note, step=step, data=JSONDict(data))
    session.add(event)
    if photo_ids:
        session.flush()  # the photos point at the event
        for photo in session.scalars(select(Photo).where(Photo.id.in_(photo_ids))):
            photo.case_id = case.id
            photo.event_id = event.id
            if photo.media_check in MEDIA_FLAGGED:
                case.needs_review = True  # WeChat's image check already said so
    return event
