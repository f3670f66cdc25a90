"""Reference data: categories, communities, a community's public page."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request

from app.api import ctx
from app.api.shapes import iso
from handlers.places.communities import community_page, search_communities

bp = Blueprint("reference", __name__, url_prefix="/api/v1")


@bp.get("/categories")
def categories() -> Any:
    """Every category a resident can pick, with its route and clocks."""
    county = ctx().county
    items = []
    for c in county.categories.values():
        item = {
            "code": c.code,
            "name": c.name,
            "group": c.group,
            "route": c.route,
            "urgent": c.urgent,
            "accept_within": str(c.accept_within),
            "resolve_within": str(c.resolve_within),
            "help": c.help,
        }
        if c.clause is not None:
            item["clause"] = c.clause
        items.append(item)
    return jsonify({"items": items, "page": 1, "per_page": len(items), "total": len(items)})


@bp.get("/communities")
def communities() -> Any:
    """Communities, optionally filtered by ?q= (part of the name)."""
    q = request.args.get("q", "").strip()[:50]
    rows = search_communities(ctx(), q)
    items = [
        {
            "id": c.id,
            "name": c.name,
            "township": c.township.name,
            "address": c.address,
            "property_company": c.property_company.name if c.property_company else None,
        }
        for c in rows
    ]
    return jsonify({"items": items, "page": 1, "per_page": len(items), "total": len(items)})


@bp.get("/communities/<int:community_id>")
def community(community_id: int) -> Any:
    """A community's page: who handles what (管理责任清单进小区) and the six disclosures."""
    context = ctx()
    page = community_page(context, community_id)
    tz = ZoneInfo(context.county.timezone)
    c = page.community
    company = None
    if c.property_company is not None:
        company = {
            "id": c.property_company.id,
            "name": c.property_company.name,
            "star_rating": c.star_rating,
            "below_standard": c.below_standard,
            "ladder_step": page.ladder_step,
            "phone": c.property_company.phone,
        }
    return jsonify(
        {
            "id": c.id,
            "name": c.name,
            "township": c.township.name,
            "address": c.address,
            "property_company": company,
            "responsibilities": page.responsibilities,
            "disclosures": [d | {"updated_at": iso(d["updated_at"], tz)} for d in page.disclosures],
        }
    )
