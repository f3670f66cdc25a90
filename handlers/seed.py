"""Loading the county's reference data: departments, townships, property
companies, demo communities. Idempotent: run twice, same rows."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Community, CommunityCompany, Department, Disclosure, PropertyCompany, StarRating
from app.models.places import DEPARTMENT, TOWNSHIP
from handlers.context import Context
from routing.model import CommunitySpec


def seed_reference(ctx: Context) -> dict[str, int]:
    county = ctx.county
    now = ctx.now()
    added = {"departments": 0, "townships": 0, "property_companies": 0, "communities": 0}
    with ctx.uow() as uow:
        s = uow.session
        by_name = {d.name: d for d in s.scalars(select(Department))}
        for spec in county.departments:
            dept = by_name.get(spec.name)
            if dept is None:
                dept = Department(name=spec.name, kind=DEPARTMENT)
                s.add(dept)
                by_name[spec.name] = dept
                added["departments"] += 1
            dept.full_name = spec.full_name
            dept.hotline = getattr(spec, "hotline", "") or ""
            dept.is_leading_group_office = spec.name == county.leading_group_office
        for town in county.townships:
            dept = by_name.get(town.name)
            if dept is None:
                dept = Department(name=town.name, kind=TOWNSHIP)
                s.add(dept)
                by_name[town.name] = dept
                added["townships"] += 1
            dept.full_name = town.full_name or town.name
            dept.hotline = town.hotline
        s.flush()

        companies = {c.name: c for c in s.scalars(select(PropertyCompany))}
        for firm in county.property_companies:
            company = companies.get(firm.name)
            if company is None:
                company = PropertyCompany(name=firm.name, credit_code=firm.credit_code, created_at=now)
                s.add(company)
                companies[firm.name] = company
                added["property_companies"] += 1
            company.phone = firm.phone
        s.flush()

        for place in county.demo_communities:
            township = by_name[place.township]
            community = s.scalar(
                select(Community).where(Community.name == place.name, Community.township_id == township.id)
            )
            if community is not None:
                continue
            company = companies.get(place.property_company) if place.property_company else None
            stars = place.star_rating
            community = Community(
                name=place.name,
                address=place.address,
                township_id=township.id,
                property_company_id=company.id if company else None,
                star_rating=stars,
            )
            s.add(community)
            s.flush()
            added["communities"] += 1
            if company is not None:
                s.add(CommunityCompany(community_id=community.id, company_id=company.id, started_at=now))
            if stars is not None:
                s.add(
                    StarRating(
                        community_id=community.id,
                        company_id=company.id if company else None,
                        stars=stars,
                        source="seed",
                        reason="演示数据初始评定",
                        rated_at=now,
                    )
                )
            for item, content in _demo_disclosures(place, company).items():
                s.add(Disclosure(community_id=community.id, item=item, content=content, updated_at=now))
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
