"""Reading cases: a resident's own, and one case as its viewer may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Case, CaseEvent, Extension, Photo, User
from app.models.people import SUPERVISORS
from handlers.cases.access import MAX_REFERRALS, actors_of, can_view, department_role, photo_visible_to
from handlers.context import Context
from handlers.errors import NotFound
from handlers.paging import one_page
from routing import CountyConfig
from routing.lifecycle import PARTY, PRIMARY, REPORTER, SUPERVISOR, actions


@dataclass(frozen=True)
class CaseLink:
    """Another case this one is linked to by a referral (移交)."""

    id: int
    number: str
    department: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    by: str
    note: str
    step: str | None
    photos: list[Photo]
    related: CaseLink | None = None  # the other case of a ``referred`` event


@dataclass(frozen=True)
class CaseView:
    """One case as a party sees it: the whole timeline, the steps they may take."""

    case: Case
    timeline: list[TimelineEntry]
    photos: list[Photo]  # the reporter's, filed with the case
    actions: list[str]
    my_role: str | None
    pending_extension: Extension | None
    referred_from: CaseLink | None = None
    referred_to: list[CaseLink] = field(default_factory=list)


def _by(event: CaseEvent, case: Case, viewer: User, county: CountyConfig) -> str:
    """Who did it, as this viewer may know: staff see the reporter masked, and
    nobody but the reporter sees an anonymous one."""
    words = county.labels.actors
    if event.department_id is not None:
        return event.actor_label
    if event.actor_id is None:
        return words["system"]
    if event.actor_id == case.reporter_id and case.anonymous and viewer.id != case.reporter_id:
        return words["anonymous"]
    return words["resident"]


def _timeline(
    s: Session, case: Case, viewer: User, county: CountyConfig
) -> tuple[list[TimelineEntry], list[Photo]]:
    by_event: dict[int, list[Photo]] = {}
    for photo in s.scalars(
        select(Photo).where(Photo.case_id == case.id).order_by(Photo.created_at, Photo.id)
    ):
        if photo_visible_to(photo, viewer):
            by_event.setdefault(photo.event_id or 0, []).append(photo)
    entries = [
        TimelineEntry(
            e.at, e.kind, _by(e, case, viewer, county), e.note, e.step, by_event.get(e.id, []), _related(e)
        )
        for e in case.events
    ]
    first = case.events[0].id if case.events else None
    return entries, by_event.get(first, []) if first is not None else []


def _related(event: CaseEvent) -> CaseLink | None:
    data = event.data or {}
    if event.kind != "referred" or not isinstance(data.get("case_id"), int):
        return None
    return CaseLink(data["case_id"], str(data.get("case_number") or ""), str(data.get("department") or ""))


def _link(case: Case) -> CaseLink:
    return CaseLink(case.id, case.number, case.primary_department.name if case.primary_department else "")


def _referrals(s: Session, case: Case) -> tuple[CaseLink | None, list[CaseLink], list[Photo]]:
    """Where the case came from, where it was referred to, and the photos the
    resident filed with the first case of the chain."""
    origin = s.get(Case, case.referred_from_id) if case.referred_from_id else None
    root = origin
    for _ in range(MAX_REFERRALS):
        if root is None or root.referred_from_id is None:
            break
        root = s.get(Case, root.referred_from_id)
    photos: list[Photo] = []
    first = (
        s.scalar(select(CaseEvent.id).where(CaseEvent.case_id == root.id).order_by(CaseEvent.id).limit(1))
        if root is not None
        else None
    )
    if first is not None:
        photos = list(
            s.scalars(select(Photo).where(Photo.event_id == first).order_by(Photo.created_at, Photo.id))
        )
    children = s.scalars(select(Case).where(Case.referred_from_id == case.id).order_by(Case.id))
    return (_link(origin) if origin else None), [_link(c) for c in children], photos


def _applies(step: str, extension_pending: bool) -> bool:
    """An extension is decided only while one is pending, and asked only while none is."""
    if step in ("approve_extension", "deny_extension"):
        return extension_pending
    return step != "extension" or not extension_pending


def case_for(ctx: Context, case_id: int, viewer: User) -> CaseView:
    """One case for a party to it; anyone else gets 404 (not even its existence)."""
    with ctx.read() as uow:
        s = uow.session
        case = s.scalar(
            select(Case)
            .where(Case.id == case_id)
            .options(selectinload(Case.assignments), selectinload(Case.events))
        )
        user = s.get(User, viewer.id)
        if case is None or user is None or not can_view(s, case, user):
            raise NotFound("找不到该工单", "case_not_found")
        timeline, photos = _timeline(s, case, user, ctx.county)
        pending = s.scalar(
            select(Extension).where(Extension.case_id == case.id, Extension.status == "pending")
        )
        may = [a for a in actions(case.status, actors_of(s, case, user)) if _applies(a, pending is not None)]
        origin, referred_to, filed_with = _referrals(s, case)
        view = CaseView(
            case,
            timeline,
            photos or filed_with,
            may,
            department_role(s, case, user),
            pending,
            origin,
            referred_to,
        )
        s.expunge_all()
    return view


def filed_view(
    case: Case, events: list[CaseEvent], photos: list[Photo], reporter: User, county: CountyConfig
) -> CaseView:
    """What ``case_for`` answers the reporter of a case just filed, from what
    the filing wrote (the case with its community and assignments, its two
    events, the photos filed with it) instead of reading it back: a new case
    has no extension, no referral and no case merged into it."""
    by_event: dict[int, list[Photo]] = {}
    for photo in sorted(photos, key=lambda p: (p.created_at, p.id)):
        if photo_visible_to(photo, reporter):
            by_event.setdefault(photo.event_id or 0, []).append(photo)
    timeline = [
        TimelineEntry(e.at, e.kind, _by(e, case, reporter, county), e.note, e.step, by_event.get(e.id, []))
        for e in events
    ]
    role = None
    if reporter.is_staff and reporter.department_id is not None:
        role = next((a.role for a in case.assignments if a.department_id == reporter.department_id), None)
    who = {REPORTER} | ({SUPERVISOR} if reporter.role in SUPERVISORS else set())
    if role is not None:
        who |= {PARTY} | ({PRIMARY} if case.primary_department_id == reporter.department_id else set())
    may = [a for a in actions(case.status, who) if _applies(a, False)]
    return CaseView(case, timeline, by_event.get(events[0].id, []), may, role, None)


# Lists of cases: the newest first.
NEWEST = (Case.created_at.desc(), Case.id.desc())


def my_cases(ctx: Context, user_id: int, page: int, per_page: int) -> tuple[list[Case], int]:
    """The reporter's cases, newest first, with the surviving cases of merged ones."""
    with ctx.uow() as uow:
        s = uow.session
        merged_into = select(Case.merged_into_id).where(
            Case.reporter_id == user_id, Case.merged_into_id.is_not(None)
        )
        where = or_(Case.reporter_id == user_id, Case.id.in_(merged_into))
        cases, total = one_page(s, Case, (where,), NEWEST, page, per_page, (selectinload(Case.assignments),))
        s.expunge_all()
    return cases, total
