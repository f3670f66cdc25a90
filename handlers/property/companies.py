"""Property companies, who serves which community, star ratings, disclosures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Community, CommunityCompany, Disclosure, LadderRecord, PropertyCompany, StarRating
from handlers.admin.audit import Actor, admin, record_change
from handlers.context import Context
from handlers.errors import Conflict, Invalid, NotFound
from handlers.places.communities import DISCLOSURE_ITEMS
from handlers.property.violations import company_violation_counts, current_ladder_step
from routing.credit_code import credit_code_problem


def add_company(ctx: Context, name: str, credit_code: str, phone: str = "") -> PropertyCompany:
    name = name.strip()
    if not name:
        raise Invalid("请填写企业名称", "invalid_name")
    code = credit_code.strip().upper()
    problem = credit_code_problem(code)
    if problem:
        raise Invalid(problem, "invalid_credit_code")
    with ctx.uow() as uow:
        s = uow.session
        if s.scalar(select(PropertyCompany.id).where(PropertyCompany.credit_code == code)):
            raise Conflict(f"统一社会信用代码 {code} 已登记", "duplicate_credit_code")
        if s.scalar(select(PropertyCompany.id).where(PropertyCompany.name == name)):
            raise Conflict(f"企业 {name} 已登记", "duplicate_company")
        company = PropertyCompany(name=name, credit_code=code, phone=phone, created_at=ctx.now())
        s.add(company)
        uow.commit()
    return company


def _community(s: Session, ref: str) -> Community:
    community = (
        s.get(Community, int(ref))
        if ref.isdigit()
        else s.scalar(select(Community).where(Community.name == ref))
    )
    if community is None:
        raise NotFound(f"找不到小区：{ref}", "community_not_found")
    return community


def find_company(s: Session, ref: str) -> PropertyCompany:
    company = (
        s.get(PropertyCompany, int(ref))
        if ref.isdigit()
        else s.scalar(
            select(PropertyCompany).where(
                (PropertyCompany.name == ref) | (PropertyCompany.credit_code == ref)
            )
        )
    )
    if company is None:
        raise NotFound(f"找不到物业服务企业：{ref}", "company_not_found")
    return company


def blacklisted(company: PropertyCompany) -> str | None:
    """Why the company may not take a community, or None."""
    if company.blacklisted_at is None:
        return None
    return f"{company.name}已被纳入物业行业黑名单，依法限制承接物业服务项目，不能分配小区"


def serve(s: Session, community: Community, company: PropertyCompany, now: datetime, by: Actor) -> None:
    """The company now serves the community; the previous one's term ends
    (the history stays in ``community_companies``); the change is recorded.
    A blacklisted company is refused (seed 003: 依法限制承接物业服务项目)."""
    reason = blacklisted(company)
    if reason:
        raise Conflict(reason, "company_blacklisted")
    if community.property_company_id == company.id:
        raise Conflict("该企业已在服务此小区", "already_assigned")
    before = s.get(PropertyCompany, community.property_company_id) if community.property_company_id else None
    for term in s.scalars(
        select(CommunityCompany).where(
            CommunityCompany.community_id == community.id, CommunityCompany.ended_at.is_(None)
        )
    ):
        term.ended_at = now
    s.add(CommunityCompany(community_id=community.id, company_id=company.id, started_at=now))
    community.property_company_id = company.id
    community.below_standard = False
    record_change(
        s,
        now,
        by,
        "assignment",
        community.id,
        "assign",
        {"community": community.name, "company": before.name if before else None},
        {"community": community.name, "company": company.name},
    )


def assign_company(ctx: Context, company_ref: str, community_ref: str, user_id: int | None = None) -> None:
    """The company now serves the community; the previous one's term ends."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        company = find_company(s, company_ref)
        community = _community(s, community_ref)
        serve(s, community, company, now, by)
        uow.commit()


def rate_community(
    ctx: Context, community_ref: str, stars: int | None, below_standard: bool, reason: str
) -> None:
    """A rating round (星级化评定) with its reason."""
    if not reason.strip():
        raise Invalid("请说明评定依据", "invalid_reason")
    if not below_standard and (stars is None or not 1 <= stars <= 5):
        raise Invalid("星级应为 1 到 5，或评定为不达标", "invalid_stars")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        community = _community(s, community_ref)
        community.star_rating = stars
        community.below_standard = below_standard
        s.add(
            StarRating(
                community_id=community.id,
                company_id=community.property_company_id,
                stars=stars,
                below_standard=below_standard,
                source="round",
                reason=reason,
                rated_at=now,
            )
        )
        uow.commit()


def disclose(ctx: Context, community_ref: str, item: str, content: str) -> None:
    """Keep one of the six disclosures (六个公开) of a community."""
    if item not in DISCLOSURE_ITEMS:
        raise Invalid(f"公开事项应为：{'、'.join(DISCLOSURE_ITEMS)}", "invalid_item")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        community = _community(s, community_ref)
        row = s.scalar(
            select(Disclosure).where(Disclosure.community_id == community.id, Disclosure.item == item)
        )
        if row is None:
            s.add(Disclosure(community_id=community.id, item=item, content=content, updated_at=now))
        else:
            row.content = content
            row.updated_at = now
        uow.commit()


@dataclass
class CommunityFlags:
    more_inspections: bool
    removal: bool
    reason: str


def community_flags(s: Session, community: Community) -> CommunityFlags:
    """Two stars or fewer: more inspections. Below standard, or two stars or
    fewer in two rounds running: removal of the company proposed (seed 003)."""
    rounds = list(
        s.scalars(
            select(StarRating)
            .where(StarRating.community_id == community.id, StarRating.source == "round")
            .order_by(StarRating.rated_at.desc(), StarRating.id.desc())
            .limit(2)
        )
    )
    low = community.star_rating is not None and community.star_rating <= 2
    two_low = len(rounds) == 2 and all(
        r.stars is not None and r.stars <= 2 and not r.below_standard for r in rounds
    )
    if community.below_standard:
        return CommunityFlags(True, True, "星级评定不达标，建议依法清退")
    if two_low:
        return CommunityFlags(True, True, "连续两次评定为二星级及以下，建议依法清退")
    if low:
        return CommunityFlags(True, False, "二星级及以下，增加日常巡查频次")
    return CommunityFlags(False, False, "")


@dataclass(frozen=True)
class ServedCommunity:
    id: int
    name: str
    township: str
    star_rating: int | None
    below_standard: bool
    flags: CommunityFlags


@dataclass(frozen=True)
class LadderEntry:
    step: int
    reached_at: datetime
    measures: str
    violations: list[int]
    withdrawn_at: datetime | None


@dataclass
class CompanyView:
    company: PropertyCompany
    violations: int  # confirmed, live
    clauses: int  # distinct prohibitions among them (what seed 003 counts)
    ladder_step: int
    communities: list[ServedCommunity] = field(default_factory=list)
    steps: list[LadderEntry] = field(default_factory=list)


def _view(
    s: Session, ctx: Context, company: PropertyCompany, counts: tuple[int, int], now: datetime
) -> CompanyView:
    view = CompanyView(company, *counts, current_ladder_step(s, company.id, now, ctx.county))
    for c in s.scalars(
        select(Community).where(Community.property_company_id == company.id).order_by(Community.id)
    ):
        view.communities.append(
            ServedCommunity(
                c.id, c.name, c.township.name, c.star_rating, c.below_standard, community_flags(s, c)
            )
        )
    for row in s.scalars(
        select(LadderRecord).where(LadderRecord.company_id == company.id).order_by(LadderRecord.id)
    ):
        view.steps.append(
            LadderEntry(
                row.step, row.reached_at, row.measures, list(row.violation_ids or []), row.withdrawn_at
            )
        )
    return view


def company_overview(ctx: Context, now: datetime | None = None) -> list[CompanyView]:
    """Each company: its communities with stars and flags, violations in the window, the ladder."""
    now = now or ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        counts = company_violation_counts(s, now, ctx.county)
        views = [
            _view(s, ctx, company, counts.get(company.id, (0, 0)), now)
            for company in s.scalars(select(PropertyCompany).order_by(PropertyCompany.id))
        ]
        s.expunge_all()
    return views
