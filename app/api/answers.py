"""The JSON shapes of the answers, declared once as pydantic models (they are
the responses of the published OpenAPI document), and the few functions that
build them from what the handlers return."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from flask import Response
from pydantic import BaseModel, Field

from app.api.photo_links import signed_url
from app.models import Case, Photo, User
from app.models.cases import MEDIA_RISKY
from handlers.cases.queries import CaseLink, CaseView
from routing import CountyConfig

T = TypeVar("T")


def iso(value: datetime | None, tz: ZoneInfo | None = None) -> str | None:
    """ISO 8601 with its offset, in the county's time zone when given."""
    if value is None:
        return None
    return value.astimezone(tz).isoformat() if tz is not None else value.isoformat()


def answer(model: BaseModel, status: int = 200) -> Response:
    """The model as the answer's JSON, written by pydantic itself (its fields
    in their declared order), ended by a newline as Flask's ``jsonify`` ends it."""
    return Response(answer_bytes(model), status=status, mimetype="application/json")


def answer_bytes(model: BaseModel) -> bytes:
    """The body ``answer`` sends."""
    return model.model_dump_json(by_alias=True).encode() + b"\n"


class ErrorDetail(BaseModel):
    code: str = Field(description="机器可读的错误代码")
    message: str = Field(description="给人看的中文说明")
    problems: list[str] | None = Field(
        default=None, description="需要一并修改的每一处问题（如责任清单版本的校验结果）"
    )


class ErrorOut(BaseModel):
    error: ErrorDetail


class Listing(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int


class DepartmentRef(BaseModel):
    id: int
    name: str
    kind: str = Field(description="department 或 township")


class UserOut(BaseModel):
    id: int
    role: str
    department: DepartmentRef | None


def user_out(user: User) -> UserOut:
    d = user.department
    return UserOut(
        id=user.id, role=user.role, department=DepartmentRef(id=d.id, name=d.name, kind=d.kind) if d else None
    )


class PhotoOut(BaseModel):
    id: str
    width: int
    height: int
    url: str = Field(description="签名链接，无需登录头即可打开，过期后失效")
    thumb_url: str


class UploadedPhotoOut(PhotoOut):
    sha256: str


def photo_out(photo: Photo) -> PhotoOut:
    # A risky photo reaches only its uploader and the supervisors, through
    # links that open it (handlers/cases/access.py: photo_visible_to).
    restricted = photo.media_check == MEDIA_RISKY
    return PhotoOut(
        id=photo.id,
        width=photo.width,
        height=photo.height,
        url=signed_url(photo.id, "display", restricted),
        thumb_url=signed_url(photo.id, "thumb", restricted),
    )


class CommunityRef(BaseModel):
    id: int
    name: str
    township: str


class CaseDepartment(BaseModel):
    id: int
    name: str
    role: str = Field(description="主办、协办 或 属地")


class CaseSummary(BaseModel):
    id: int
    number: str
    category: str
    category_name: str
    community: CommunityRef
    status: str
    urgent: bool
    description: str
    location_text: str
    departments: list[CaseDepartment]
    accept_due_at: str | None
    resolve_due_at: str | None
    created_at: str | None
    escalation_step: str | None
    needs_review: bool


def case_summary(case: Case, county: CountyConfig) -> CaseSummary:
    category = county.categories.get(case.category)
    tz = county.tz
    return CaseSummary(
        id=case.id,
        number=case.number,
        category=case.category,
        category_name=category.name if category else case.category,
        community=CommunityRef(
            id=case.community.id, name=case.community.name, township=case.community.township.name
        ),
        status=case.status,
        urgent=case.urgent,
        description=case.description,
        location_text=case.location_text,
        departments=[
            CaseDepartment(id=a.department_id, name=a.department.name, role=a.role)
            for a in sorted(case.assignments, key=lambda a: a.position)
        ],
        accept_due_at=iso(case.accept_due_at, tz),
        resolve_due_at=iso(case.resolve_due_at, tz),
        created_at=iso(case.created_at, tz),
        escalation_step=case.escalation_step,
        needs_review=case.needs_review,
    )


class CaseRef(BaseModel):
    id: int
    number: str


class ReferralRef(CaseRef):
    department: str = Field(description="主办部门")


class TimelineOut(BaseModel):
    at: str | None
    kind: str
    by: str
    note: str
    step: str | None
    photos: list[PhotoOut]
    related_case: ReferralRef | None = Field(default=None, description="移交（referred）事件所指的另一件工单")


class PendingExtension(BaseModel):
    id: int
    until: str | None
    reason: str


class CaseOut(CaseSummary):
    lat: float | None
    lng: float | None
    anonymous: bool
    rating: int | None
    reject_reason: str
    merged_into: int | None
    resolved_at: str | None
    photos: list[PhotoOut]
    timeline: list[TimelineOut]
    actions: list[str] = Field(description="调用者现在可以进行的操作（来自工单流转表）")
    my_role: str | None = Field(description="调用者所在部门在本工单中的角色")
    pending_extension: PendingExtension | None
    referred_from: ReferralRef | None = Field(default=None, description="本工单由哪件工单移交而来")
    referred_to: list[ReferralRef] = Field(default_factory=list, description="本工单移交出的工单")


def case_out(view: CaseView, county: CountyConfig) -> CaseOut:
    case, tz = view.case, county.tz
    pending = view.pending_extension
    return CaseOut(
        **case_summary(case, county).model_dump(),
        lat=case.lat,
        lng=case.lng,
        anonymous=case.anonymous,
        rating=case.rating,
        reject_reason=case.reject_reason,
        merged_into=case.merged_into_id,
        resolved_at=iso(case.resolved_at, tz),
        photos=[photo_out(p) for p in view.photos],
        timeline=[
            TimelineOut(
                at=iso(e.at, tz),
                kind=e.kind,
                by=e.by,
                note=e.note,
                step=e.step,
                photos=[photo_out(p) for p in e.photos],
                related_case=_ref(e.related),
            )
            for e in view.timeline
        ],
        actions=view.actions,
        my_role=view.my_role,
        pending_extension=PendingExtension(id=pending.id, until=iso(pending.until, tz), reason=pending.reason)
        if pending
        else None,
        referred_from=_ref(view.referred_from),
        referred_to=[r for r in (_ref(link) for link in view.referred_to) if r is not None],
    )


def _ref(link: CaseLink | None) -> ReferralRef | None:
    return ReferralRef(id=link.id, number=link.number, department=link.department) if link else None
