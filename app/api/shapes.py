"""JSON shapes of the answers, in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import User


def iso(value: datetime | None, tz: Any = None) -> str | None:
    """ISO 8601 with its offset, in the county's time zone when given."""
    if value is None:
        return None
    return value.astimezone(tz).isoformat() if tz is not None else value.isoformat()


def user_json(user: User) -> dict[str, Any]:
    department = None
    if user.department is not None:
        department = {
            "id": user.department.id,
            "name": user.department.name,
            "kind": user.department.kind,
        }
    return {"id": user.id, "role": user.role, "department": department}


def page_json(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def photo_urls(photo_id: str) -> dict[str, str]:
    from app.api.photo_links import signed_url

    return {"url": signed_url(photo_id, "display"), "thumb_url": signed_url(photo_id, "thumb")}


def photo_json(photo: Any) -> dict[str, Any]:
    return {"id": photo.id, "width": photo.width, "height": photo.height} | photo_urls(photo.id)


def departments_json(case: Any) -> list[dict[str, Any]]:
    return [
        {"id": a.department_id, "name": a.department.name, "role": a.role}
        for a in sorted(case.assignments, key=lambda a: a.position)
    ]


def case_summary_json(case: Any, county: Any, tz: Any) -> dict[str, Any]:
    category = county.categories.get(case.category)
    return {
        "id": case.id,
        "number": case.number,
        "category": case.category,
        "category_name": category.name if category else case.category,
        "community": {
            "id": case.community.id,
            "name": case.community.name,
            "township": case.community.township.name,
        },
        "status": case.status,
        "urgent": case.urgent,
        "description": case.description,
        "location_text": case.location_text,
        "departments": departments_json(case),
        "accept_due_at": iso(case.accept_due_at, tz),
        "resolve_due_at": iso(case.resolve_due_at, tz),
        "created_at": iso(case.created_at, tz),
        "escalation_step": case.escalation_step,
        "needs_review": case.needs_review,
    }


def case_json(
    case: Any, county: Any, tz: Any, photos_by_event: dict[int, list[Any]], viewer_is_reporter: bool
) -> dict[str, Any]:
    data = case_summary_json(case, county, tz)
    timeline = []
    for event in case.events:
        by = event.actor_label
        if event.actor_id == case.reporter_id and not viewer_is_reporter:
            # Staff see the reporter masked; an anonymous one not at all.
            by = "匿名居民" if case.anonymous else "居民"
        timeline.append(
            {
                "at": iso(event.at, tz),
                "kind": event.kind,
                "by": by,
                "note": event.note,
                "step": event.step,
                "photos": [photo_json(p) for p in photos_by_event.get(event.id, [])],
            }
        )
    first = case.events[0].id if case.events else None
    data |= {
        "lat": case.lat,
        "lng": case.lng,
        "anonymous": case.anonymous,
        "rating": case.rating,
        "reject_reason": case.reject_reason,
        "merged_into": case.merged_into_id,
        "resolved_at": iso(case.resolved_at, tz),
        "photos": [photo_json(p) for p in photos_by_event.get(first, [])] if first else [],
        "timeline": timeline,
    }
    return data
