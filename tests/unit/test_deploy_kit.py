"""The deploy kit agrees with the product: alerts name only the metrics the
product publishes, the example environment documents every variable the
settings read, nginx lets through what the app accepts."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# The metrics of the operators' contract, by type (histograms publish
# _bucket, _count and _sum series, never their bare name).
COUNTERS = {
    "cases_filed_total",
    "notifications_sent_total",
    "notifications_failed_total",
    "escalations_total",
}
GAUGES = {"outbox_pending", "cases_overdue"}
HISTOGRAMS = {"escalation_sweep_seconds", "http_request_duration_seconds"}
SERIES = COUNTERS | GAUGES | {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")}

PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
PROMQL_WORDS |= {"offset", "bool", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression reads: identifiers that are not
    functions, keywords, label names, strings or durations."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.:])[A-Za-z_:][\w:]*", expr):
        is_call = re.match(r"\s*\(", expr[match.end() :]) is not None
        if match.group() not in PROMQL_WORDS and not is_call:
            names.add(match.group())
    return names


def _alerts() -> list[dict[str, object]]:
    raw = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in raw["groups"] for rule in group["rules"] if "alert" in rule]


def test_the_metric_name_reader_finds_series_and_skips_functions_labels_and_durations() -> None:
    expr = (
        'sum by (le) (rate(foo_seconds_bucket{job="x", le=~"0.5"}[5m])) > on() bar offset 1d and hour() < 3'
    )
    assert metric_names(expr) == {"foo_seconds_bucket", "bar"}


def test_every_alert_reads_only_the_metrics_the_product_publishes() -> None:
    alerts = _alerts()
    assert alerts
    for rule in alerts:
        names = metric_names(str(rule["expr"]))
        assert names, rule["alert"]
        assert names <= SERIES, f"{rule['alert']} reads {sorted(names - SERIES)}"


def test_the_alerts_cover_the_outbox_sends_the_sweep_and_overdue_cases() -> None:
    read = {name for rule in _alerts() for name in metric_names(str(rule["expr"]))}
    assert {
        "outbox_pending",
        "notifications_failed_total",
        "escalation_sweep_seconds_count",
        "cases_overdue",
    } <= read
    for rule in _alerts():
        labels, notes = rule["labels"], rule["annotations"]
        assert isinstance(labels, dict) and labels["severity"] in {"info", "warning", "critical"}
        assert isinstance(notes, dict) and re.search(r"[\u4e00-\u9fff]", notes["summary"]), rule["alert"]


def _settings_variables() -> set[str]:
    source = (ROOT / "app" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'\(\s*env\s*,\s*"([A-Z][A-Z0-9_]+)"', source)) | set(
        re.findall(r'env\.get\(\s*"([A-Z][A-Z0-9_]+)"', source)
    )


def test_the_example_environment_documents_every_variable_the_settings_read() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.M))
    read = _settings_variables()
    assert {"DATABASE_URL", "PHOTO_STORAGE", "S3_BUCKET", "AWS_ACCESS_KEY_ID"} <= read
    operators = {"APP_ENV", "SECRET_KEY", "METRICS_TOKEN", "LOG_FORMAT", "PUBLIC_BASE_URL", "CASES_CONFIG"}
    assert read | operators <= documented, sorted((read | operators) - documented)


def test_both_units_read_the_shared_environment_and_run_the_product() -> None:
    def directives(name: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                found.setdefault(key, []).append(value)
        return found

    web, worker = directives("cases-web.service"), directives("cases-worker.service")
    for unit in (web, worker):
        assert unit["EnvironmentFile"] == ["/etc/cases/env"]
        assert unit["WorkingDirectory"] == ["/opt/cases"]
    assert "gunicorn --config /opt/cases/gunicorn.conf.py" in web["ExecStart"][0]
    assert web["ExecStart"][0].endswith("'app:create_app()'")
    assert worker["ExecStart"] == ["/opt/cases/.venv/bin/flask --app app worker"]


def test_nginx_lets_through_every_upload_the_app_answers_itself() -> None:
    from app import create_app
    from app.settings import Settings

    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    limit = re.search(r"client_max_body_size\s+(\d+)m;", conf)
    assert limit is not None
    app = create_app(Settings.from_env({"DATABASE_URL": "sqlite:///:memory:", "APP_ENV": "development"}))
    assert int(limit.group(1)) * 1024 * 1024 >= app.config["MAX_CONTENT_LENGTH"]
    assert "location = /wechat/callback" in conf
    assert "proxy_set_header X-Request-ID" in conf
