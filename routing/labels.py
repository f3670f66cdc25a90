"""Words people read: status, timeline and role names, and the notices a
resident gets. A county may rename any of them under ``labels:`` in its file;
what it leaves out keeps the wording here. Ladder-step and violation-step
names are not here: they are the ``escalation`` labels and the
``violation_ladder`` step names of the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from routing.lifecycle import STATUSES

DEFAULTS: dict[str, dict[str, str]] = {
    "statuses": {
        "submitted": "已提交",
        "dispatched": "待签收",
        "accepted": "办理中",
        "resolved": "已办结",
        "closed": "已关闭",
        "returned": "已退回",
        "reopened": "重新办理",
        "rejected": "不予受理",
        "merged": "已合并",
    },
    # Timeline kinds (DESIGN's list, and the property ladder's own events).
    "events": {
        "submitted": "提交",
        "dispatched": "派发",
        "accepted": "签收",
        "progress": "进展",
        "returned": "退回",
        "extension_requested": "申请延期",
        "extension_approved": "批准延期",
        "extension_denied": "驳回延期",
        "resolved": "办结",
        "rated": "评价",
        "reopened": "重新打开",
        "rejected": "不予受理",
        "merged": "合并",
        "closed": "关闭",
        "escalated": "督办提醒",
        "referred": "移交",
        "violation_confirmed": "查实违规",
        "violation_withdrawn": "撤销认定",
        "ladder_step": "九不准处置",
        "ladder_withdrawn": "撤回处置",
    },
    "roles": {
        "resident": "居民",
        "handler": "承办人",
        "head": "部门负责人",
        "supervisor": "督办人员",
        "admin": "管理员",
    },
    "deadlines": {"accept": "签收", "resolve": "办结"},
    # Who did it, on a timeline, when it was not a department.
    "actors": {"system": "系统", "resident": "居民", "anonymous": "匿名居民"},
    # What a resident's push says of their case (the template's short
    # ``phrase`` keyword takes the words before the first comma).
    "notices": {
        "accepted": "已签收，正在处理",
        "resolved": "已办结，请评价",
        "returned": "已退回，正在重新派发",
        "rejected": "不予受理",
        "merged": "已合并办理",
        "closed": "已关闭",
        "referred": "已移交，由接收部门办理",
    },
}


@dataclass(frozen=True)
class Labels:
    statuses: MappingProxyType[str, str]
    events: MappingProxyType[str, str]
    roles: MappingProxyType[str, str]
    deadlines: MappingProxyType[str, str]
    actors: MappingProxyType[str, str]
    notices: MappingProxyType[str, str]

    def status(self, code: str) -> str:
        return self.statuses.get(code, code)


def parse_labels(raw: Any, problems: list[str]) -> Labels:
    """The defaults with the file's words over them; unknown sections or keys
    are problems (a typo would otherwise silently keep the old word)."""
    given = raw or {}
    if not isinstance(given, dict):
        problems.append("labels：应按部分（statuses、events 等）列出文字")
        given = {}
    for section in given:
        if section not in DEFAULTS:
            problems.append(f"labels：未知部分“{section}”（可用：{'、'.join(DEFAULTS)}）")
    merged: dict[str, MappingProxyType[str, str]] = {}
    for section, words in DEFAULTS.items():
        mine = given.get(section) or {}
        if not isinstance(mine, dict):
            problems.append(f"labels.{section}：应为“代码: 文字”的映射")
            mine = {}
        for key, value in mine.items():
            if key not in words:
                problems.append(f"labels.{section}：未知代码“{key}”")
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"labels.{section}.{key}：应为非空文字")
        merged[section] = MappingProxyType({**words, **{k: str(v) for k, v in mine.items() if k in words}})
    assert set(merged["statuses"]) >= set(STATUSES)
    return Labels(**merged)
