"""Admins: the responsibility list's versions (publish, list, read, diff)
and the record of every change to county data."""

from __future__ import annotations

from typing import Any

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import Listing, answer, iso
from app.api.web import Paging, admin, blueprint, ctx
from handlers.admin.audit import ENTITIES, ChangeFilter, list_changes
from handlers.admin.routing import (
    PublishVersion,
    VersionInfo,
    diff_versions,
    list_versions,
    publish_version,
    version_detail,
)
from handlers.commands import Query
from routing.config import VERSION_PATTERN
from routing.diff import Changes

bp = blueprint("admin_routing", "/api/v1/admin", "管理：责任清单与变更记录", also=(403, 404, 409))
VERSION = f"^{VERSION_PATTERN.pattern}$"


class VersionOut(BaseModel):
    version: str
    effective_from: str | None
    created_at: str | None
    created_by: str
    note: str
    in_effect: bool = Field(description="现在生效的版本")


class VersionDetailOut(VersionOut):
    document: str = Field(description="发布时的文件全文")


class SectionChanges(BaseModel):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]] = Field(description="[{key, before, after}]，只列出改动的字段")


class DiffOut(BaseModel):
    version: str
    against: str
    changes: dict[str, SectionChanges] = Field(
        description="departments、townships、routes、categories、clocks、escalation、violation_ladder、clauses、settings"
    )


class PublishedOut(VersionOut):
    against: str = Field(description="发布时正在生效的版本")
    changes: dict[str, SectionChanges]
    warnings: list[str]


def _version(info: VersionInfo) -> dict[str, Any]:
    tz = ctx().county.tz
    return {
        "version": info.version,
        "effective_from": iso(info.effective_from, tz),
        "created_at": iso(info.created_at, tz),
        "created_by": info.created_by,
        "note": info.note,
        "in_effect": info.in_effect,
    }


def _changes(changes: Changes) -> dict[str, SectionChanges]:
    return {section: SectionChanges(**part) for section, part in changes.items()}


class VersionPath(Query):
    version: str = Field(min_length=1, max_length=32, pattern=VERSION, title="版本号")


class DiffQuery(Query):
    against: str | None = Field(default=None, max_length=32, pattern=VERSION, title="对比版本")


@bp.get("/routing/versions", responses={200: Listing[VersionOut]})
def versions(query: Paging) -> Response:
    """责任清单的所有版本（最近生效的在前）"""
    rows, total = list_versions(ctx(), admin().id, query.page, query.per_page)
    items = [VersionOut(**_version(r)) for r in rows]
    return answer(Listing[VersionOut](items=items, page=query.page, per_page=query.per_page, total=total))


@bp.post("/routing/versions", responses={201: PublishedOut})
def publish(body: PublishVersion) -> Response:
    """发布责任清单新版本：与 routing check 一样检查（422 逐条列出问题）

    Checked as `routing check` checks a file (422 naming
    every problem); every process routes new cases by it within seconds of
    its effective time."""
    done = publish_version(ctx(), body, admin().id)
    out = PublishedOut(
        **_version(done.version), against=done.against, changes=_changes(done.changes), warnings=done.warnings
    )
    return answer(out, 201)


@bp.get("/routing/versions/<version>", responses={200: VersionDetailOut})
def version(path: VersionPath) -> Response:
    """某个版本及其发布时的原文"""
    info = version_detail(ctx(), admin().id, path.version)
    return answer(VersionDetailOut(**_version(info), document=info.document))


@bp.get("/routing/versions/<version>/diff", responses={200: DiffOut})
def version_diff(path: VersionPath, query: DiffQuery) -> Response:
    """两个版本之间新增、删除和修改了什么（默认与前一版本比较）"""
    found = diff_versions(ctx(), admin().id, path.version, query.against or None)
    return answer(DiffOut(version=found.version, against=found.against, changes=_changes(found.changes)))


class ChangeOut(BaseModel):
    id: int
    at: str | None
    by: str
    by_id: int | None
    entity: str = Field(description="community、assignment、staff、routing_version")
    entity_name: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str


@bp.get("/changes", responses={200: Listing[ChangeOut]})
def changes(query: ChangeFilter) -> Response:
    """县区数据的每一次变更（最新的在前）：谁、何时、修改前后"""
    rows, total = list_changes(ctx(), admin().id, query)
    tz = ctx().county.tz
    items = [
        ChangeOut(
            id=c.id,
            at=iso(c.at, tz),
            by=c.actor,
            by_id=c.actor_id,
            entity=c.entity,
            entity_name=ENTITIES.get(c.entity, c.entity),
            entity_id=c.entity_id,
            action=c.action,
            before=c.before,
            after=c.after,
            note=c.note,
        )
        for c in rows
    ]
    return answer(Listing[ChangeOut](items=items, page=query.page, per_page=query.per_page, total=total))
