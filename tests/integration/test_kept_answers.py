"""Kept answers (app/api/kept.py): GET /api/v1/categories and /labels are
built by their view once per version of the list and then answered ahead of
Flask, with the view's status, headers and body, the request's id, and the
same metrics series; everything else still goes through Flask."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.api import limits
from app.clock import FixedClock
from tests.helpers import make_staff
from tests.integration.test_routing_versions import _publish, document

TOKEN = "metrics-token-for-the-kept-answers-0123"
KEPT = ("/api/v1/categories", "/api/v1/labels")


@pytest.fixture
def metered(app: Any, settings: Any) -> Iterator[Any]:
    """An app of its own (its own kept answers), with a metrics token, and
    a count of the requests that reached Flask's hooks."""
    other = create_app(settings.but(metrics_token=TOKEN))
    other.config["TESTING"] = True
    other.extensions["flask_requests"] = reached = []

    @other.before_request
    def _reached() -> None:
        from flask import request

        reached.append(request.path)

    yield other
    other.extensions["services"].close()


def _flask(app: Any, path: str) -> int:
    return app.extensions["flask_requests"].count(path)


def _seen(client: Any, path: str) -> float:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "http_request_duration_seconds_count"
                and labels.get("endpoint") == path
                and labels.get("method") == "GET"
                and labels.get("status") == "200"
            ):
                return sample.value
    return 0.0


@pytest.mark.parametrize("path", KEPT)
def test_the_kept_answer_is_the_views_answer_and_skips_flask(metered: Any, path: str) -> None:
    client = metered.test_client()
    built = client.get(path)
    assert built.status_code == 200 and _flask(metered, path) == 1
    kept = client.get(path)
    assert _flask(metered, path) == 1  # answered ahead of Flask
    assert kept.status_code == 200
    assert kept.get_data() == built.get_data() and kept.get_json() == built.get_json()
    for header in ("Content-Type", "Content-Length"):
        assert kept.headers[header] == built.headers[header]
    assert set(kept.headers.keys()) == set(built.headers.keys())
    for answer in (built, kept):
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])
    assert kept.headers["X-Request-ID"] != built.headers["X-Request-ID"]


def test_a_kept_answer_echoes_a_sane_request_id_and_replaces_another(metered: Any) -> None:
    client = metered.test_client()
    client.get("/api/v1/categories")
    echoed = client.get("/api/v1/categories", headers={"X-Request-ID": "gw-1234.abc:7"})
    assert echoed.headers["X-Request-ID"] == "gw-1234.abc:7"
    replaced = client.get("/api/v1/categories", headers={"X-Request-ID": "bad id <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
    assert _flask(metered, "/api/v1/categories") == 1


def test_kept_answers_are_timed_in_the_views_series(metered: Any) -> None:
    client = metered.test_client()
    before = _seen(client, "/api/v1/labels")
    for _ in range(3):
        assert client.get("/api/v1/labels").status_code == 200
    assert _seen(client, "/api/v1/labels") - before == 3
    assert _flask(metered, "/api/v1/labels") == 1


def test_other_requests_for_the_same_path_go_through_flask(metered: Any) -> None:
    client = metered.test_client()
    path = "/api/v1/categories"
    body = client.get(path).get_data()
    head = client.head(path)
    assert head.status_code == 200 and head.get_data() == b""
    assert client.post(path, json={}).status_code == 405
    with_body = client.open(path, method="GET", data=b"{}", content_type="application/json")
    assert with_body.status_code == 200 and with_body.get_data() == body
    assert _flask(metered, path) == 4
    # A query the view ignores does not change the answer; it is kept too.
    assert client.get(f"{path}?page=2").get_data() == body
    assert _flask(metered, path) == 4


def test_a_new_version_in_effect_is_built_by_the_view_then_kept(metered: Any, services: Any) -> None:
    client = metered.test_client()
    admin = make_staff(client, services, "住建局", "admin", "kept-admin")
    ours = metered.extensions["services"]
    before = client.get("/api/v1/categories").get_json()
    assert _publish(client, admin, document("2026.5"), effective_from="2099-07-01").status_code == 201
    ours.clock = FixedClock(ours.clock.now().replace(year=2099, month=7, day=2))
    ours.routing.changed()
    after = client.get("/api/v1/categories").get_json()
    assert after != before and _flask(metered, "/api/v1/categories") == 2
    assert client.get("/api/v1/categories").get_json() == after
    assert _flask(metered, "/api/v1/categories") == 2


def test_a_route_a_limit_applies_to_is_never_kept(metered: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = next(r.endpoint for r in metered.url_map.iter_rules() if r.rule == "/api/v1/labels")
    monkeypatch.setitem(limits._LIMITED, endpoint, True)
    client = metered.test_client()
    for _ in range(3):
        assert client.get("/api/v1/labels").status_code == 200
    assert _flask(metered, "/api/v1/labels") == 3
