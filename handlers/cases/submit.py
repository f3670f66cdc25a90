"""A resident files a case: check the text, route it, start the clocks, write
the case, its first events and the departments' notifications at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast

from pydantic import Field, model_validator
from sqlalchemy import Connection, Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.db import built, executemany, fetch, pipelined
from app.models import Case, CaseClock, CaseEvent, Community, Department, Photo, User
from app.models.cases import MEDIA_FLAGGED
from handlers.cases.access import own_unused_photos
from handlers.cases.clocks import start_clocks
from handlers.cases.content import screen
from handlers.cases.dispatching import Routing, department_rows, dispatch, dispatched, tell_departments
from handlers.cases.numbering import next_case_number
from handlers.cases.queries import CaseView, filed_view
from handlers.cases.timeline import event_by, insert_events
from handlers.commands import Command, Id
from handlers.context import Context
from handlers.errors import Invalid, NotFound, TooMany
from routing import Category, CountyConfig
from routing.lifecycle import DISPATCHED

MAX_PHOTOS = 9

CASES = cast(Table, Case.__table__)
COMMUNITIES = cast(Table, Community.__table__)
DEPARTMENTS = cast(Table, Department.__table__)
# What an insert gives a column left out, given instead: the case as written
# carries it for the answer too.
CASE_DEFAULTS: dict[str, Any] = {
    c.key: c.default.arg  # type: ignore[attr-defined]
    for c in CASES.columns
    if c.default is not None and c.default.is_scalar
}
CASE_COLUMNS = tuple(c.key for c in CASES.columns if c.key != "id")
INSERT_CASE = insert(CASES).returning(CASES.c.id)
CLOCKS = cast(Table, CaseClock.__table__)
INSERT_CLOCK = insert(CLOCKS)
# How many cases the reporter filed since the county's midnight (the daily limit).
TODAY = select(func.count(CASES.c.id)).where(
    CASES.c.reporter_id == bindparam("reporter"), CASES.c.created_at >= bindparam("since")
)
# The community the case is filed in, its township, and the reporter's count
# of the day, in one statement.
PLACE = (
    select(
        COMMUNITIES.c.id,
        COMMUNITIES.c.name,
        COMMUNITIES.c.township_id,
        DEPARTMENTS.c.name.label("township"),
        TODAY.scalar_subquery().label("today"),
    )
    .join(DEPARTMENTS, DEPARTMENTS.c.id == COMMUNITIES.c.township_id)
    .where(COMMUNITIES.c.id == bindparam("community"))
)
EARLIER = select(CASES.c.id, CASES.c.idempotency_hash).where(
    CASES.c.reporter_id == bindparam("reporter"), CASES.c.idempotency_key == bindparam("key")
)


def case_row(case: Case) -> dict[str, Any]:
    """The ``cases`` row of a case made in memory, every column given."""
    return {key: getattr(case, key) for key in CASE_COLUMNS}


def clock_row(case: Case) -> dict[str, object]:
    """The ``case_clocks`` row of a case written, its clocks started."""
    return {
        "case_id": case.id,
        "escalation_step": case.escalation_step,
        "next_escalation_at": case.next_escalation_at,
    }


class NewCase(Command):
    """What a resident reports (POST /cases)."""

    category: str = Field(min_length=1, max_length=64, title="问题类别")
    community_id: Id = Field(title="小区")
    description: str = Field(min_length=5, max_length=1000, title="问题描述")
    location_text: str = Field(default="", max_length=200, title="位置描述")
    lat: float | None = Field(default=None, ge=-90, le=90, title="纬度")
    lng: float | None = Field(default=None, ge=-180, le=180, title="经度")
    photo_ids: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS, title="照片")
    anonymous: bool = Field(default=False, title="匿名")

    @model_validator(mode="after")
    def _both_coordinates(self) -> NewCase:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度需要同时提供")
        return self


@dataclass(frozen=True)
class Channel:
    """A way in other than the mini-program (Open311): the note its filing
    gets on the timeline, and what it writes beside the case in the same
    transaction."""

    note: str
    write: Callable[[Session, Case], None]


def body_hash(cmd: NewCase) -> str:
    """The filing as validated, canonical: the same report hashes the same
    however its JSON was spaced or ordered."""
    canonical = json.dumps(
        cmd.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing(conn: Connection, reporter_id: int, key: str | None, digest: str) -> int | None:
    """The id of the case this reporter already filed with ``key``; 422 when the
    key was used for another report (an urgent second report is never dropped)."""
    if not key:
        return None
    rows = fetch(conn, EARLIER, {"reporter": reporter_id, "key": key})
    row = rows[0] if rows else None
    if row is not None and row.idempotency_hash not in (None, digest):
        raise Invalid(
            "这个 Idempotency-Key 已用于另一份内容不同的报告，请为新的报告换一个新的键",
            "idempotency_key_reused",
        )
    return row.id if row is not None else None


@dataclass(frozen=True)
class _Where:
    """Where a new case goes: its community (with the township) and the
    departments the list names there, with their staff."""

    community: Community
    routing: Routing


def _read_reporter(ctx: Context, reporter_id: int) -> User:
    with ctx.read() as uow:
        user = uow.session.get(User, reporter_id)
        if user is None:
            raise NotFound("账号不存在")
        return user


def _look_up(
    ctx: Context,
    reporter: User,
    cmd: NewCase,
    category: Category,
    key: str | None,
    digest: str,
    now: datetime,
) -> int | _Where:
    """What a filing reads before it asks WeChat and writes, in one read: the
    case a repeated key already filed; else the community (404), the daily
    limit (429, counted again when writing) and the departments with their
    staff. So the write transaction holds the write lock only to write."""
    with ctx.reading() as conn:
        existing = _existing(conn, reporter.id, key, digest)
        if existing is not None:
            return existing
        community = _place(conn, cmd.community_id, reporter.id, now, ctx.county)
        routing = department_rows(conn, ctx.county, category.code, community.township.name)
    return _Where(community, routing)


@dataclass(frozen=True)
class Filed:
    """What a filing answers: the case, whether it was filed now (False: its
    key answered an earlier case, filing nothing) and, when filed now, the
    case as its reporter sees it, built from what was written."""

    case_id: int
    created: bool
    view: CaseView | None = None


def file_case(
    ctx: Context,
    reporter_id: int,
    cmd: NewCase,
    idempotency_key: str | None = None,
    channel: Channel | None = None,
    reporter: User | None = None,
) -> Filed:
    """File the case. A repeated idempotency key answers the first case and
    files nothing (its view is left to the caller to read). ``reporter``: the
    reporter as the caller just read them (authentication), else read here."""
    category = ctx.county.categories.get(cmd.category)
    if category is None:
        raise Invalid("请选择有效的问题类别", "unknown_category")
    digest, now = body_hash(cmd), ctx.now()
    user = reporter if reporter is not None else _read_reporter(ctx, reporter_id)
    where = _look_up(ctx, user, cmd, category, idempotency_key, digest, now)
    if isinstance(where, int):
        return Filed(where, False)
    needs_review = screen(ctx, f"{cmd.description}\n{cmd.location_text}".strip(), user.openid)
    filing = _Filing(user, cmd, category, idempotency_key, digest, needs_review, channel, now)
    filed = _write(ctx, filing, where)
    if filed.created:
        # Counted once committed: a filing rolled back or answered from its key is not.
        ctx.metrics.case_filed(category.code)
        ctx.wake_outbox()
    return filed


def submit_case(
    ctx: Context,
    reporter_id: int,
    cmd: NewCase,
    idempotency_key: str | None = None,
    channel: Channel | None = None,
) -> tuple[Case, bool]:
    """``file_case``, answering the case itself (assignments and events loaded)."""
    filed = file_case(ctx, reporter_id, cmd, idempotency_key, channel)
    return load_case(ctx, filed.case_id), filed.created


@dataclass(frozen=True)
class _Filing:
    reporter: User
    cmd: NewCase
    category: Category
    key: str | None
    digest: str
    needs_review: bool
    channel: Channel | None
    now: datetime


def _day_start(now: datetime, county: CountyConfig) -> datetime:
    return datetime.combine(now.astimezone(county.tz).date(), time(0), tzinfo=county.tz)


def _within_daily_limit(today: int, county: CountyConfig) -> None:
    if today >= county.daily_case_limit:
        raise TooMany(f"每天最多提交 {county.daily_case_limit} 件，请明天再试", "daily_limit")


def _place(
    conn: Connection, community_id: int, reporter_id: int, now: datetime, county: CountyConfig
) -> Community:
    """The community with its township's name (a detached copy: nothing is
    written to it); 404 without it, 429 past the reporter's daily limit."""
    since = _day_start(now, county)
    rows = fetch(conn, PLACE, {"community": community_id, "reporter": reporter_id, "since": since})
    if not rows:
        raise NotFound("找不到该小区", "unknown_community")
    row = rows[0]
    _within_daily_limit(row.today, county)
    township = built(Department, {"id": row.township_id, "name": row.township})
    return built(
        Community, {"id": row.id, "name": row.name, "township_id": row.township_id, "township": township}
    )


def _new_case(f: _Filing, where: _Where, county: CountyConfig) -> Case:
    """The case as it will be written, its clocks started (not in the session:
    the rows are inserted without an ORM object each); made before the write
    transaction, which adds its number and what its photos say."""
    cmd, category, now = f.cmd, f.category, f.now
    values = CASE_DEFAULTS | {
        "category": category.code,
        "config_version": county.version,
        "route": category.route,
        "community_id": where.community.id,
        "reporter_id": f.reporter.id,
        "anonymous": cmd.anonymous,
        "description": cmd.description,
        "location_text": cmd.location_text,
        "lat": cmd.lat,
        "lng": cmd.lng,
        "status": DISPATCHED,
        "urgent": category.urgent,
        "needs_review": f.needs_review,
        "idempotency_key": f.key,
        "idempotency_hash": f.digest if f.key else None,
        "created_at": now,
        "updated_at": now,
    }
    case = built(Case, values)
    start_clocks(case, county, now)
    case.community = where.community
    case.primary_department_id = where.routing.department(where.routing.routed[0]).id
    return case


def _write(ctx: Context, f: _Filing, where: _Where) -> Filed:
    """The case, its assignments, first events and notifications in one
    transaction, each table's rows in one statement."""
    county, now, routing = ctx.county, f.now, where.routing
    case = _new_case(f, where, county)
    with ctx.uow() as uow:
        conn = uow.session.connection()
        today = fetch(conn, TODAY, {"reporter": f.reporter.id, "since": _day_start(now, county)})
        _within_daily_limit(today[0][0], county)
        photos = own_unused_photos(uow.session, f.reporter.id, f.cmd.photo_ids)
        if any(p.media_check in MEDIA_FLAGGED for p in photos):  # WeChat's image check already said so
            case.needs_review = True
        case.number = next_case_number(conn, county.number_prefix, now.astimezone(county.tz).date())
        try:
            case.id = fetch(conn, INSERT_CASE, case_row(case))[0][0]
        except IntegrityError:
            # A concurrent retry with the same key won the race.
            uow.rollback()
            existing = _existing(uow.session.connection(), f.reporter.id, f.key, f.digest)
            if existing is None:
                raise
            return Filed(existing, False)
        # PostgreSQL: the rest in one round trip, while the day's number is locked.
        with pipelined(conn):
            executemany(conn, INSERT_CLOCK, [clock_row(case)])
            dispatch(conn, case, routing, now)
            events = _first_events(uow.session, case, f, photos, routing, now)
            tell_departments(conn, case, routing, now, county)
        if f.channel is not None:
            f.channel.write(uow.session, case)
        uow.commit()
    return Filed(case.id, True, filed_view(case, events, photos, f.reporter, county))


def _first_events(
    s: Session, case: Case, f: _Filing, photos: list[Photo], routing: Routing, now: datetime
) -> list[CaseEvent]:
    """``submitted`` (by the reporter, with the photos) and ``dispatched``."""
    note = f.channel.note if f.channel else ""
    submitted = event_by(case, "submitted", now, f.reporter, note=note)
    sent = dispatched(case, routing, now, f"按责任清单（{case.config_version}）派发")
    insert_events(s, [submitted, sent], photos)
    return [submitted, sent]


def load_case(ctx: Context, case_id: int) -> Case:
    """A case with its assignments, events and community, detached for shaping."""
    with ctx.read() as uow:
        case = uow.session.scalar(
            select(Case)
            .where(Case.id == case_id)
            .options(selectinload(Case.assignments), selectinload(Case.events))
        )
        if case is None:
            raise NotFound("找不到该工单", "case_not_found")
        uow.session.expunge_all()
    return case
