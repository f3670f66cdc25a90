"""How the domain's states read for people."""

from __future__ import annotations

STATUS_LABELS = {
    "submitted": "已提交",
    "dispatched": "待签收",
    "accepted": "办理中",
    "resolved": "已办结",
    "closed": "已关闭",
    "returned": "已退回",
    "reopened": "重新办理",
    "rejected": "不予受理",
    "merged": "已合并",
}
