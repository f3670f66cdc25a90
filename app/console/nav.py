"""The console's navigation: which pages each role sees, in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.models.people import ADMIN, CONSOLE_ROLES, HEAD, SUPERVISOR, SUPERVISORS


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    path: str
    roles: tuple[str, ...]
    group: str = "督办"


NAV = (
    Entry("cases", "工单查询", "/console/cases", CONSOLE_ROLES, "工单"),
    Entry("my_overdue", "本部门超期", "/console/cases?overdue=1", (HEAD,), "工单"),
    Entry("overdue", "超期督办", "/console/overdue", SUPERVISORS),
    Entry("extensions", "延期审批", "/console/extensions", SUPERVISORS),
    Entry("failed", "通知发送失败", "/console/failed-notifications", SUPERVISORS),
    Entry("stats", "办理统计", "/console/stats", SUPERVISORS, "评比"),
    Entry("rankings", "评比排名", "/console/rankings", SUPERVISORS, "评比"),
    Entry("bulletins", "通报", "/console/bulletins/{month}", SUPERVISORS, "评比"),
    Entry("property", "物业企业", "/console/property", SUPERVISORS, "评比"),
    Entry("communities", "小区管理", "/console/communities", (ADMIN,), "管理"),
    Entry("staff", "工作人员", "/console/staff", (ADMIN,), "管理"),
    Entry("routing", "责任清单", "/console/routing", (ADMIN,), "管理"),
    Entry("changes", "变更记录", "/console/changes", (ADMIN,), "管理"),
)


def entries_for(role: str | None, tz: ZoneInfo, now: datetime) -> list[Entry]:
    """The entries ``role`` sees; ``{month}`` is this month, county time."""
    month = now.astimezone(tz).strftime("%Y-%m")
    return [
        Entry(e.key, e.title, e.path.format(month=month), e.roles, e.group) for e in NAV if role in e.roles
    ]


# Where each role lands after login.
HOME = {HEAD: "/console/cases", SUPERVISOR: "/console/overdue", ADMIN: "/console/overdue"}
