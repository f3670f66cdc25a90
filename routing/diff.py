"""What changed between two versions of the responsibility list: routes,
departments, townships, categories, clocks, the escalation and violation
ladders, and the county-wide settings, each as added, removed and changed
(the changed fields only, before and after). Plain JSON-ready data."""

from __future__ import annotations

from typing import Any

from routing.model import CountyConfig

# Section -> how a person calls it (for a printed summary).
SECTIONS = {
    "departments": "部门",
    "townships": "乡镇(街道)",
    "routes": "责任清单条目",
    "categories": "问题类别",
    "clocks": "时限",
    "escalation": "督办级别",
    "violation_ladder": "“九不准”处置档次",
    "clauses": "“九不准”条款",
    "settings": "其他设置",
}

Facts = dict[str, dict[str, dict[str, Any]]]
# Section -> {added: [{key, after}], removed: [{key, before}], changed: [{key, before, after}]}
Changes = dict[str, dict[str, list[dict[str, Any]]]]


def _units(config: CountyConfig) -> Facts:
    return {
        "departments": {d.name: {"full_name": d.full_name, "hotline": d.hotline} for d in config.departments},
        "townships": {t.name: {"full_name": t.full_name, "hotline": t.hotline} for t in config.townships},
        "routes": {
            r.id: {
                "title": r.title,
                "leads": list(r.leads),
                "responsible": list(r.responsible),
                "township": r.township,
            }
            for r in config.routes.values()
        },
    }


def _categories(config: CountyConfig) -> Facts:
    cats = config.categories.values()
    return {
        "categories": {
            c.code: {"name": c.name, "group": c.group, "route": c.route, "clause": c.clause, "help": c.help}
            for c in cats
        },
        "clocks": {
            c.code: {
                "accept_within": str(c.accept_within),
                "resolve_within": str(c.resolve_within),
                "urgent": c.urgent,
            }
            for c in cats
        },
        "clauses": {str(c.number): {"text": c.text} for c in config.clauses.values()},
    }


def _ladders(config: CountyConfig) -> Facts:
    ladder = config.violation_ladder
    steps: dict[str, dict[str, Any]] = {
        str(s.count): {
            "name": s.name,
            "measures": list(s.measures),
            "lower_star": s.lower_star,
            "below_standard": s.below_standard,
            "blacklist": s.blacklist,
        }
        for s in ladder.steps
    }
    return {
        "escalation": {
            s.name: {
                "label": s.label,
                "deadlines": list(s.deadlines),
                "notify": list(s.notify),
                "at_fraction": s.fraction,
                "after_deadline": str(s.after) if s.after is not None else None,
            }
            for s in config.escalation
        },
        "violation_ladder": {
            "count_by": {"value": ladder.count_by},
            "window_days": {"value": ladder.window_days},
            **steps,
        },
    }


def _settings(config: CountyConfig) -> Facts:
    values: dict[str, Any] = {
        "county": config.county,
        "number_prefix": config.number_prefix,
        "timezone": config.timezone,
        "leading_group_office": config.leading_group_office,
        "rating_window": str(config.rating_window),
        "daily_case_limit": config.daily_case_limit,
        "working_hours": [f"{p.start:%H:%M}-{p.end:%H:%M}" for p in config.calendar.periods],
    }
    return {"settings": {key: {"value": value} for key, value in values.items()}}


def facts(config: CountyConfig) -> Facts:
    """Every section of a version, keyed by each item's name, id or code."""
    return _units(config) | _categories(config) | _ladders(config) | _settings(config)


def _section(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    added = [{"key": k, "after": v} for k, v in after.items() if k not in before]
    removed = [{"key": k, "before": v} for k, v in before.items() if k not in after]
    changed = []
    for key, new in after.items():
        old = before.get(key)
        if old is None or old == new:
            continue
        fields = [f for f in new if old.get(f) != new.get(f)] + [f for f in old if f not in new]
        changed.append(
            {"key": key, "before": {f: old.get(f) for f in fields}, "after": {f: new.get(f) for f in fields}}
        )
    return {"added": added, "removed": removed, "changed": changed}


def diff(before: CountyConfig, after: CountyConfig) -> Changes:
    """Section by section, what ``after`` adds, removes and changes against ``before``."""
    old, new = facts(before), facts(after)
    return {section: _section(old[section], new[section]) for section in SECTIONS}


def summary(changes: Changes) -> list[str]:
    """One line a person reads per change, e.g. ``问题类别 dog_unleashed：route dirt-5 → dirt-2``."""
    lines = []
    for section, name in SECTIONS.items():
        part = changes.get(section) or {}
        lines += [f"新增{name} {item['key']}" for item in part.get("added", [])]
        lines += [f"删除{name} {item['key']}" for item in part.get("removed", [])]
        for item in part.get("changed", []):
            fields = "；".join(f"{f} {item['before'][f]} → {item['after'][f]}" for f in item["after"])
            lines.append(f"{name} {item['key']}：{fields}")
    return lines
