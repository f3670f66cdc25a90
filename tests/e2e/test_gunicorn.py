"""The product as it runs: gunicorn serving `app:create_app()`, a worker, the
fake WeChat; a resident files over real HTTP and the department is told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from handlers.accounts import bind_staff, invite_staff
from tests.e2e.procs import ROOT, gunicorn, wait_until, worker_env, workers

pytestmark = pytest.mark.slow


def test_a_report_filed_through_gunicorn_reaches_the_department(
    app: Any, services: Any, settings: Any, fake_wechat: Any, tmp_path: Path
) -> None:
    env = worker_env(settings, ROOT / "config" / "county.yaml")
    with gunicorn(env) as base:
        http = requests.Session()
        staff = http.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": "user-gu-staff:1"}, timeout=10
        ).json()
        code, _ = invite_staff(services.context(), "综合执法局", "handler")
        bind_staff(services.context(), staff["user"]["id"], code)
        auth = {"Authorization": f"Bearer {staff['token']}"}
        subscribed = http.post(
            f"{base}/api/v1/staff/subscriptions",
            json={"TPL_NEW_CASE_PLACEHOLDER": "accept"},
            headers=auth,
            timeout=10,
        )
        assert subscribed.status_code == 200
        resident = http.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": "user-gu-res:1"}, timeout=10
        ).json()
        community = http.get(f"{base}/api/v1/communities?q=幸福里", timeout=10).json()["items"][0]["id"]
        with workers(env, 1):
            filed = http.post(
                f"{base}/api/v1/cases",
                json={
                    "category": "dog_unleashed",
                    "community_id": community,
                    "description": "真实进程里的遛狗不拴绳",
                },
                headers={"Authorization": f"Bearer {resident['token']}", "Idempotency-Key": "gu-1"},
                timeout=10,
            )
            assert filed.status_code == 201, filed.text
            number = filed.json()["number"]
            assert wait_until(
                lambda: any(
                    m["body"]["data"]["character_string1"]["value"] == number for m in fake_wechat.sent
                ),
                20,
            )
        queue = http.get(f"{base}/api/v1/staff/cases", headers=auth, timeout=10).json()
        assert [c["number"] for c in queue["items"]] == [number]
        assert http.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
