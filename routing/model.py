"""The county's configuration as plain, frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from routing.calendar import WorkingCalendar
from routing.durations import Duration
from routing.labels import Labels

PRIMARY = "主办"
CO_HANDLER = "协办"
TOWNSHIP_ROLE = "属地"


@dataclass(frozen=True)
class DepartmentSpec:
    name: str
    full_name: str
    hotline: str = ""


@dataclass(frozen=True)
class TownshipSpec:
    name: str
    full_name: str = ""
    hotline: str = ""


@dataclass(frozen=True)
class Route:
    """One item of the published responsibility list."""

    id: str
    title: str
    leads: tuple[str, ...]
    responsible: tuple[str, ...]
    township: bool


@dataclass(frozen=True)
class Clause:
    number: int
    text: str


@dataclass(frozen=True)
class Category:
    """What a resident picks; points at one route, with its own clocks."""

    code: str
    name: str
    group: str
    route: str
    urgent: bool
    accept_within: Duration
    resolve_within: Duration
    clause: int | None = None
    help: str = ""


@dataclass(frozen=True)
class EscalationStep:
    """A rung of the ladder: due at a fraction of the window, or a duration
    after the deadline."""

    name: str
    label: str
    deadlines: tuple[str, ...]
    notify: tuple[str, ...]
    fraction: float | None = None
    after: Duration | None = None


@dataclass(frozen=True)
class ViolationStep:
    count: int
    name: str
    measures: tuple[str, ...]
    lower_star: bool = False
    below_standard: bool = False
    blacklist: bool = False


@dataclass(frozen=True)
class ViolationLadder:
    """Seed 003's ladder. ``count_by``: ``clause`` counts the distinct
    prohibitions (条) a company violated, ``case`` its confirmed cases;
    ``window_days``: count only what was confirmed that recently (None:
    cumulative, as the seed writes it)."""

    steps: tuple[ViolationStep, ...]
    count_by: str = "clause"
    window_days: int | None = None

    def step_for(self, count: int) -> ViolationStep | None:
        reached = [s for s in self.steps if count >= s.count]
        return max(reached, key=lambda s: s.count) if reached else None


@dataclass(frozen=True)
class Template:
    purpose: str
    id: str
    long_term: bool
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CompanySpec:
    name: str
    credit_code: str
    phone: str = ""


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    township: str
    property_company: str | None
    address: str = ""
    star_rating: int | None = None


@dataclass
class CountyConfig:
    source: str
    version: str
    effective_date: date
    county: str
    number_prefix: str
    timezone: str
    calendar: WorkingCalendar
    departments: tuple[DepartmentSpec, ...]
    leading_group_office: str
    townships: tuple[TownshipSpec, ...]
    routes: dict[str, Route]
    clauses: dict[int, Clause]
    categories: dict[str, Category]
    escalation: tuple[EscalationStep, ...]
    violation_ladder: ViolationLadder
    rating_window: Duration
    daily_case_limit: int
    subscribe_templates: dict[str, Template]
    ranking_weights: dict[str, float]
    labels: Labels
    property_companies: tuple[CompanySpec, ...] = ()
    demo_communities: tuple[CommunitySpec, ...] = ()
    groups: tuple[str, ...] = field(default=("治脏", "治乱"))

    @property
    def tz(self) -> ZoneInfo:
        """The county's time zone: periods, dates and displayed times are read in it."""
        return self.calendar.tz

    def step_label(self, name: str | None) -> str:
        """An escalation step as people read it (预警, 超期, 督办, 挂牌督办)."""
        return next((s.label for s in self.escalation if s.name == name), name or "")

    def ladder_name(self, count: int) -> str:
        """A violation-ladder step as people read it; 0 is none."""
        return next((s.name for s in self.violation_ladder.steps if s.count == count), "无")

    @property
    def department_names(self) -> set[str]:
        return {d.name for d in self.departments}

    @property
    def township_names(self) -> set[str]:
        return {t.name for t in self.townships}
