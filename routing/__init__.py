"""Pure rules: the responsibility list, routing, the working calendar, the
escalation ladder. No Flask, no database, nothing of ours imported."""

from routing.calendar import Period, WorkingCalendar, parse_period
from routing.config import (
    ConfigError,
    check_document,
    check_file,
    load_config,
    parse_config,
    parse_document,
    read_yaml,
)
from routing.durations import Duration, parse_duration
from routing.ladder import order, step_due_at
from routing.model import (
    CO_HANDLER,
    PRIMARY,
    TOWNSHIP_ROLE,
    Category,
    Clause,
    CountyConfig,
    EscalationStep,
    Route,
    ViolationLadder,
    ViolationStep,
)
from routing.routes import RoutedDepartment, route

__all__ = [
    "CO_HANDLER",
    "PRIMARY",
    "TOWNSHIP_ROLE",
    "Category",
    "Clause",
    "ConfigError",
    "CountyConfig",
    "Duration",
    "EscalationStep",
    "Period",
    "Route",
    "RoutedDepartment",
    "ViolationLadder",
    "ViolationStep",
    "WorkingCalendar",
    "check_document",
    "check_file",
    "load_config",
    "order",
    "parse_config",
    "parse_document",
    "parse_duration",
    "parse_period",
    "read_yaml",
    "route",
    "step_due_at",
]
