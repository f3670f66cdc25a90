"""Loading and checking the county's configuration (the responsibility list,
its categories, clocks and ladders): a file, or a version's document text.

Every problem is collected and named in Chinese, so a county's administrator
fixes the document in one pass: ``flask --app app routing check`` prints them
and exits 1; publishing a version through the API answers them in a 422.
"""

from __future__ import annotations

import re
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
COUNT_BY = ("clause", "case")
# A version's name is stored with each case and used in URLs.
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


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
            self.add(f"{where}：{exc}")
            return Duration(1, "d")


def _list(raw: dict[str, Any], key: str, problems: _Problems) -> list[Any]:
    value = raw.get(key)
    if value is None:
        problems.add(f"缺少“{key}”部分")
        return []
    if not isinstance(value, list):
        problems.add(f"“{key}”部分应为列表")
        return []
    return value


def _dates(raw: Any, where: str, problems: _Problems) -> set[date]:
    out: set[date] = set()
    if raw is None:
        return out
    if not isinstance(raw, dict):
        problems.add(f"{where} 应按年份列出日期")
        return out
    for year, days in raw.items():
        for day in days or []:
            try:
                value = day if isinstance(day, date) else date.fromisoformat(str(day))
            except ValueError:
                problems.add(f"{where} {year}：日期 {day!r} 格式不正确")
                continue
            if value.year != int(year):
                problems.add(f"{where} {year}：{value} 不在 {year} 年")
            out.add(value)
    return out


def _calendar(raw: dict[str, Any], timezone: str, problems: _Problems) -> WorkingCalendar:
    periods = []
    for text in raw.get("working_hours") or ["08:30-12:00", "14:00-17:30"]:
        try:
            periods.append(parse_period(str(text)))
        except ValueError as exc:
            problems.add(f"working_hours：{exc}")
    cal = raw.get("calendar") or {}
    holidays = _dates(cal.get("holidays"), "calendar.holidays", problems)
    workdays = _dates(cal.get("workdays"), "calendar.workdays", problems)
    both = holidays & workdays
    if both:
        problems.add(f"calendar：{sorted(both)[0]} 同时被列为节假日和调休工作日")
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
        problems.add(f"timezone：未知时区 {timezone!r}（{exc}）")
        return WorkingCalendar()


def _header(raw: dict[str, Any], problems: _Problems) -> date:
    for key in ("source", "version", "effective_date", "county", "number_prefix"):
        if not raw.get(key):
            problems.add(f"缺少“{key}”")
    version = raw.get("version")
    if version and not VERSION_PATTERN.fullmatch(str(version)):
        problems.add(f"version：版本号 {version!r} 只能由字母、数字和 . - _ 组成，最长 32 个字符")
    effective = raw.get("effective_date")
    if isinstance(effective, str):
        try:
            return date.fromisoformat(effective)
        except ValueError:
            problems.add(f"effective_date：日期 {effective!r} 格式不正确")
    return effective if isinstance(effective, date) else date(1970, 1, 1)


def _departments(raw: dict[str, Any], problems: _Problems) -> list[DepartmentSpec]:
    departments = []
    for item in _list(raw, "departments", problems):
        if not isinstance(item, dict) or not item.get("name"):
            problems.add(f"departments：每个部门都需要名称 name（{item!r}）")
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
            problems.add(f"townships：每个乡镇(街道)都需要名称（{item!r}）")
    if not townships:
        problems.add("townships：至少需要一个乡镇(街道)")
    return townships


def _check_units(dept_names: list[str], town_names: list[str], office: str, problems: _Problems) -> None:
    for names, what in ((dept_names, "部门"), (town_names, "乡镇(街道)")):
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.add(f"{what}“{name}”重复")
    for name in sorted(set(dept_names) & set(town_names)):
        problems.add(f"“{name}”既是部门又是乡镇(街道)")
    if office not in dept_names:
        problems.add(f"leading_group_office：未知部门“{office}”")


def _routes(raw: dict[str, Any], dept_names: list[str], problems: _Problems) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for item in _list(raw, "routes", problems):
        rid = str(item.get("id") or "") if isinstance(item, dict) else ""
        if not rid:
            problems.add(f"routes：每个条目都需要 id（{item!r}）")
            continue
        if rid in routes:
            problems.add(f"责任清单条目 id“{rid}”重复")
            continue
        leads = tuple(str(x) for x in item.get("leads") or [])
        responsible = tuple(str(x) for x in item.get("responsible") or [])
        if not leads:
            problems.add(f"条目 {rid}：没有牵头部门")
        named = leads + responsible
        for name in named:
            if name not in dept_names:
                problems.add(f"条目 {rid}：未知部门“{name}”")
        for name in {n for n in named if named.count(n) > 1}:
            problems.add(f"条目 {rid}：部门“{name}”重复列出")
        if not isinstance(item.get("township"), bool):
            problems.add(f"条目 {rid}：township 应为 true 或 false")
        routes[rid] = Route(rid, str(item.get("title") or ""), leads, responsible, bool(item.get("township")))
    return routes


def _clauses(raw: dict[str, Any], problems: _Problems) -> dict[int, Clause]:
    clauses: dict[int, Clause] = {}
    for item in raw.get("clauses") or []:
        try:
            number = int(item["number"])
        except (KeyError, TypeError, ValueError):
            problems.add(f"clauses：每条都需要编号 number（{item!r}）")
            continue
        if number in clauses:
            problems.add(f"“九不准”条款 {number} 重复")
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
        problems.add(f"类别 {code}：没有名称")
    route_id = str(item.get("route") or "")
    if not route_id:
        problems.add(f"类别 {code}：没有指定责任清单条目（route）")
    elif route_id not in routes:
        problems.add(f"类别 {code}：未知的责任清单条目“{route_id}”")
    group = str(item.get("group") or "")
    if group not in groups:
        problems.add(f"类别 {code}：分组“{group}”应为 {'、'.join(groups)} 之一")
    clause = item.get("clause")
    if clause is not None and clause not in clauses:
        problems.add(f"类别 {code}：未知的“九不准”条款 {clause!r}")
    return Category(
        code=code,
        name=name,
        group=group,
        route=route_id,
        urgent=bool(item.get("urgent", False)),
        accept_within=problems.duration(f"类别 {code} 的 accept_within", item.get("accept_within")),
        resolve_within=problems.duration(f"类别 {code} 的 resolve_within", item.get("resolve_within")),
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
            problems.add(f"categories：每个类别都需要代码 code（{item!r}）")
            continue
        if code in categories:
            problems.add(f"类别代码“{code}”重复")
            continue
        category = _category(item, routes, clauses, groups, problems)
        if category.name and any(c.name == category.name for c in categories.values()):
            problems.add(f"类别名称“{category.name}”重复")
        categories[code] = category
    for rid in routes:
        if not any(c.route == rid for c in categories.values()):
            problems.add(f"条目 {rid}：没有任何类别指向它")
    return categories


def _escalation_step(item: dict[str, Any], problems: _Problems) -> EscalationStep:
    name = str(item["step"])
    fraction = item.get("at_fraction")
    after = item.get("after_deadline")
    if (fraction is None) == (after is None):
        problems.add(f"督办级别 {name}：at_fraction 与 after_deadline 须且只须给出一个")
    if fraction is not None and not (isinstance(fraction, int | float) and 0 < fraction < 1):
        problems.add(f"督办级别 {name}：at_fraction 应在 0 与 1 之间")
        fraction = None
    deadlines = tuple(str(d) for d in item.get("deadlines") or ("accept", "resolve"))
    for d in deadlines:
        if d not in ("accept", "resolve"):
            problems.add(f"督办级别 {name}：未知期限“{d}”（应为 accept 或 resolve）")
    notify = tuple(str(n) for n in item.get("notify") or ())
    for n in notify:
        if n not in STEP_RECIPIENTS:
            problems.add(f"督办级别 {name}：未知通知对象“{n}”（应为 {'、'.join(STEP_RECIPIENTS)} 之一）")
    return EscalationStep(
        name=name,
        label=str(item.get("label") or name),
        deadlines=deadlines,
        notify=notify,
        fraction=float(fraction) if fraction is not None else None,
        after=problems.duration(f"督办级别 {name} 的 after_deadline", after) if after is not None else None,
    )


def _escalation(raw: dict[str, Any], problems: _Problems) -> tuple[EscalationStep, ...]:
    steps = []
    for item in _list(raw, "escalation", problems):
        if not isinstance(item, dict) or not item.get("step"):
            problems.add(f"escalation：每一级都需要名称 step（{item!r}）")
            continue
        steps.append(_escalation_step(item, problems))
    if len({s.name for s in steps}) != len(steps):
        problems.add("escalation：级别名称重复")
    return tuple(steps)


def _ladder_step(item: Any, problems: _Problems) -> ViolationStep | None:
    if not isinstance(item, dict):
        problems.add(f"violation_ladder：每一档都应写明 count、name（{item!r}）")
        return None
    count, name = item.get("count"), str(item.get("name") or "")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        problems.add(f"violation_ladder：档次“{name}”的 count 应为正整数")
        return None
    if not name:
        problems.add(f"violation_ladder：第 {count} 档没有名称 name")
    return ViolationStep(
        count=count,
        name=name,
        measures=tuple(str(m) for m in item.get("measures") or ()),
        lower_star=bool(item.get("lower_star", False)),
        below_standard=bool(item.get("below_standard", False)),
        blacklist=bool(item.get("blacklist", False)),
    )


def _violation_ladder(raw: dict[str, Any], problems: _Problems) -> ViolationLadder:
    """Seed 003 counts distinct prohibitions violated, cumulatively
    (``count_by: clause``, no window); ``count_by: case`` counts confirmed
    cases; ``window_days`` (either way) counts only what was confirmed within
    that many days."""
    ladder_raw = raw.get("violation_ladder") or {}
    if not isinstance(ladder_raw, dict):
        problems.add("violation_ladder 应为映射（count_by、window_days、steps）")
        ladder_raw = {}
    count_by = str(ladder_raw.get("count_by") or "clause")
    if count_by not in COUNT_BY:
        problems.add(
            f"violation_ladder.count_by 应为 clause（按违反的条数）或 case（按查实件数），当前为 {count_by!r}"
        )
    window = ladder_raw.get("window_days")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
        problems.add("violation_ladder.window_days 应为正整数（天）；不写则累计计算、不设期限")
        window = None
    steps = [s for s in (_ladder_step(i, problems) for i in ladder_raw.get("steps") or []) if s is not None]
    if not steps:
        problems.add("violation_ladder：没有处置档次 steps")
    counts = [s.count for s in steps]
    for count in sorted({c for c in counts if counts.count(c) > 1}):
        problems.add(f"violation_ladder：第 {count} 档重复")
    return ViolationLadder(tuple(sorted(steps, key=lambda s: s.count)), count_by, window)


def _templates(raw: dict[str, Any], problems: _Problems) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    for purpose, item in (raw.get("subscribe_templates") or {}).items():
        if purpose not in TEMPLATE_PURPOSES:
            problems.add(f"subscribe_templates：未知用途“{purpose}”")
            continue
        if not isinstance(item, dict) or not item.get("id"):
            problems.add(f"subscribe_templates.{purpose}：需要模板 id")
            continue
        fields = tuple((str(k), str(v)) for k, v in (item.get("fields") or {}).items())
        templates[purpose] = Template(purpose, str(item["id"]), bool(item.get("long_term", False)), fields)
    for purpose in TEMPLATE_PURPOSES:
        if purpose not in templates:
            problems.add(f"subscribe_templates：缺少“{purpose}”")
    return templates


def _companies(raw: dict[str, Any], problems: _Problems) -> list[CompanySpec]:
    companies = []
    for item in raw.get("property_companies") or []:
        code = str(item.get("credit_code") or "")
        problem = credit_code_problem(code)
        if problem:
            problems.add(f"物业服务企业 {item.get('name')}：{problem}")
        companies.append(CompanySpec(str(item.get("name")), code, str(item.get("phone") or "")))
    return companies


def _communities(
    raw: dict[str, Any], town_names: list[str], company_names: set[str], problems: _Problems
) -> list[CommunitySpec]:
    communities = []
    for item in raw.get("demo_communities") or []:
        township = str(item.get("township") or "")
        if not township:
            problems.add(f"演示小区 {item.get('name')}：缺少乡镇(街道)")
        elif township not in town_names:
            problems.add(f"演示小区 {item.get('name')}：未知乡镇(街道)“{township}”")
        company = item.get("property_company")
        if company is not None and company not in company_names:
            problems.add(f"演示小区 {item.get('name')}：未知物业服务企业“{company}”")
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
        problems.add("daily_case_limit 应为正整数")
        return 20
    return limit


def parse_config(raw: Any) -> CountyConfig:
    """Build the configuration from parsed YAML; ConfigError lists every problem."""
    problems = _Problems()
    if not isinstance(raw, dict):
        raise ConfigError(["文件应为由各部分（departments、routes、categories 等）组成的 YAML 映射"])
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


def _yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"YAML 格式错误{where}：{problem}"]) from exc


def parse_document(text: str) -> CountyConfig:
    """A version's document (the text a ``CASES_CONFIG`` file holds), checked."""
    return parse_config(_yaml(text))


def load_config(path: str | Path) -> CountyConfig:
    return parse_document(read_text(path))


def read_text(path: str | Path) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"无法读取 {path}：{exc}"]) from exc


def check_document(text: str, today: date) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a document; warns of calendar years up to next
    year that neither the package nor the document knows. ``routing check``
    and publishing a version both use it, so both say the same."""
    try:
        config = parse_document(text)
    except ConfigError as exc:
        return exc.problems, []
    start = min(config.effective_date.year, today.year)
    years = tuple(range(start, today.year + 2))
    warnings = [
        f"工作日历不知道 {year} 年的节假日，将按周一至周五为工作日计算"
        f"（请升级 chinese-calendar，或在文件的 calendar: 下列出 {year} 年的节假日和调休）"
        for year in config.calendar.unknown_years(years)
    ]
    return [], warnings


def check_file(path: str | Path, today: date) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a configuration file."""
    try:
        text = read_text(path)
    except ConfigError as exc:
        return exc.problems, []
    return check_document(text, today)
