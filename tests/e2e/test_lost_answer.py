"""A filing whose answer never reached the phone (the connection dropped after
the request was sent) is retried with the same Idempotency-Key: the retry
answers the case the first request filed, and nothing is filed twice."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from sqlalchemy import func, select

from app.models import Case
from tests.e2e.procs import ROOT, gunicorn, wait_until, worker_env

pytestmark = pytest.mark.slow


def _post_and_hang_up(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    """Send the whole request, then close the connection without reading the answer."""
    url = urlparse(base)
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += [f"Content-Length: {len(payload)}", "Connection: close", "", ""]
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as conn:
        conn.sendall("\r\n".join(head).encode() + payload)


def _cases(services: Any, key: str | None = None) -> int:
    with services.db.uow() as uow:
        query = select(func.count(Case.id))
        if key is not None:
            query = query.where(Case.idempotency_key == key)
        return int(uow.session.scalar(query) or 0)


def test_a_retry_after_a_lost_answer_returns_the_case_already_filed(
    app: Any, services: Any, settings: Any, fake_wechat: Any
) -> None:
    env = worker_env(settings, ROOT / "config" / "county.yaml")
    with gunicorn(env) as (base, _):
        http = requests.Session()
        resident = http.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": "user-lost:1"}, timeout=10
        ).json()
        auth = {"Authorization": f"Bearer {resident['token']}"}
        community = http.get(f"{base}/api/v1/communities?q=幸福里", timeout=10).json()["items"][0]["id"]
        body = {"category": "dog_unleashed", "community_id": community, "description": "回答丢了的那次提交"}

        _post_and_hang_up(base, "/api/v1/cases", body, auth | {"Idempotency-Key": "lost-1"})
        assert wait_until(lambda: _cases(services, "lost-1") == 1, timeout=20)
        retried = http.post(
            f"{base}/api/v1/cases", json=body, headers=auth | {"Idempotency-Key": "lost-1"}, timeout=10
        )
        assert retried.status_code == 200, retried.text
        with services.db.uow() as uow:
            filed = uow.session.scalar(select(Case).where(Case.idempotency_key == "lost-1"))
        assert (
            filed is not None
            and retried.json()["id"] == filed.id
            and retried.json()["number"] == filed.number
        )

        # The phone retries while the first request is still being answered.
        answers: list[requests.Response] = []
        racers = [
            threading.Thread(
                target=lambda: answers.append(
                    requests.post(
                        f"{base}/api/v1/cases",
                        json=body,
                        headers=auth | {"Idempotency-Key": "race-1"},
                        timeout=20,
                    )
                )
            )
            for _ in range(2)
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(30)
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
    assert _cases(services, "race-1") == 1
    assert _cases(services) == 2
