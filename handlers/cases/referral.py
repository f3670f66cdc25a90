"""Referral (移交): the primary department or a supervisor hands a case's
illegal acts to another department (seed 003: 移交公安、消防、综合执法、市场监管
等部门依法查处), or to any department of the list.

The referring case keeps its status and clocks: the property-side problem
may still be its department's. The new case is linked both ways, routed with
the named department as primary (主办) and the community's township (属地),
clocked from its category and escalated like any other; it has the same
reporter (who sees it among their cases and gets its updates) and anonymity.
Both timelines get a ``referred`` event naming the other case's number.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Department, User
from handlers.cases.access import take
from handlers.cases.clocks import start_clocks
from handlers.cases.content import screen
from handlers.cases.dispatching import announce, assign
from handlers.cases.numbering import next_case_number
from handlers.cases.submit import load_case
from handlers.cases.timeline import record
from handlers.commands import Command
from handlers.context import Context
from handlers.errors import Conflict, Forbidden, Invalid
from handlers.notifications.notify import tell_reporter
from routing import PRIMARY, TOWNSHIP_ROLE, Category, CountyConfig, RoutedDepartment
from routing.lifecycle import DISPATCHED, OPEN


class Refer(Command):
    department: str = Field(
        min_length=1,
        max_length=64,
        title="接收部门",
        description="部门或乡镇(街道)的名称，见 GET /departments",
    )
    reason: str = Field(min_length=2, max_length=500, title="移交原因")


def _referrer(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or not user.is_staff or user.department_id is None:
        raise Forbidden("仅部门工作人员可以移交工单", "staff_only")
    return user


def _target(s: Session, case: Case, name: str) -> Department:
    target = s.scalar(select(Department).where(Department.name == name))
    if target is None:
        raise Invalid(f"找不到部门或乡镇(街道)：{name}", "unknown_department")
    if target.id == case.primary_department_id:
        raise Invalid(f"工单已由{name}主办，无需移交", "refer_to_self")
    open_referral = s.scalar(
        select(Case.number).where(
            Case.referred_from_id == case.id,
            Case.primary_department_id == target.id,
            Case.status.in_(OPEN),
        )
    )
    if open_referral is not None:
        raise Conflict(f"已移交{name}（工单 {open_referral}），尚未办结", "already_referred")
    return target


def _clocked_by(ctx: Context, case: Case) -> tuple[CountyConfig, Category]:
    """The list in effect now, if it still has the category; else the case's own version."""
    for county in (ctx.county, ctx.county_of(case.config_version)):
        category = county.categories.get(case.category)
        if category is not None:
            return county, category
    raise Invalid("该工单的问题类别已不在责任清单中，请督办人员重新派发", "unknown_category")


def _linked_case(s: Session, case: Case, county: CountyConfig, category: Category, now: datetime) -> Case:
    return Case(
        number=next_case_number(s, county.number_prefix, now.astimezone(county.tz).date()),
        category=category.code,
        config_version=county.version,
        route=category.route,
        community_id=case.community_id,
        community=case.community,
        reporter_id=case.reporter_id,
        anonymous=case.anonymous,
        description=case.description,
        location_text=case.location_text,
        lat=case.lat,
        lng=case.lng,
        status=DISPATCHED,
        urgent=category.urgent,
        needs_review=case.needs_review,
        referred_from_id=case.id,
        created_at=now,
        updated_at=now,
    )


def _routing(
    target: Department, township: Department
) -> tuple[list[RoutedDepartment], dict[str, Department]]:
    routed = [RoutedDepartment(target.name, PRIMARY)]
    if township.id != target.id:
        routed.append(RoutedDepartment(township.name, TOWNSHIP_ROLE))
    return routed, {target.name: target, township.name: township}


def refer_case(ctx: Context, case_id: int, user_id: int, cmd: Refer) -> Case:
    """Answers the new case. The reason passes content security first
    (risky: 422, nothing written)."""
    with ctx.uow() as uow:
        referrer = uow.session.get(User, user_id)
        openid = referrer.openid if referrer is not None else ""
    needs_review = screen(ctx, cmd.reason, openid)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        user = _referrer(s, user_id)
        case, _step = take(s, case_id, user, "refer", ctx.county)
        target = _target(s, case, cmd.department)
        county, category = _clocked_by(ctx, case)
        new = _linked_case(s, case, county, category, now)
        new.needs_review = new.needs_review or needs_review
        s.add(new)
        routed, departments = _routing(target, case.community.township)
        start_clocks(new, county, now)
        assign(s, new, routed, departments, now)
        s.flush()
        origin = case.primary_department.name if case.primary_department else ""
        record(
            s,
            new,
            "referred",
            now,
            by=user,
            note=f"由工单 {case.number}（{origin}）移交：{cmd.reason}",
            case_id=case.id,
            case_number=case.number,
        )
        record(
            s,
            case,
            "referred",
            now,
            by=user,
            note=f"移交{target.name}办理，新工单 {new.number}：{cmd.reason}",
            case_id=new.id,
            case_number=new.number,
            department=target.name,
        )
        case.updated_at = now
        announce(s, new, routed, departments, now, county, f"由工单 {case.number} 移交")
        tell_reporter(
            s,
            now,
            case,
            ctx.county_of(case.config_version),
            "referred",
            f"移交{target.name}，新工单 {new.number}",
        )
        uow.commit()
        new_id = new.id
    ctx.wake_outbox()
    return load_case(ctx, new_id)
