"""A resident files a case: check the text, route it, start the clocks, write
the case, its first events and the departments' notifications at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.models import Case, Community, User
from handlers.cases.access import own_unused_photos
from handlers.cases.clocks import start_clocks
from handlers.cases.content import screen
from handlers.cases.dispatching import announce, assign, routed_departments
from handlers.cases.numbering import next_case_number
from handlers.cases.timeline import record
from handlers.commands import Command, Id
from handlers.context import Context
from handlers.errors import Invalid, NotFound, TooMany
from routing import Category, CountyConfig
from routing.lifecycle import DISPATCHED

MAX_PHOTOS = 9


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


def _existing(s: Session, reporter_id: int, key: str | None, digest: str) -> Case | None:
    """The case this reporter already filed with ``key``; 422 when the key
    was used for another report (an urgent second report is never dropped)."""
    if not key:
        return None
    case = s.scalar(select(Case).where(Case.reporter_id == reporter_id, Case.idempotency_key == key))
    if case is not None and case.idempotency_hash not in (None, digest):
        raise Invalid(
            "这个 Idempotency-Key 已用于另一份内容不同的报告，请为新的报告换一个新的键",
            "idempotency_key_reused",
        )
    return case


def _within_daily_limit(s: Session, reporter_id: int, now: datetime, county: CountyConfig) -> None:
    day_start = datetime.combine(now.astimezone(county.tz).date(), time(0), tzinfo=county.tz)
    today = s.scalar(
        select(func.count(Case.id)).where(Case.reporter_id == reporter_id, Case.created_at >= day_start)
    )
    if (today or 0) >= county.daily_case_limit:
        raise TooMany(f"每天最多提交 {county.daily_case_limit} 件，请明天再试", "daily_limit")


def _new_case(
    s: Session,
    cmd: NewCase,
    category: Category,
    reporter: User,
    community: Community,
    now: datetime,
    county: CountyConfig,
) -> Case:
    return Case(
        number=next_case_number(s, county.number_prefix, now.astimezone(county.tz).date()),
        category=category.code,
        config_version=county.version,
        route=category.route,
        community_id=community.id,
        community=community,
        reporter_id=reporter.id,
        anonymous=cmd.anonymous,
        description=cmd.description,
        location_text=cmd.location_text,
        lat=cmd.lat,
        lng=cmd.lng,
        status=DISPATCHED,
        urgent=category.urgent,
        created_at=now,
        updated_at=now,
    )


def _reporter(ctx: Context, reporter_id: int, key: str | None, digest: str) -> tuple[str, int | None]:
    """The reporter's openid, and the id of the case a repeated key already filed."""
    with ctx.read() as uow:
        existing = _existing(uow.session, reporter_id, key, digest)
        existing_id = existing.id if existing is not None else None
        reporter = uow.session.get(User, reporter_id)
        if reporter is None:
            raise NotFound("账号不存在")
        openid = reporter.openid
    return openid, existing_id


def file_case(
    ctx: Context,
    reporter_id: int,
    cmd: NewCase,
    idempotency_key: str | None = None,
    channel: Channel | None = None,
) -> tuple[int, bool]:
    """File the case; answers (case id, created) without reading it back (the
    caller reads what it shows). A repeated idempotency key answers the first
    case and files nothing."""
    category = ctx.county.categories.get(cmd.category)
    if category is None:
        raise Invalid("请选择有效的问题类别", "unknown_category")
    digest = body_hash(cmd)
    openid, existing = _reporter(ctx, reporter_id, idempotency_key, digest)
    if existing is not None:
        return existing, False
    needs_review = screen(ctx, f"{cmd.description}\n{cmd.location_text}".strip(), openid)
    filing = _Filing(reporter_id, cmd, category, idempotency_key, digest, needs_review, channel)
    case_id, created = _write(ctx, filing)
    if created:
        # Counted once committed: a filing rolled back or answered from its key is not.
        ctx.metrics.case_filed(category.code)
        ctx.wake_outbox()
    return case_id, created


def submit_case(
    ctx: Context,
    reporter_id: int,
    cmd: NewCase,
    idempotency_key: str | None = None,
    channel: Channel | None = None,
) -> tuple[Case, bool]:
    """``file_case``, answering the case itself (assignments and events loaded)."""
    case_id, created = file_case(ctx, reporter_id, cmd, idempotency_key, channel)
    return load_case(ctx, case_id), created


@dataclass(frozen=True)
class _Filing:
    reporter_id: int
    cmd: NewCase
    category: Category
    key: str | None
    digest: str
    needs_review: bool
    channel: Channel | None


def _write(ctx: Context, f: _Filing) -> tuple[int, bool]:
    """The case, its assignments, first events and notifications in one
    transaction; (case id, created)."""
    county, now = ctx.county, ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        community = s.get(Community, f.cmd.community_id)
        if community is None:
            raise NotFound("找不到该小区", "unknown_community")
        reporter = s.get(User, f.reporter_id)
        assert reporter is not None
        _within_daily_limit(s, reporter.id, now, county)
        photos = own_unused_photos(s, reporter.id, f.cmd.photo_ids)
        routed, departments = routed_departments(s, county, f.category.code, community.township.name)
        case = _new_case(s, f.cmd, f.category, reporter, community, now, county)
        case.needs_review, case.idempotency_key = f.needs_review, f.key
        case.idempotency_hash = f.digest if f.key else None
        s.add(case)
        start_clocks(case, county, now)
        assign(s, case, routed, departments, now)
        try:
            s.flush()
        except IntegrityError:
            # A concurrent retry with the same key won the race.
            uow.rollback()
            existing = _existing(uow.session, f.reporter_id, f.key, f.digest)
            if existing is None:
                raise
            return existing.id, False
        note = f.channel.note if f.channel else ""
        record(s, case, "submitted", now, by=reporter, note=note, photo_ids=[p.id for p in photos])
        if f.channel is not None:
            f.channel.write(s, case)
        announce(s, case, routed, departments, now, county, f"按责任清单（{county.version}）派发")
        uow.commit()
        return case.id, True


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
