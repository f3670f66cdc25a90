"""Residents: file cases, follow them, rate or reopen them."""

from __future__ import annotations

from typing import Any

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import CaseOut, CaseSummary, Listing, answer, case_out, case_summary
from app.api.web import CaseId, Paging, blueprint, caller, ctx, errors
from handlers.cases.queries import case_for, my_cases
from handlers.cases.resident import Rating, Reopen, rate_case, reopen_case
from handlers.cases.submit import NewCase
from handlers.cases.submit import file_case as file_new_case

bp = blueprint("resident", "/api/v1/cases", "居民")


# The filing's headers. flask-openapi3 (4.3.2) builds the model's JSON schema
# on every request to read them; a class's schema never changes, so it is built
# once (the document's, asked with other arguments, is not kept).
class FilingHeaders(BaseModel):
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        max_length=128,
        description="同一用户用同一个键重复提交时，返回第一次的工单而不重复立案",
    )

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        if cls not in _SCHEMAS:
            _SCHEMAS[cls] = super().model_json_schema()
        return _SCHEMAS[cls]


# Read only (flask-openapi3 looks up the properties): never handed out to be changed.
_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


def _case(case_id: int) -> CaseOut:
    c = ctx()
    return case_out(case_for(c, case_id, caller()), c.county)


@bp.post("", responses={201: CaseOut, 200: CaseOut} | errors(404, 429))
def file_case(body: NewCase, header: FilingHeaders) -> Response:
    """居民上报问题（立案）

    201：新立的工单；200：同一 Idempotency-Key 的重复提交，返回第一次的工单。
    """
    c, user = ctx(), caller()
    filed = file_new_case(c, user.id, body, header.idempotency_key or None, reporter=user)
    # A new case is answered as it was written; a repeated key, as it is now.
    view = filed.view or case_for(c, filed.case_id, user)
    return answer(case_out(view, c.county), 201 if filed.created else 200)


@bp.get("/mine", responses={200: Listing[CaseSummary]})
def mine(query: Paging) -> Response:
    """我上报的工单，最新的在前"""
    c = ctx()
    cases, total = my_cases(c, caller().id, query.page, query.per_page)
    items = [case_summary(case, c.county) for case in cases]
    return answer(Listing[CaseSummary](items=items, page=query.page, per_page=query.per_page, total=total))


@bp.get("/<case_id>", responses={200: CaseOut} | errors(404))
def detail(path: CaseId) -> Response:
    """一件工单：时间线、照片和调用者可进行的操作"""
    return answer(_case(path.case_id))


@bp.post("/<case_id>/rating", responses={200: CaseOut} | errors(404, 409))
def rating(path: CaseId, body: Rating) -> Response:
    """评价办理结果（1–5 分），工单随之办结归档"""
    rate_case(ctx(), path.case_id, caller().id, body)
    return answer(_case(path.case_id))


@bp.post("/<case_id>/reopen", responses={200: CaseOut} | errors(404, 409))
def reopen(path: CaseId, body: Reopen) -> Response:
    """对办结结果不满意，退回主办部门重新办理"""
    reopen_case(ctx(), path.case_id, caller().id, body)
    return answer(_case(path.case_id))
