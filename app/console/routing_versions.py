"""Admins: the responsibility list's versions (list, one version's document,
the diff against another, publishing a new one) and the record of every
change to county data, on the admin API's handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from werkzeug.wrappers import Response

from app.api.admin_routing import DiffQuery, VersionPath
from app.api.errors import status_of
from app.api.web import Paging, ctx
from app.console.forms import DONE, args, done
from app.console.paging import Pager
from app.console.web import bp, local, needs, page, viewer
from app.models.people import ADMIN
from handlers.admin.audit import ENTITIES, ChangeFilter, list_changes
from handlers.admin.routing import (
    PublishVersion,
    diff_versions,
    list_versions,
    publish_version,
    version_detail,
)
from handlers.commands import build
from handlers.errors import DomainError
from routing.diff import SECTIONS

DONE.update({"published": "已发布责任清单新版本"})
# What a change was, as the record on the page says it.
ACTIONS = {
    "create": "新增",
    "edit": "修改",
    "assign": "指定物业",
    "import": "导入",
    "invite": "生成绑定码",
    "bind": "绑定",
    "revoke": "撤销身份",
    "wecom": "企业微信账号",
    "publish": "发布",
}
# A version's fields as a person calls them (routing/diff.py's keys).
FIELDS = {
    "full_name": "全称",
    "hotline": "电话",
    "title": "事项",
    "leads": "牵头部门",
    "responsible": "责任部门",
    "township": "属地",
    "name": "名称",
    "group": "分组",
    "route": "责任清单条目",
    "clause": "“九不准”条款",
    "help": "说明",
    "accept_within": "签收时限",
    "resolve_within": "办结时限",
    "urgent": "紧急",
    "label": "名称",
    "deadlines": "期限",
    "notify": "通知",
    "at_fraction": "时限比例",
    "after_deadline": "超期后",
    "measures": "措施",
    "lower_star": "降星",
    "below_standard": "不达标",
    "blacklist": "列入黑名单",
    "value": "值",
    "text": "内容",
}
# What a change record keeps, as a person calls it (handlers/admin's snapshots).
CHANGE_FIELDS = {
    "name": "名称",
    "township": "乡镇(街道)",
    "address": "地址",
    "lat": "纬度",
    "lng": "经度",
    "company": "物业服务企业",
    "community": "小区",
    "role": "角色",
    "department": "部门",
    "wecom_id": "企业微信",
    "expires_at": "有效期至",
    "effective_from": "生效时间",
    "note": "说明",
}


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "无"
    if key == "role":
        return str(ctx().county.labels.roles.get(value, value))
    if key in ("expires_at", "effective_from") and isinstance(value, str):
        try:
            return local(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def change_text(values: dict[str, Any] | None) -> str:
    """A change record's before or after as one line a person reads."""
    if not values:
        return "—"
    return "；".join(f"{CHANGE_FIELDS.get(k, k)}：{_shown(k, v)}" for k, v in values.items())


def _item_names(*versions: str) -> dict[str, str]:
    """A route's title and a category's name by their keys, as the versions
    compared call them (the first that knows a key wins)."""
    names: dict[str, str] = {}
    for version in versions:
        county = ctx().county_of(version)
        for route in county.routes.values():
            names.setdefault(f"routes:{route.id}", route.title)
        for cat in county.categories.values():
            names.setdefault(f"categories:{cat.code}", cat.name)
            names.setdefault(f"clocks:{cat.code}", cat.name)
    return names


def _all_versions() -> list[Any]:
    rows, _ = list_versions(ctx(), viewer().id, 1, 100)
    return rows


@bp.get("/routing")
@needs(ADMIN)
def routing_versions() -> tuple[str, int]:
    q = args(Paging)
    rows, total = list_versions(ctx(), viewer().id, q.page, q.per_page)
    return page(
        "routing.html",
        rows=rows,
        now=ctx().now(),
        pager=Pager(q.page, q.per_page, total),
        notice=DONE.get(request.args.get("ok", "")),
    )


@bp.get("/routing/versions/<version>")
@needs(ADMIN)
def routing_version(version: str) -> tuple[str, int]:
    name = args(VersionPath, version=version).version
    info = version_detail(ctx(), viewer().id, name)
    against = args(DiffQuery, version=name).against or None
    try:
        found = diff_versions(ctx(), viewer().id, name, against)
        changes, other, why = found.changes, found.against, ""
    except DomainError as exc:
        if against is not None:  # a version asked for by name that is not there
            raise
        changes, other, why = {}, "", exc.message
    return page(
        "routing_version.html",
        info=info,
        changes=changes,
        against=other,
        no_diff=why,
        versions=[v.version for v in _all_versions() if v.version != name],
        sections=SECTIONS,
        fields=FIELDS,
        names=_item_names(name, other) if other else {},
        notice=DONE.get(request.args.get("ok", "")),
    )


def _publish_page(typed: dict[str, str] | None = None, error: Any = None) -> tuple[str, int]:
    if typed is None:
        current = version_detail(ctx(), viewer().id, ctx().county.version)
        typed = {"document": current.document, "effective_from": "", "note": ""}
    return page(
        "routing_publish.html",
        status=status_of(error) if error else 200,
        typed=typed,
        current=ctx().county.version,
        error=error.message if error and not error.problems else "",
        problems=(error.problems or []) if error else [],
    )


@bp.get("/routing/publish")
@needs(ADMIN)
def routing_publish_form() -> tuple[str, int]:
    return _publish_page()


@bp.post("/routing/publish")
@needs(ADMIN)
def routing_publish() -> Response | tuple[str, int]:
    typed = {f: request.form.get(f, "") for f in ("document", "effective_from", "note")}
    given = {k: v.strip() if k != "document" else v for k, v in typed.items() if v.strip()}
    try:
        done_ = publish_version(ctx(), build(PublishVersion, given), viewer().id)
    except DomainError as exc:
        return _publish_page(typed, exc)
    return done(f"/console/routing/versions/{done_.version.version}", "published")


@bp.get("/changes")
@needs(ADMIN)
def changes() -> tuple[str, int]:
    f = args(ChangeFilter)
    rows, total = list_changes(ctx(), viewer().id, f)
    return page(
        "changes.html",
        f=f,
        rows=rows,
        pager=Pager(f.page, f.per_page, total),
        entities=ENTITIES,
        actions=ACTIONS,
        change_text=change_text,
    )
