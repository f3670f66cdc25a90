"""Prometheus metrics: the ``Metrics`` port's adapter, the request timer and
``GET /metrics``.

Under gunicorn and the worker every process of a host writes its figures to
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, chosen
by that variable when prometheus-client is first imported) and ``/metrics``
adds them up; without it (development, tests) each process counts in
memory. Counters and histograms only: the two gauges, ``outbox_pending`` and
``cases_overdue``, are read from the database at each scrape, so they are
right whichever processes are alive, and every host answers the same value
(Prometheus takes their ``max``). No multiprocess gauge mode is involved.

``/metrics`` answers only ``Authorization: Bearer $METRICS_TOKEN``: 401
without the header, 403 with another token, and 404 while ``METRICS_TOKEN``
is unset, so a server is never open by default.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from app.api.errors import error

log = logging.getLogger(__name__)

# Label values known in advance start at zero, so a rate is right from the
# first event and every name is there from the first scrape.
CHANNELS = ("subscribe", "wecom")
FAILURE_REASONS = ("retry", "gave_up", "permanent", "no_channel", "no_template")
STEPS = ("warning", "overdue", "supervision", "leader")
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Request-timer series kept at hand (routes x methods x statuses seen).
HTTP_SERIES_KEPT = 1024
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Instruments:
    """The metrics of one process, made once (prometheus-client refuses a
    second metric of the same name in one registry)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.cases_filed = Counter("cases_filed", "上报的工单", ["category"], registry=r)
        self.sent = Counter("notifications_sent", "发出的通知", ["channel"], registry=r)
        self.failed = Counter("notifications_failed", "发送失败的通知", ["reason"], registry=r)
        self.escalations = Counter("escalations", "触发的督办环节", ["step"], registry=r)
        self.sweep = Histogram("escalation_sweep_seconds", "超期扫描用时", registry=r, buckets=SWEEP_BUCKETS)
        for channel in CHANNELS:
            self.sent.labels(channel=channel)
        for reason in FAILURE_REASONS:
            self.failed.labels(reason=reason)
        for step in STEPS:
            self.escalations.labels(step=step)
        self.http = Histogram(
            "http_request_duration_seconds",
            "接口用时",
            ["endpoint", "method", "status"],
            registry=r,
            buckets=HTTP_BUCKETS,
        )
        # The request timer's series by (endpoint, method, status), looked up
        # here instead of through ``labels`` (a lock and a key built) each time.
        self._http_series: dict[tuple[str, str, int], Any] = {}

    def http_series(self, endpoint: str, method: str, status: int) -> Any:
        key = (endpoint, method, status)
        series = self._http_series.get(key)
        if series is None:
            series = self.http.labels(endpoint=endpoint, method=method, status=str(status))
            if len(self._http_series) < HTTP_SERIES_KEPT:
                self._http_series[key] = series
        return series


@cache
def instruments() -> Instruments:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
    return Instruments()


class PrometheusMetrics:
    """The ``Metrics`` port (handlers/ports.py) on this process's instruments."""

    def case_filed(self, category: str) -> None:
        instruments().cases_filed.labels(category=category).inc()

    def notification_sent(self, channel: str) -> None:
        instruments().sent.labels(channel=channel).inc()

    def notification_failed(self, reason: str) -> None:
        instruments().failed.labels(reason=reason).inc()

    def escalated(self, step: str, count: int = 1) -> None:
        instruments().escalations.labels(step=step).inc(count)

    def sweep_took(self, seconds: float) -> None:
        instruments().sweep.observe(seconds)


class _ThisProcess:
    """This process's own instruments (no multiprocess directory)."""

    def collect(self) -> Iterator[Metric]:
        yield from instruments().registry.collect()


class _Backlog:
    """outbox_pending and cases_overdue, read from the database now."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        from handlers.supervision.backlog import backlog

        try:
            now = backlog(self.services.context())
        except Exception:  # noqa: BLE001 - the counters are still worth answering
            log.warning("metrics: the database did not answer; outbox_pending and cases_overdue left out")
            return
        yield GaugeMetricFamily("outbox_pending", "待发送的通知", value=now.outbox_pending)
        yield GaugeMetricFamily("cases_overdue", "超期未办结的工单", value=now.cases_overdue)


def exposition(services: Any) -> bytes:
    """Every process of this host (or this process alone), and the gauges."""
    registry = CollectorRegistry()
    directory = services.settings.prometheus_multiproc_dir
    if directory and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    registry.register(_Backlog(services))  # type: ignore[arg-type]
    return generate_latest(registry)


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.extensions["settings"].metrics_token
    if not token:
        return error("not_found", "未启用监控指标（未设置 METRICS_TOKEN）", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = error("login_required", "请提供监控令牌（Authorization: Bearer）", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return error("forbidden", "监控令牌不正确", 403)
    return Response(exposition(current_app.extensions["services"]), content_type=CONTENT_TYPE_LATEST)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _timed(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "(unmatched)"
        series = instruments().http_series(endpoint, request.method, response.status_code)
        series.observe(time.perf_counter() - started)
    return response


def init_metrics(app: Flask) -> None:
    """``/metrics`` and the request timer (by route pattern, not by URL, so
    the number of series stays bounded)."""
    app.register_blueprint(bp)
    app.before_request(_started)
    app.after_request(_timed)
