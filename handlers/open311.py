"""Open311 GeoReport v2 for other civic tools: API keys that file cases as
their own reporter (so routing, content security and the daily limit apply
as to any resident, the limit counting per key), and the public view of
cases: what was reported, where, its state and who handles it. Never the
reporter, their phone or openid, nor photos."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.models import Case, Community, Open311Filing, Open311Key, User
from handlers.cases.submit import Channel, NewCase, submit_case
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from routing.lifecycle import OPEN

# What GeoReport calls a request still to be handled; every other state is closed.
OPEN_STATUSES = OPEN
MAX_SPAN = timedelta(days=90)  # the spec's longest start_date..end_date range, and its default
MAX_RESULTS = 1000  # the spec's default query limit


@dataclass(frozen=True)
class Service:
    """A category, as a GeoReport service."""

    code: str
    name: str
    description: str
    group: str
    keywords: str  # the responsibility list's item and its words


@dataclass(frozen=True)
class Choice:
    key: int
    name: str


def services(ctx: Context) -> list[Service]:
    county = ctx.county
    out = []
    for c in county.categories.values():
        route = county.routes.get(c.route)
        words = [w.strip() for w in (route.title if route else "").split("、") if w.strip()]
        out.append(Service(c.code, c.name, c.help or c.name, c.group, ", ".join([c.route, *words])))
    return out


def service_definition(ctx: Context, code: str) -> tuple[Service, list[Choice]]:
    """The service and its one attribute's choices: every community."""
    service = next((s for s in services(ctx) if s.code == code), None)
    if service is None:
        raise NotFound("找不到该问题类别", "unknown_category")
    with ctx.uow() as uow:
        rows = uow.session.execute(select(Community.id, Community.name).order_by(Community.id)).all()
    return service, [Choice(key, name) for key, name in rows]


def _hash(api_key: str) -> str:
    return hashlib.sha256(api_key.strip().encode()).hexdigest()


def new_key(ctx: Context, name: str) -> str:
    """A new API key named ``name``, filing as a reporter of its own; only its
    hash is kept, so the key is shown this once."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise Invalid("密钥名称应为 1 到 64 个字", "open311_key_name")
    key = "o311_" + secrets.token_urlsafe(32)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        if s.scalar(select(Open311Key.id).where(Open311Key.name == name)) is not None:
            raise Conflict(f"已有名为“{name}”的 Open311 密钥", "open311_key_exists")
        reporter = User(
            openid=f"open311-{secrets.token_hex(12)}", display_name=f"Open311：{name}", created_at=now
        )
        s.add(reporter)
        s.flush()
        s.add(Open311Key(name=name, key_hash=_hash(key), user_id=reporter.id, created_at=now))
        uow.commit()
    return key


def _holder(s: Session, api_key: str) -> Open311Key:
    key = s.scalar(select(Open311Key).where(Open311Key.key_hash == _hash(api_key))) if api_key else None
    if key is None:
        raise Forbidden("API 密钥无效", "open311_bad_key")
    return key


def file_request(ctx: Context, api_key: str, cmd: NewCase, media_url: str | None) -> PublicRequest:
    """File a case for the key's holder through the one filing handler."""
    with ctx.uow() as uow:
        key = _holder(uow.session, api_key)
        key_id, reporter_id, name = key.id, key.user_id, key.name
    note = f"经 Open311 接口（{name}）提交"
    if media_url:
        note += f"；对方附的链接（系统未下载，请谨慎打开）：{media_url}"

    def write(s: Session, case: Case) -> None:
        s.add(Open311Filing(case_id=case.id, key_id=key_id, media_url=media_url))

    case, _ = submit_case(ctx, reporter_id, cmd, None, Channel(note=note, write=write))
    return request_by_id(ctx, case.id)


@dataclass(frozen=True)
class PublicRequest:
    """A case as anyone may read it."""

    id: int
    open: bool
    status_label: str  # the county's word for the case's state
    service_code: str
    service_name: str
    description: str
    agency_responsible: str | None  # the primary (主办) department
    service_notice: str  # who handles it, by the responsibility list
    requested_at: datetime
    updated_at: datetime
    expected_at: datetime | None  # the resolve deadline
    address: str
    lat: float | None
    lng: float | None
    media_url: str | None


@dataclass(frozen=True)
class RequestFilter:
    ids: list[int] | None = None  # overrides every other filter
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    open: bool | None = None  # None: open and closed


def _public(ctx: Context, case: Case, media_url: str | None) -> PublicRequest:
    county = ctx.county
    category = county.categories.get(case.category)
    assignments = sorted(case.assignments, key=lambda a: a.position)
    notice = "；".join(f"{a.role}：{a.department.name}" for a in assignments)
    return PublicRequest(
        id=case.id,
        open=case.status in OPEN_STATUSES,
        status_label=county.labels.status(case.status),
        service_code=case.category,
        service_name=category.name if category else case.category,
        description=case.description,
        agency_responsible=case.primary_department.name if case.primary_department else None,
        service_notice=f"按责任清单办理（{notice}）" if notice else "",
        requested_at=case.created_at,
        updated_at=case.updated_at,
        expected_at=case.resolve_due_at,
        address=case.location_text,
        lat=case.lat,
        lng=case.lng,
        media_url=media_url,
    )


def _load(ctx: Context, query: Select[tuple[Case, str | None]]) -> list[PublicRequest]:
    query = query.outerjoin(Open311Filing, Open311Filing.case_id == Case.id).options(
        selectinload(Case.assignments)
    )
    with ctx.uow() as uow:
        return [_public(ctx, case, media_url) for case, media_url in uow.session.execute(query).all()]


def request_by_id(ctx: Context, case_id: int) -> PublicRequest:
    found = _load(ctx, select(Case, Open311Filing.media_url).where(Case.id == case_id))
    if not found:
        raise NotFound("找不到该工单", "case_not_found")
    return found[0]


def _window(f: RequestFilter, now: datetime) -> tuple[datetime, datetime]:
    """start..end, at most 90 days; the most recent 90 days by default."""
    if f.start and f.end:
        start, end = f.start, f.end
    elif f.start:
        start, end = f.start, f.start + MAX_SPAN
    elif f.end:
        start, end = f.end - MAX_SPAN, f.end
    else:
        start, end = now - MAX_SPAN, now
    if end < start:
        raise Invalid("结束时间应晚于开始时间", "open311_bad_range")
    if end - start > MAX_SPAN:
        raise Invalid("查询时间范围不能超过 90 天", "open311_span_too_long")
    return start, end


def requests_matching(ctx: Context, f: RequestFilter) -> list[PublicRequest]:
    """Newest first, at most 1000; ``ids`` overrides every other filter."""
    query = select(Case, Open311Filing.media_url)
    if f.ids is not None:
        query = query.where(Case.id.in_(f.ids[:MAX_RESULTS]))
    else:
        start, end = _window(f, ctx.now())
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        if f.service_codes is not None:
            query = query.where(Case.category.in_(f.service_codes))
        if f.open is not None:
            in_open = Case.status.in_(OPEN_STATUSES)
            query = query.where(in_open if f.open else ~in_open)
    return _load(ctx, query.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS))
