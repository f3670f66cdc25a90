"""Loading and checking the county's configuration file.

Every problem is collected and named, so an operator fixes the file in one
pass: ``flask --app app routing check`` prints them and exits 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from routing.calendar import WorkingCalendar, parse_period
from routing.credit_code import credit_code_problem
from routing.durations import Duration, parse_duration
from routing.labels import parse_labels
from routing.model import (
    Category,
    Clause,
    CommunitySpec,
    CompanySpec,
    CountyConfig,
    DepartmentSpec,
    EscalationStep,
    Route,
    Template,
    TownshipSpec,
    ViolationLadder,
    ViolationStep,
)

TEMPLATE_PURPOSES = ("new_case", "escalation", "case_update")
STEP_RECIPIENTS = ("primary_staff", "department_heads", "township", "supervisors")


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def duration(self, where: str, raw: object) -> Duration:
        try:
            return parse_duration(raw)
        except ValueError as exc:
            self.add(f"{where}: {exc}")
            return Duration(1, "d")


def _list(raw: dict[str, Any], key: str, problems: _Problems) -> list[Any]:
    value = raw.get(key)
    if value is None:
        problems.add(f"missing section '{key}'")
        return []
    if not isinstance(value, list):
        problems.add(f"section '{key}' must be a list")
        return []
    return value


def _dates(raw: Any, where: str, problems: _Problems) -> set[date]:
    out: set[date] = set()
    if raw is None:
        return out
    if not isinstance(raw, dict):
        problems.add(f"{where} must map a year to a list of dates")
        return out
    for year, days in raw.items():
        for day in days or []:
            try:
                value = day if isinstance(day, date) else date.fromisoformat(str(day))
            except ValueError:
                problems.add(f"{where} {year}: bad date {day!r}")
                continue
            if value.year != int(year):
                problems.add(f"{where} {year}: {value} is not in {year}")
            out.add(value)
    return out


def _calendar(raw: dict[str, Any], timezone: str, problems: _Problems) -> WorkingCalendar:
    periods = []
    for text in raw.get("working_hours") or ["08:30-12:00", "14:00-17:30"]:
        try:
            periods.append(parse_period(str(text)))
        except ValueError as exc:
            problems.add(f"working_hours: {exc}")
    cal = raw.get("calendar") or {}
    holidays = _dates(cal.get("holidays"), "calendar.holidays", problems)
    workdays = _dates(cal.get("workdays"), "calendar.workdays", problems)
    both = holidays & workdays
    if both:
        problems.add(f"calendar: {sorted(both)[0]} is listed as both a holiday and a working day")
    years = {int(y) for y in (cal.get("holidays") or {})} | {int(y) for y in (cal.get("workdays") or {})}
    try:
        return WorkingCalendar(
            timezone=timezone,
            periods=tuple(sorted(periods, key=lambda p: p.start)),
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            configured_years=frozenset(years),
        )
    except Exception as exc:  # noqa: BLE001 - an unknown zone name
        problems.add(f"timezone: unknown time zone {timezone!r} ({exc})")
        return WorkingCalendar()


def _header(raw: dict[str, Any], problems: _Problems) -> date:
    for key in ("source", "version", "effective_date", "county", "number_prefix"):
        if not raw.get(key):
            problems.add(f"missing '{key}'")
    effective = raw.get("effective_date")
    if isinstance(effective, str):
        try:
            return date.fromisoformat(effective)
        except ValueError:
            problems.add(f"effective_date: bad date {effective!r}")
    return effective if isinstance(effective, date) else date(1970, 1, 1)


def _departments(raw: dict[str, Any], problems: _Problems) -> list[DepartmentSpec]:
    departments = []
    for item in _list(raw, "departments", problems):
        if not isinstance(item, dict) or not item.get("name"):
            problems.add(f"departments: every department needs a name (got {item!r})")
            continue
        departments.append(
            DepartmentSpec(
                str(item["name"]), str(item.get("full_name") or item["name"]), str(item.get("hotline") or "")
            )
        )
    return departments


def _townships(raw: dict[str, Any], problems: _Problems) -> list[TownshipSpec]:
    townships = []
    for item in _list(raw, "townships", problems):
        if isinstance(item, str):
            townships.append(TownshipSpec(item, item))
        elif isinstance(item, dict) and item.get("name"):
            name = str(item["name"])
            townships.append(
                TownshipSpec(name, str(item.get("full_name") or name), str(item.get("hotline") or ""))
            )
        else:
            problems.add(f"townships: every township needs a name (got {item!r})")
    if not townships:
        problems.add("townships: at least one township is needed")
    return townships


def _check_units(dept_names: list[str], town_names: list[str], office: str, problems: _Problems) -> None:
    for names, what in ((dept_names, "department"), (town_names, "township")):
        for name in {n for n in names if names.count(n) > 1}:
            problems.add(f"duplicate {what} '{name}'")
    for name in set(dept_names) & set(town_names):
        problems.add(f"'{name}' is both a department and a township")
    if office not in dept_names:
        problems.add(f"leading_group_office: unknown department '{office}'")


def _routes(raw: dict[str, Any], dept_names: list[str], problems: _Problems) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for item in _list(raw, "routes", problems):
        rid = str(item.get("id") or "") if isinstance(item, dict) else ""
        if not rid:
            problems.add(f"routes: every route needs an id (got {item!r})")
            continue
        if rid in routes:
            problems.add(f"duplicate route id '{rid}'")
            continue
        leads = tuple(str(x) for x in item.get("leads") or [])
        responsible = tuple(str(x) for x in item.get("responsible") or [])
        if not leads:
            problems.add(f"route {rid}: no lead department")
        named = leads + responsible
        for name in named:
            if name not in dept_names:
                problems.add(f"route {rid}: unknown department '{name}'")
        for name in {n for n in named if named.count(n) > 1}:
            problems.add(f"route {rid}: department '{name}' listed twice")
        if not isinstance(item.get("township"), bool):
            problems.add(f"route {rid}: 'township' must be true or false")
        routes[rid] = Route(rid, str(item.get("title") or ""), leads, responsible, bool(item.get("township")))
    return routes


def _clauses(raw: dict[str, Any], problems: _Problems) -> dict[int, Clause]:
    clauses: dict[int, Clause] = {}
    for item in raw.get("clauses") or []:
        try:
            number = int(item["number"])
        except (KeyError, TypeError, ValueError):
            problems.add(f"clauses: every clause needs a number (got {item!r})")
            continue
        if number in clauses:
            problems.add(f"duplicate clause {number}")
        clauses[number] = Clause(number, str(item.get("text") or ""))
    return clauses


def _category(
    item: dict[str, Any],
    routes: dict[str, Route],
    clauses: dict[int, Clause],
    groups: tuple[str, ...],
    problems: _Problems,
) -> Category:
    code = str(item["code"])
    name = str(item.get("name") or "")
    if not name:
        problems.add(f"category {code}: no name")
    route_id = str(item.get("route") or "")
    if not route_id:
        problems.add(f"category {code}: no route")
    elif route_id not in routes:
        problems.add(f"category {code}: unknown route '{route_id}'")
    group = str(item.get("group") or "")
    if group not in groups:
        problems.add(f"category {code}: group '{group}' is not one of {', '.join(groups)}")
    clause = item.get("clause")
    if clause is not None and clause not in clauses:
        problems.add(f"category {code}: unknown clause {clause!r}")
    return Category(
        code=code,
        name=name,
        group=group,
        route=route_id,
        urgent=bool(item.get("urgent", False)),
        accept_within=problems.duration(f"category {code}: accept_within", item.get("accept_within")),
        resolve_within=problems.duration(f"category {code}: resolve_within", item.get("resolve_within")),
        clause=int(clause) if isinstance(clause, int) else None,
        help=str(item.get("help") or ""),
    )


def _categories(
    raw: dict[str, Any],
    routes: dict[str, Route],
    clauses: dict[int, Clause],
    groups: tuple[str, ...],
    problems: _Problems,
) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for item in _list(raw, "categories", problems):
        code = str(item.get("code") or "") if isinstance(item, dict) else ""
        if not code:
            problems.add(f"categories: every category needs a code (got {item!r})")
            continue
        if code in categories:
            problems.add(f"duplicate category code '{code}'")
            continue
        category = _category(item, routes, clauses, groups, problems)
        if category.name and any(c.name == category.name for c in categories.values()):
            problems.add(f"duplicate category name '{category.name}'")
        categories[code] = category
    for rid in routes:
        if not any(c.route == rid for c in categories.values()):
            problems.add(f"route {rid}: no category points at it")
    return categories


def _escalation_step(item: dict[str, Any], problems: _Problems) -> EscalationStep:
    name = str(item["step"])
    fraction = item.get("at_fraction")
    after = item.get("after_deadline")
    if (fraction is None) == (after is None):
        problems.add(f"escalation {name}: give exactly one of at_fraction or after_deadline")
    if fraction is not None and not (isinstance(fraction, int | float) and 0 < fraction < 1):
        problems.add(f"escalation {name}: at_fraction must be between 0 and 1")
        fraction = None
    deadlines = tuple(str(d) for d in item.get("deadlines") or ("accept", "resolve"))
    for d in deadlines:
        if d not in ("accept", "resolve"):
            problems.add(f"escalation {name}: unknown deadline '{d}'")
    notify = tuple(str(n) for n in item.get("notify") or ())
    for n in notify:
        if n not in STEP_RECIPIENTS:
            problems.add(f"escalation {name}: unknown recipient '{n}'")
    return EscalationStep(
        name=name,
        label=str(item.get("label") or name),
        deadlines=deadlines,
        notify=notify,
        fraction=float(fraction) if fraction is not None else None,
        after=problems.duration(f"escalation {name}: after_deadline", after) if after is not None else None,
    )


def _escalation(raw: dict[str, Any], problems: _Problems) -> tuple[EscalationStep, ...]:
    steps = []
    for item in _list(raw, "escalation", problems):
        if not isinstance(item, dict) or not item.get("step"):
            problems.add(f"escalation: every step needs a name (got {item!r})")
            continue
        steps.append(_escalation_step(item, problems))
    if len({s.name for s in steps}) != len(steps):
        problems.add("escalation: duplicate step name")
    return tuple(steps)


def _violation_ladder(raw: dict[str, Any], problems: _Problems) -> ViolationLadder:
    ladder_raw = raw.get("violation_ladder") or {}
    steps = [
        ViolationStep(
            count=int(item.get("count", 0)),
            name=str(item.get("name") or ""),
            measures=tuple(str(m) for m in item.get("measures") or ()),
            lower_star=bool(item.get("lower_star", False)),
            below_standard=bool(item.get("below_standard", False)),
            blacklist=bool(item.get("blacklist", False)),
        )
        for item in ladder_raw.get("steps") or []
    ]
    if not steps:
        problems.add("violation_ladder: no steps")
    return ViolationLadder(
        int(ladder_raw.get("window_days", 365)), tuple(sorted(steps, key=lambda s: s.count))
    )


def _templates(raw: dict[str, Any], problems: _Problems) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    for purpose, item in (raw.get("subscribe_templates") or {}).items():
        if purpose not in TEMPLATE_PURPOSES:
            problems.add(f"subscribe_templates: unknown purpose '{purpose}'")
            continue
        if not isinstance(item, dict) or not item.get("id"):
            problems.add(f"subscribe_templates.{purpose}: needs an id")
            continue
        fields = tuple((str(k), str(v)) for k, v in (item.get("fields") or {}).items())
        templates[purpose] = Template(purpose, str(item["id"]), bool(item.get("long_term", False)), fields)
    for purpose in TEMPLATE_PURPOSES:
        if purpose not in templates:
            problems.add(f"subscribe_templates: missing '{purpose}'")
    return templates


def _companies(raw: dict[str, Any], problems: _Problems) -> list[CompanySpec]:
    companies = []
    for item in raw.get("property_companies") or []:
        code = str(item.get("credit_code") or "")
        problem = credit_code_problem(code)
        if problem:
            problems.add(f"property company {item.get('name')}: {problem}")
        companies.append(CompanySpec(str(item.get("name")), code, str(item.get("phone") or "")))
    return companies


def _communities(
    raw: dict[str, Any], town_names: list[str], company_names: set[str], problems: _Problems
) -> list[CommunitySpec]:
    communities = []
    for item in raw.get("demo_communities") or []:
        township = str(item.get("township") or "")
        if not township:
            problems.add(f"demo community {item.get('name')}: township missing")
        elif township not in town_names:
            problems.add(f"demo community {item.get('name')}: unknown township '{township}'")
        company = item.get("property_company")
        if company is not None and company not in company_names:
            problems.add(f"demo community {item.get('name')}: unknown property company '{company}'")
        stars = item.get("star_rating")
        communities.append(
            CommunitySpec(
                str(item.get("name")),
                township,
                str(company) if company else None,
                str(item.get("address") or ""),
                int(stars) if stars is not None else None,
            )
        )
    return communities


def _daily_limit(raw: dict[str, Any], problems: _Problems) -> int:
    limit = raw.get("daily_case_limit", 20)
    if not isinstance(limit, int) or limit < 1:
        problems.add("daily_case_limit must be a positive integer")
        return 20
    return limit


def parse_config(raw: Any) -> CountyConfig:
    """Build the configuration from parsed YAML; ConfigError lists every problem."""
    problems = _Problems()
    if not isinstance(raw, dict):
        raise ConfigError(["the file must be a mapping of sections"])
    effective = _header(raw, problems)
    timezone = str(raw.get("timezone") or "Asia/Shanghai")
    calendar = _calendar(raw, timezone, problems)
    departments = _departments(raw, problems)
    townships = _townships(raw, problems)
    dept_names, town_names = [d.name for d in departments], [t.name for t in townships]
    office = str(raw.get("leading_group_office") or "")
    _check_units(dept_names, town_names, office, problems)
    routes = _routes(raw, dept_names, problems)
    clauses = _clauses(raw, problems)
    groups = tuple(str(g) for g in raw.get("groups") or ("治脏", "治乱"))
    categories = _categories(raw, routes, clauses, groups, problems)
    companies = _companies(raw, problems)
    config = CountyConfig(
        source=str(raw.get("source")),
        version=str(raw.get("version")),
        effective_date=effective,
        county=str(raw.get("county")),
        number_prefix=str(raw.get("number_prefix")),
        timezone=timezone,
        calendar=calendar,
        departments=tuple(departments),
        leading_group_office=office,
        townships=tuple(townships),
        routes=routes,
        clauses=clauses,
        categories=categories,
        escalation=_escalation(raw, problems),
        violation_ladder=_violation_ladder(raw, problems),
        rating_window=problems.duration("rating_window", raw.get("rating_window", "7d")),
        daily_case_limit=_daily_limit(raw, problems),
        subscribe_templates=_templates(raw, problems),
        ranking_weights={str(k): float(v) for k, v in (raw.get("ranking_weights") or {}).items()},
        labels=parse_labels(raw.get("labels"), problems.items),
        property_companies=tuple(companies),
        demo_communities=tuple(_communities(raw, town_names, {c.name for c in companies}, problems)),
        groups=groups,
    )
    if problems.items:
        raise ConfigError(problems.items)
    return config


def read_yaml(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_config(path: str | Path) -> CountyConfig:
    try:
        raw = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([f"cannot read {path}: {exc}"]) from exc
    return parse_config(raw)


def check_file(path: str | Path, today: date) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a configuration file; warns of calendar years
    up to next year that neither the package nor the file knows."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return exc.problems, []
    start = min(config.effective_date.year, today.year)
    years = tuple(range(start, today.year + 2))
    warnings = [
        f"the working calendar does not know {year}: Monday to Friday will count as working days "
        f"(upgrade chinese-calendar or list {year}'s holidays under calendar: in the file)"
        for year in config.calendar.unknown_years(years)
    ]
    return [], warnings
