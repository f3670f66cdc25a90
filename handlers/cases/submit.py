"""A resident files a case: validate, check the text, route, start the clocks,
write the case, its first events and the departments' notifications at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Case, Community, Photo, User
from app.models.cases import DISPATCHED
from handlers.cases.clocks import start_clocks
from handlers.cases.dispatching import announce, assign, routed_departments
from handlers.cases.numbering import next_case_number
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Invalid, NotFound, TooMany
from handlers.ports import WeChatUnavailable

MAX_PHOTOS = 9


@dataclass
class SubmitCase:
    reporter_id: int
    category: str
    community_id: int
    description: str
    location_text: str = ""
    lat: float | None = None
    lng: float | None = None
    photo_ids: list[str] = field(default_factory=list)
    anonymous: bool = False
    idempotency_key: str | None = None


def _existing(session: Session, cmd: SubmitCase) -> Case | None:
    if not cmd.idempotency_key:
        return None
    return session.scalar(
        select(Case).where(Case.reporter_id == cmd.reporter_id, Case.idempotency_key == cmd.idempotency_key)
    )


def _county_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def _check_text(ctx: Context, text: str, openid: str) -> bool:
    """True when the text must be reviewed by a person (WeChat was away or unsure)."""
    try:
        verdict = ctx.wechat.check_text(text, openid)
    except WeChatUnavailable:
        return True
    if verdict == "risky":
        raise Invalid("内容含有不当信息，请修改后再提交", "content_risky")
    return verdict != "pass"


def submit_case(ctx: Context, cmd: SubmitCase) -> tuple[Case, bool]:
    """File the case; answers (case, created). A repeated idempotency key
    answers the first case and files nothing."""
    county = ctx.county
    category = county.categories.get(cmd.category)
    if category is None:
        raise Invalid("请选择有效的问题类别", "unknown_category")
    if not 5 <= len(cmd.description) <= 1000:
        raise Invalid("问题描述应为 5 到 1000 个字", "invalid_description")
    if len(cmd.location_text) > 200:
        raise Invalid("位置描述最多 200 个字", "invalid_location")
    if len(cmd.photo_ids) > MAX_PHOTOS:
        raise Invalid(f"最多上传 {MAX_PHOTOS} 张照片", "too_many_photos")
    if len(set(cmd.photo_ids)) != len(cmd.photo_ids):
        raise Invalid("照片重复", "duplicate_photos")
    if (cmd.lat is None) != (cmd.lng is None):
        raise Invalid("经纬度需要同时提供", "invalid_coordinates")
    if cmd.lat is not None and cmd.lng is not None and not (-90 <= cmd.lat <= 90 and -180 <= cmd.lng <= 180):
        raise Invalid("经纬度超出范围", "invalid_coordinates")

    with ctx.uow() as uow:
        existing = _existing(uow.session, cmd)
        if existing is not None:
            uow.session.expunge_all()
            return existing, False
        reporter = uow.session.get(User, cmd.reporter_id)
        if reporter is None:
            raise NotFound("账号不存在")
        openid = reporter.openid

    needs_review = _check_text(ctx, f"{cmd.description}\n{cmd.location_text}".strip(), openid)
    now = ctx.now()
    tz = ZoneInfo(county.timezone)

    with ctx.uow() as uow:
        s = uow.session
        community = s.get(Community, cmd.community_id)
        if community is None:
            raise NotFound("找不到该小区", "unknown_community")
        reporter = s.get(User, cmd.reporter_id)
        assert reporter is not None
        today = s.scalar(
            select(func.count(Case.id)).where(
                Case.reporter_id == reporter.id, Case.created_at >= _county_day_start(now, tz)
            )
        )
        if (today or 0) >= county.daily_case_limit:
            raise TooMany(f"每天最多提交 {county.daily_case_limit} 件，请明天再试", "daily_limit")
        photos = []
        if cmd.photo_ids:
            photos = list(s.scalars(select(Photo).where(Photo.id.in_(cmd.photo_ids))))
            found = {p.id: p for p in photos}
            for pid in cmd.photo_ids:
                photo = found.get(pid)
                if photo is None or photo.owner_id != reporter.id:
                    raise Invalid("照片不存在或不属于您，请重新上传", "unknown_photo")
                if photo.case_id is not None:
                    raise Invalid("照片已用于其他工单，请重新上传", "photo_used")

        routed, departments = routed_departments(s, county, category.code, community.township.name)

        case = Case(
            number=next_case_number(s, county.number_prefix, now.astimezone(tz).date()),
            category=category.code,
            config_version=county.version,
            route=category.route,
            community_id=community.id,
            reporter_id=reporter.id,
            anonymous=cmd.anonymous,
            description=cmd.description,
            location_text=cmd.location_text,
            lat=cmd.lat,
            lng=cmd.lng,
            status=DISPATCHED,
            urgent=category.urgent,
            needs_review=needs_review,
            created_at=now,
            updated_at=now,
            idempotency_key=cmd.idempotency_key,
        )
        s.add(case)
        start_clocks(case, county, now)
        assign(s, case, routed, departments, now)
        try:
            s.flush()
        except IntegrityError:
            # A concurrent retry with the same key won the race.
            uow.rollback()
            existing = _existing(uow.session, cmd)
            if existing is None:
                raise
            uow.session.expunge_all()
            return existing, False
        record(s, case, "submitted", now, by=reporter, photo_ids=[p.id for p in photos])
        announce(s, case, routed, departments, now, county, f"按责任清单（{county.version}）派发")
        uow.commit()
        case_id = case.id
    ctx.wake_outbox()
    return load_case(ctx, case_id), True


def load_case(ctx: Context, case_id: int) -> Case:
    """A case with its assignments, events and community, detached for shaping."""
    from sqlalchemy.orm import selectinload

    with ctx.uow() as uow:
        case = uow.session.scalar(
            select(Case)
            .where(Case.id == case_id)
            .options(selectinload(Case.assignments), selectinload(Case.events))
        )
        if case is None:
            raise NotFound("找不到该工单", "case_not_found")
        uow.session.expunge_all()
    return case
