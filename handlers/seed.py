"""Loading the county's reference data: departments, townships, property
companies, demo communities. Idempotent: run twice, same rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Community, CommunityCompany, Department, Disclosure, PropertyCompany, StarRating
from app.models.places import DEPARTMENT, TOWNSHIP
from handlers.context import Context
from routing import CountyConfig
from routing.model import CommunitySpec


def ensure_units(
    s: Session, county: CountyConfig, added: dict[str, int] | None = None, refresh: bool = True
) -> dict[str, Department]:
    """A row for every department and township the version names (a row is
    never removed: cases and communities point at it); ``refresh`` also
    updates the full names and hotlines of existing rows."""
    by_name = {d.name: d for d in s.scalars(select(Department))}
    units = [(d.name, d.full_name, d.hotline, DEPARTMENT) for d in county.departments]
    units += [(t.name, t.full_name or t.name, t.hotline, TOWNSHIP) for t in county.townships]
    for name, full_name, hotline, kind in units:
        unit = by_name.get(name)
        if unit is None:
            unit = by_name[name] = Department(name=name, kind=kind)
            s.add(unit)
            if added is not None:
                added["departments" if kind == DEPARTMENT else "townships"] += 1
        elif not refresh:
            continue
        unit.full_name, unit.hotline = full_name, hotline
    s.flush()
    return by_name


def _companies(
    s: Session, county: CountyConfig, now: datetime, added: dict[str, int]
) -> dict[str, PropertyCompany]:
    companies = {c.name: c for c in s.scalars(select(PropertyCompany))}
    for firm in county.property_companies:
        company = companies.get(firm.name)
        if company is None:
            company = companies[firm.name] = PropertyCompany(
                name=firm.name, credit_code=firm.credit_code, created_at=now
            )
            s.add(company)
            added["property_companies"] += 1
        company.phone = firm.phone
    s.flush()
    return companies


def _community(
    s: Session, place: CommunitySpec, township: Department, company: PropertyCompany | None, now: datetime
) -> None:
    community = Community(
        name=place.name,
        address=place.address,
        township_id=township.id,
        property_company_id=company.id if company else None,
        star_rating=place.star_rating,
    )
    s.add(community)
    s.flush()
    if company is not None:
        s.add(CommunityCompany(community_id=community.id, company_id=company.id, started_at=now))
    if place.star_rating is not None:
        s.add(
            StarRating(
                community_id=community.id,
                company_id=company.id if company else None,
                stars=place.star_rating,
                source="seed",
                reason="演示数据初始评定",
                rated_at=now,
            )
        )
    for item, content in _demo_disclosures(place, company).items():
        s.add(Disclosure(community_id=community.id, item=item, content=content, updated_at=now))


def seed_reference(ctx: Context) -> dict[str, int]:
    """Departments, townships, companies and demo communities of the county file; counts what was added."""
    now = ctx.now()
    added = {"departments": 0, "townships": 0, "property_companies": 0, "communities": 0}
    with ctx.uow() as uow:
        s = uow.session
        units = ensure_units(s, ctx.county, added)
        companies = _companies(s, ctx.county, now, added)
        for place in ctx.county.demo_communities:
            township = units[place.township]
            exists = s.scalar(
                select(Community.id).where(Community.name == place.name, Community.township_id == township.id)
            )
            if exists is None:
                _community(s, place, township, companies.get(place.property_company or ""), now)
                added["communities"] += 1
        uow.commit()
    return added


def _demo_disclosures(spec: CommunitySpec, company: PropertyCompany | None) -> dict[str, str]:
    if company is None:
        return {}
    # Fictional demo text; a real county's companies publish their own.
    return {
        "服务合同": f"{company.name}与{spec.name}业主大会签订的物业服务合同（演示）",
        "服务电话": company.phone or "0951-0000000（演示）",
        "收费标准": "住宅 1.20 元/平方米·月（演示）",
    }
