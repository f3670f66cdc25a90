"""The responsibility list as versioned data.

Each version is the document exactly as published (the text a
``CASES_CONFIG`` file holds), checked as ``routing check`` checks a file, with
who published it, when, why, and from when it is in effect. The version in
effect is the latest whose ``effective_from`` has come on the one clock; a
case keeps the version it was routed under. The shipped file is the first
version of an empty database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import RoutingVersion
from handlers.admin.audit import Actor, admin, record_change
from handlers.commands import Command
from handlers.context import Context
from handlers.errors import Conflict, Invalid, NotFound
from handlers.paging import one_page
from handlers.seed import ensure_units
from routing import ConfigError, CountyConfig, check_document, parse_document
from routing.diff import Changes, diff
from routing.periods import FIRST_YEAR, LAST_YEAR, parse_day

BOOTSTRAP = Actor(None, "系统（初始清单）")
NEWEST_FIRST = (RoutingVersion.effective_from.desc(), RoutingVersion.id.desc())


class PublishVersion(Command):
    """A new version of the responsibility list (POST /admin/routing/versions)."""

    document: str = Field(
        min_length=1, max_length=500_000, title="责任清单", description="县区配置文件（YAML）的全文"
    )
    effective_from: str | None = Field(
        default=None,
        min_length=10,
        max_length=40,
        title="生效时间",
        description="日期（当天 0 点起，县区时间）或带时区的时间；不填即刻生效",
    )
    note: str = Field(min_length=1, max_length=500, title="说明")


@dataclass(frozen=True)
class VersionInfo:
    version: str
    effective_from: datetime
    created_at: datetime
    created_by: str
    note: str
    in_effect: bool
    document: str = ""


@dataclass(frozen=True)
class Published:
    version: VersionInfo
    against: str  # the version in effect when it was published
    changes: Changes
    warnings: list[str]


@dataclass(frozen=True)
class VersionDiff:
    version: str
    against: str
    changes: Changes


# -- what every process asks (app/routing_versions.py) ----------------------------------


def version_in_effect(s: Session, now: datetime) -> str | None:
    """The latest version whose time has come; before the first, the first."""
    name = s.scalar(
        select(RoutingVersion.version)
        .where(RoutingVersion.effective_from <= now)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    )
    if name is None:
        name = s.scalar(
            select(RoutingVersion.version).order_by(RoutingVersion.effective_from, RoutingVersion.id).limit(1)
        )
    return name


def stored_document(s: Session, version: str) -> str | None:
    return s.scalar(select(RoutingVersion.document).where(RoutingVersion.version == version))


def record_first_version(s: Session, text: str, now: datetime) -> str:
    """The shipped file becomes the first version, in effect since its own
    ``effective_date``; its departments and townships get their rows."""
    config = checked(text)
    ensure_units(s, config)
    start = datetime.combine(config.effective_date, time(0), tzinfo=config.tz).astimezone(UTC)
    _store(s, text, config, start, now, BOOTSTRAP, "初始版本（CASES_CONFIG）")
    return config.version


# -- publishing ----------------------------------------------------------------------------


def checked(text: str) -> CountyConfig:
    """The document as ``routing check`` sees it; a 422 naming every problem."""
    try:
        return parse_document(text)
    except ConfigError as exc:
        listed = "；".join(f"{i}. {p}" for i, p in enumerate(exc.problems, start=1))
        raise Invalid(
            f"责任清单有 {len(exc.problems)} 处问题，均未发布：{listed}", "invalid_routing", exc.problems
        ) from exc


def effective_from(text: str | None, now: datetime, tz: ZoneInfo) -> datetime:
    """Now, a date (from its start, county time) or a time; never in the past."""
    if text is None:
        return now
    try:
        if len(text) == 10:
            day = parse_day(text)
            if day < now.astimezone(tz).date():
                raise Invalid("生效日期不能早于今天", "invalid_effective_from")
            return max(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC), now)
        value = datetime.fromisoformat(text)
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError("year out of range")
    except ValueError as exc:
        raise Invalid(
            "生效时间格式不正确，例如 2026-07-01 或 2026-07-01T08:00:00+08:00", "invalid_effective_from"
        ) from exc
    value = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if value < now - timedelta(minutes=1):
        raise Invalid("生效时间不能早于现在", "invalid_effective_from")
    return max(value.astimezone(UTC), now)


def _store(
    s: Session, text: str, config: CountyConfig, start: datetime, now: datetime, by: Actor, note: str
) -> RoutingVersion:
    row = RoutingVersion(
        version=config.version,
        document=text,
        effective_from=start,
        created_at=now,
        created_by_id=by.id,
        created_by=by.label,
        note=note,
    )
    s.add(row)
    s.flush()
    after = {"effective_from": start.astimezone(config.tz).isoformat(), "note": note}
    record_change(s, now, by, "routing_version", config.version, "publish", None, after)
    return row


def publish_version(ctx: Context, cmd: PublishVersion, user_id: int | None) -> Published:
    """Check and store a new version; every process routes new cases by it
    within seconds of its ``effective_from``."""
    config = checked(cmd.document)
    now = ctx.now()
    start = effective_from(cmd.effective_from, now, config.tz)
    taken = Conflict(f"版本号 {config.version} 已发布过，请修改文件中的 version 后再发布", "version_exists")
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        if stored_document(s, config.version) is not None:
            raise taken
        ensure_units(s, config, refresh=False)
        row = _store(s, cmd.document, config, start, now, by, cmd.note)
        current = version_in_effect(s, now) == config.version
        try:
            uow.commit()
        except IntegrityError as exc:  # the same version published at the same moment
            raise taken from exc
        info = _info(row, current)
    if ctx.routing is not None:
        ctx.routing.changed()
    _, warnings = check_document(cmd.document, now.astimezone(config.tz).date())
    return Published(info, ctx.county.version, diff(ctx.county, config), warnings)


# -- reading -------------------------------------------------------------------------------


def _info(row: RoutingVersion, in_effect: bool, with_document: bool = False) -> VersionInfo:
    return VersionInfo(
        version=row.version,
        effective_from=row.effective_from,
        created_at=row.created_at,
        created_by=row.created_by,
        note=row.note,
        in_effect=in_effect,
        document=row.document if with_document else "",
    )


def list_versions(ctx: Context, user_id: int, page: int, per_page: int) -> tuple[list[VersionInfo], int]:
    """Every version, the latest to take effect first, the one in effect marked."""
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        current = version_in_effect(s, ctx.now())
        rows, total = one_page(s, RoutingVersion, (), NEWEST_FIRST, page, per_page)
        return [_info(r, r.version == current) for r in rows], total


def _row(s: Session, version: str) -> RoutingVersion:
    row = s.scalar(select(RoutingVersion).where(RoutingVersion.version == version))
    if row is None:
        raise NotFound(f"找不到责任清单版本 {version}", "version_not_found")
    return row


def version_detail(ctx: Context, user_id: int, version: str) -> VersionInfo:
    """One version with its document as published."""
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        row = _row(s, version)
        return _info(row, version_in_effect(s, ctx.now()) == row.version, with_document=True)


def diff_versions(ctx: Context, user_id: int, version: str, against: str | None) -> VersionDiff:
    """What ``version`` adds, removes and changes against ``against``
    (default: the version before it)."""
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        row = _row(s, version)
        if against is None:
            earlier = s.scalar(
                select(RoutingVersion)
                .where(
                    (RoutingVersion.effective_from < row.effective_from)
                    | ((RoutingVersion.effective_from == row.effective_from) & (RoutingVersion.id < row.id))
                )
                .order_by(*NEWEST_FIRST)
                .limit(1)
            )
            if earlier is None:
                raise Conflict(f"{version} 是第一个版本，没有可比较的上一版本", "no_previous_version")
            other = earlier
        else:
            other = _row(s, against)
        before, after = parse_document(other.document), parse_document(row.document)
    return VersionDiff(version, other.version, diff(before, after))
