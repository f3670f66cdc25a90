"""Cases: the search list, one case, and the supervisors' steps on it."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.wrappers import Response

from app.api.photo_links import signed_url
from app.api.supervision import ExtensionPath
from app.api.web import CaseId, ctx
from app.console.forms import DONE, args, attempt, done, form
from app.console.paging import Pager
from app.console.web import bp, page, viewer
from handlers.cases.queries import CaseView, case_for
from handlers.cases.referral import Refer, refer_case
from handlers.cases.search import CaseSearch, case_by_number, search_cases
from handlers.places.communities import all_units
from handlers.supervision.actions import (
    Approve,
    Deny,
    Dispatch,
    Merge,
    Reject,
    decide_extension,
    dispatch_case,
    merge_case,
    reject_case,
)
from routing.lifecycle import OPEN, STATUSES, STEPS
from routing.model import PRIMARY

# The steps the console takes itself; the others are the mini-program's
# (accepting, resolving with evidence photos...), named but not offered here.
HERE = ("dispatch", "reject", "merge", "approve_extension", "deny_extension", "refer")


def _units() -> dict[str, Any]:
    units = all_units(ctx())
    return {
        "departments": [(u.id, u.name) for u in units if not u.is_township],
        "townships": [(u.id, u.name) for u in units if u.is_township],
    }


@bp.get("/cases")
def cases() -> tuple[str, int]:
    f = args(CaseSearch)
    rows, total = search_cases(ctx(), viewer(), f)
    return page(
        "cases.html",
        f=f,
        rows=rows,
        pager=Pager(f.page, f.per_page, total),
        statuses=[(s, ctx().county.labels.status(s)) for s in STATUSES],
        open_statuses=OPEN,
        now=ctx().now(),
        **_units(),
    )


def _photo(photo: Any) -> dict[str, Any]:
    return {
        "thumb": signed_url(photo.id, "thumb"),
        "full": signed_url(photo.id, "display"),
        "width": photo.width,
        "height": photo.height,
    }


def _case_page(case_id: int, error: str = "", status: int = 200) -> tuple[str, int]:
    view: CaseView = case_for(ctx(), case_id, viewer())
    return page(
        "case.html",
        status=status,
        view=view,
        c=view.case,
        photos=[_photo(p) for p in view.photos],
        # The first event's photos are the case's own, shown above it.
        timeline=[(e, [_photo(p) for p in e.photos] if i else []) for i, e in enumerate(view.timeline)],
        here=[a for a in view.actions if a in HERE],
        elsewhere=[STEPS[a].verb for a in view.actions if a not in HERE],
        categories=ctx().county.categories.values(),
        now=ctx().now(),
        error=error,
        notice=DONE.get(request.args.get("ok", "")),
        **(_refer_choices(view) if "refer" in view.actions else {}),
    )


def _refer_choices(view: CaseView) -> dict[str, Any]:
    """Units a case may be referred to: not the one already leading it; one
    it was referred to before is marked with that case's number (a second
    referral while that case is open is refused with its own message)."""
    leading = {a.department.name for a in view.case.assignments if a.role == PRIMARY}
    before = {r.department: r.number for r in view.referred_to}

    def choices(units: list[tuple[int, str]]) -> list[tuple[str, str]]:
        return [
            (name, f"{name}（已移交 {before[name]}）" if name in before else name)
            for _id, name in units
            if name not in leading
        ]

    units = _units()
    return {"departments": choices(units["departments"]), "townships": choices(units["townships"])}


def _case_id(value: str) -> int:
    return args(CaseId, case_id=value).case_id


@bp.get("/cases/<case_id>")
def case(case_id: str) -> tuple[str, int]:
    return _case_page(_case_id(case_id))


def _step(case_id: str, ok: str, run: Any) -> Response | Any:
    """A supervisor's step on the case page: back to the case with a notice,
    or the case again with the error."""
    cid = _case_id(case_id)
    return attempt(
        lambda: run(cid),
        lambda: done(f"/console/cases/{cid}", ok),
        lambda message, status: _case_page(cid, message, status),
    )


@bp.post("/cases/<case_id>/dispatch")
def dispatch(case_id: str) -> Response | Any:
    def run(cid: int) -> None:
        dispatch_case(ctx(), cid, viewer().id, form(Dispatch, "category").category)

    return _step(case_id, "dispatch", run)


@bp.post("/cases/<case_id>/reject")
def reject(case_id: str) -> Response | Any:
    def run(cid: int) -> None:
        reject_case(ctx(), cid, viewer().id, form(Reject, "reason").reason)

    return _step(case_id, "reject", run)


@bp.post("/cases/<case_id>/merge")
def merge(case_id: str) -> Response | Any:
    def run(cid: int) -> None:
        typed = request.form.get("into", "").strip()
        into = int(typed) if typed.isascii() and typed.isdigit() else case_by_number(ctx(), viewer(), typed)
        merge_case(ctx(), cid, viewer().id, form(Merge, into=into).into)

    return _step(case_id, "merge", run)


@bp.post("/cases/<case_id>/extension/approve")
def case_approve(case_id: str) -> Response | Any:
    def run(_cid: int) -> None:
        decide_extension(ctx(), _extension_id(), viewer().id, True, form(Approve, "note").note)

    return _step(case_id, "approve", run)


@bp.post("/cases/<case_id>/extension/deny")
def case_deny(case_id: str) -> Response | Any:
    def run(_cid: int) -> None:
        decide_extension(ctx(), _extension_id(), viewer().id, False, form(Deny, "reason").reason)

    return _step(case_id, "deny", run)


def _extension_id() -> int:
    return form(ExtensionPath, "extension_id").extension_id


@bp.post("/cases/<case_id>/refer")
def refer(case_id: str) -> Response | Any:
    def run(cid: int) -> None:
        refer_case(ctx(), cid, viewer().id, form(Refer, "department", "reason"))

    return _step(case_id, "refer", run)
