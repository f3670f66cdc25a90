"""Who a user is to a case, and whether they may see it or take a step on it.

The lifecycle table (routing/lifecycle.py) says which step who may take from
which state; this module tells who the caller is (reporter, staff of the
primary department, of another department on the case, supervisor) and turns
a refusal into the error a person reads.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from app.models import Assignment, Case, Photo, User
from app.models.cases import MEDIA_RISKY
from app.models.people import SUPERVISORS
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from routing import CountyConfig
from routing.lifecycle import PARTY, PRIMARY, REPORTER, SUPERVISOR, Step, StepRefused, check

# How far back a chain of referrals is followed (a case referred on and on).
MAX_REFERRALS = 10


def department_role(s: Session, case: Case, user: User) -> str | None:
    """The caller's department's role on the case (主办, 协办, 属地), if any."""
    if not user.is_staff or user.department_id is None:
        return None
    return s.scalar(
        select(Assignment.role).where(
            Assignment.case_id == case.id, Assignment.department_id == user.department_id
        )
    )


def actors_of(s: Session, case: Case, user: User) -> set[str]:
    who = set()
    if case.reporter_id == user.id:
        who.add(REPORTER)
    if user.role in SUPERVISORS:
        who.add(SUPERVISOR)
    if department_role(s, case, user) is not None:
        who.add(PARTY)
        if case.primary_department_id == user.department_id:
            who.add(PRIMARY)
    return who


def can_view(s: Session, case: Case, user: User) -> bool:
    """The reporter, staff of the case's departments, supervisors and admins;
    and the reporter of a case merged into this one, who follows it."""
    if actors_of(s, case, user):
        return True
    merged = s.scalar(select(Case.id).where(Case.merged_into_id == case.id, Case.reporter_id == user.id))
    return merged is not None


def visible_cases(user: User) -> ColumnElement[bool]:
    """``can_view`` as a condition on a list of cases: supervisors and admins
    see every case, other staff the cases their department is on, a resident
    their own."""
    if user.role in SUPERVISORS:
        return true()
    own = Case.reporter_id == user.id
    if user.is_staff and user.department_id is not None:
        ours = select(Assignment.case_id).where(Assignment.department_id == user.department_id)
        return or_(own, Case.id.in_(ours))
    return own


def photo_visible_to(photo: Photo, user: User) -> bool:
    """A photo WeChat found risky is hidden from everyone but its uploader and
    the supervisors; any other photo follows its case."""
    return photo.media_check != MEDIA_RISKY or photo.owner_id == user.id or user.role in SUPERVISORS


def can_see_photos_of(s: Session, case: Case, user: User) -> bool:
    """A case's parties, and the parties of any case referred (移交) from it,
    however many referrals down: they may see what it came with."""
    if can_view(s, case, user):
        return True
    frontier = [case.id]
    for _ in range(MAX_REFERRALS):
        children = list(s.scalars(select(Case).where(Case.referred_from_id.in_(frontier))))
        if any(can_view(s, child, user) for child in children):
            return True
        frontier = [child.id for child in children]
        if not frontier:
            break
    return False


def _refused(exc: StepRefused, user: User, county: CountyConfig, role: str | None) -> Exception:
    step = exc.step
    if exc.reason == "state":
        label = county.labels.status(exc.status)
        return Conflict(f"工单当前状态（{label}）不能{step.verb}", "invalid_state")
    if REPORTER in step.actors:
        return NotFound("找不到该工单", "case_not_found")
    if SUPERVISOR in step.actors and not (step.actors & {PRIMARY, PARTY}):
        return Forbidden("仅督办人员可以进行此操作", "supervisor_only")
    if not user.is_staff or user.department_id is None:
        return Forbidden("仅部门工作人员可以办理工单", "staff_only")
    if role is None:
        return Forbidden("该工单不由本部门办理", "not_assigned")
    return Forbidden("只有主办部门可以进行此操作", "not_primary")


def take(s: Session, case_id: int, user: User, step: str, county: CountyConfig) -> tuple[Case, Step]:
    """The case, locked for this command, and the step the caller may take on it;
    404, 403 or 409 otherwise."""
    case = s.get(Case, case_id, with_for_update={"of": Case})
    if case is None:
        raise NotFound("找不到该工单", "case_not_found")
    try:
        return case, check(step, case.status, actors_of(s, case, user))
    except StepRefused as exc:
        raise _refused(exc, user, county, department_role(s, case, user)) from exc


def own_unused_photos(s: Session, owner_id: int, photo_ids: list[str]) -> list[Photo]:
    """The caller's photos not yet attached to anything, in the order given."""
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid("照片重复", "duplicate_photos")
    if not photo_ids:
        return []
    found = {p.id: p for p in s.scalars(select(Photo).where(Photo.id.in_(photo_ids)))}
    for pid in photo_ids:
        photo = found.get(pid)
        if photo is None or photo.owner_id != owner_id:
            raise Invalid("照片不存在或不属于您，请重新上传", "unknown_photo")
        if photo.case_id is not None:
            raise Invalid("照片已用于其他记录，请重新上传", "photo_used")
    return [found[pid] for pid in photo_ids]
