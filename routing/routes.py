"""Routing: category + community's township -> departments with roles."""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import CO_HANDLER, PRIMARY, TOWNSHIP_ROLE, CountyConfig


@dataclass(frozen=True)
class RoutedDepartment:
    name: str
    role: str


def route(config: CountyConfig, category_code: str, township: str | None) -> list[RoutedDepartment]:
    """The leads in the list's order (the first is 主办, the rest 协办), then
    the responsible departments (协办), then the township (属地) where the
    list item names it."""
    category = config.categories[category_code]
    item = config.routes[category.route]
    out: list[RoutedDepartment] = []
    seen: set[str] = set()
    for index, name in enumerate(item.leads):
        if name not in seen:
            out.append(RoutedDepartment(name, PRIMARY if index == 0 else CO_HANDLER))
            seen.add(name)
    for name in item.responsible:
        if name not in seen:
            out.append(RoutedDepartment(name, CO_HANDLER))
            seen.add(name)
    if item.township and township and township not in seen:
        out.append(RoutedDepartment(township, TOWNSHIP_ROLE))
    return out
