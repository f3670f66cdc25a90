"""GET /metrics: only with the operators' bearer token (404 while none is
set), Prometheus' text format, the contract's names, counts that follow
what committed, the gauges read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from handlers.notifications.sender import send_due
from tests.helpers import file_case, login, make_staff

TOKEN = "metrics-token-for-the-tests-0123456789"
NAMES = {
    "cases_filed_total",
    "notifications_sent_total",
    "notifications_failed_total",
    "outbox_pending",
    "escalations_total",
    "escalation_sweep_seconds_count",
    "cases_overdue",
    "http_request_duration_seconds_count",
}


@pytest.fixture
def metered(app: Any, settings: Any) -> Iterator[Any]:
    """The same database served by an app that has a METRICS_TOKEN."""
    other = create_app(settings.but(metrics_token=TOKEN))
    other.config["TESTING"] = True
    yield other
    other.extensions["services"].close()


def _samples(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_without_a_token_configured_metrics_is_not_there(client: Any) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer ", 401),
        ("Bearer wrong-token", 403),
        (f"Bearer {TOKEN}x", 403),
    ],
)
def test_metrics_refuses_a_missing_or_wrong_token(metered: Any, header: str | None, status: int) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = metered.test_client().get("/metrics", headers=headers)
    assert response.status_code == status
    body = response.get_json()["error"]
    assert body["code"] in {"login_required", "forbidden"} and any(
        "\u4e00" <= c <= "\u9fff" for c in body["message"]
    )
    assert "cases_filed" not in response.get_data(as_text=True)


def test_metrics_publishes_the_contracts_names_and_counts_what_committed(metered: Any, services: Any) -> None:
    client = metered.test_client()
    make_staff(client, services, "综合执法局", "handler", "m-staff")
    resident = login(client, "m-resident")
    before = _samples(client)
    first = file_case(client, resident, extra_headers={"Idempotency-Key": "m-1"})
    again = file_case(client, resident, extra_headers={"Idempotency-Key": "m-1"})
    assert again["id"] == first["id"]
    file_case(client, resident, description="第二件：楼道里堆满了杂物")
    bad = client.post("/api/v1/cases", json={"category": "no_such"}, headers=resident)
    assert bad.status_code == 422
    after = _samples(client)
    assert {name for name, _ in after} >= NAMES
    assert _value(after, "notifications_failed_total", reason="no_template") >= 0
    filed = _value(after, "cases_filed_total", category="dog_unleashed") - _value(
        before, "cases_filed_total", category="dog_unleashed"
    )
    assert filed == 2
    # The case's notification waits in the outbox: the gauge reads the database.
    assert _value(after, "outbox_pending") >= 2 and _value(after, "cases_overdue") == 0
    posted = _value(
        after, "http_request_duration_seconds_count", endpoint="/api/v1/cases", method="POST", status="201"
    ) - _value(
        before, "http_request_duration_seconds_count", endpoint="/api/v1/cases", method="POST", status="201"
    )
    assert posted == 2
    assert (
        _value(
            after,
            "http_request_duration_seconds_count",
            endpoint="/api/v1/cases",
            method="POST",
            status="422",
        )
        >= 1
    )
    send_due(metered.extensions["services"].context(), "test")
    sent = _samples(client)
    assert _value(sent, "outbox_pending") == 0
    assert sum(v for (n, _), v in sent.items() if n == "notifications_failed_total") > sum(
        v for (n, _), v in after.items() if n == "notifications_failed_total"
    )
