"""Subscribe-message templates, users' answers and quotas, and failed notifications."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel, Field, RootModel

from app.api.answers import CaseRef, Listing, answer, iso
from app.api.web import Paging, blueprint, caller, ctx, errors, supervisor
from handlers.cases.handling import Nothing
from handlers.commands import ParamId, Query
from handlers.errors import Invalid
from handlers.notifications.failures import Failure, failed_notifications, retry_notification
from handlers.notifications.subscriptions import quotas, record_answers, templates_for

bp = blueprint("subscriptions", "/api/v1", "订阅消息")


class Templates(RootModel[dict[str, str]]):
    """{用途: 模板 id}：new_case（新工单）、escalation（督办提醒）、case_update（工单进展）"""


class Answers(RootModel[dict[str, object]]):
    """wx.requestSubscribeMessage 的结果：{模板 id: accept|reject|ban|filter}"""


class QuotaOut(BaseModel):
    quota: dict[str, int] = Field(description="每个模板剩余可发送的条数")


@bp.get("/subscribe-templates", responses={200: Templates})
def subscribe_templates() -> Response:
    """小程序应请用户订阅的模板：{用途: 模板 id}"""
    caller()
    return answer(Templates(templates_for(ctx().county)))


@bp.get("/staff/subscriptions", responses={200: QuotaOut})
def my_quota() -> Response:
    """调用者每个模板还能收到几条订阅消息"""
    return answer(QuotaOut(quota=quotas(ctx(), caller().id)))


@bp.post("/staff/subscriptions", responses={200: QuotaOut})
def subscriptions(body: Answers) -> Response:
    """提交 wx.requestSubscribeMessage 的结果（不认识的模板 id 忽略）"""
    user = caller()
    if len(body.root) > 50:
        raise Invalid("一次最多提交 50 个模板", "too_many_templates")
    return answer(QuotaOut(quota=record_answers(ctx(), user.id, dict(body.root))))


class Recipient(BaseModel):
    id: int
    role: str
    department: str | None


class FailureOut(BaseModel):
    id: int
    status: str
    purpose: str
    case: CaseRef | None
    recipient: Recipient
    attempts: int
    error: str
    created_at: str | None


def _failure(f: Failure) -> FailureOut:
    n, u = f.notification, f.recipient
    return FailureOut(
        id=n.id,
        status=n.status,
        purpose=n.purpose,
        case=CaseRef(id=n.case_id, number=f.case_number) if n.case_id and f.case_number else None,
        recipient=Recipient(id=u.id, role=u.role, department=u.department.name if u.department else None),
        attempts=n.attempts,
        error=n.last_error,
        created_at=iso(n.created_at, ctx().county.tz),
    )


@bp.get("/supervision/failed-notifications", responses={200: Listing[FailureOut]} | errors(403))
def failed(query: Paging) -> Response:
    """无法送达的通知和联系不上的工作人员，最新的在前"""
    supervisor()
    rows, total = failed_notifications(ctx(), query.page, query.per_page)
    items = [_failure(f) for f in rows]
    return answer(Listing[FailureOut](items=items, page=query.page, per_page=query.per_page, total=total))


class NotificationPath(Query):
    notification_id: ParamId = Field(title="通知")


class Retried(BaseModel):
    id: int
    status: str


@bp.post(
    "/supervision/failed-notifications/<notification_id>/retry",
    responses={200: Retried} | errors(403, 404, 409),
)
def retry(path: NotificationPath, body: Nothing) -> Response:
    """重新发送一条发送失败的通知（回到待发送队列，立即发送）"""
    retry_notification(ctx(), path.notification_id, supervisor().id)
    return answer(Retried(id=path.notification_id, status="pending"))
