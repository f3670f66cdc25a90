"""A county changes its responsibility list while the product runs: an admin
publishes a version over HTTP to gunicorn (two worker processes) with a
background worker running; within 10 seconds new cases are routed by it in
every web process, the older case keeps its department and its version, and
the worker escalates each case by the ladder of its own version."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import select

from app import create_app
from app.models import Case, CaseEvent
from handlers.accounts import bind_staff, invite_staff
from handlers.seed import seed_reference
from tests.e2e.procs import fast_config, gunicorn, wait_until, worker_env, workers

pytestmark = pytest.mark.slow
PICKUP_LIMIT = 10.0  # seconds from publication to every process routing by the new version


@pytest.fixture
def fast_app(settings: Any, tmp_path: Path) -> Any:
    config = fast_config(tmp_path)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["daily_case_limit"] = 100
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    app = create_app(settings.but(cases_config=str(config)))
    seed_reference(app.extensions["services"].context())
    app.config["fast_config"] = config
    yield app
    app.extensions["services"].close()


def _new_version(config: Path) -> str:
    """The running list with 遛狗 moved to the police and the ladder's steps renamed."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["version"] = "2026.2"
    next(r for r in raw["routes"] if r["id"] == "dirt-5")["leads"] = ["公安局"]
    for step in raw["escalation"]:
        step["label"] = f"{step['label']}（新）"
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def _login(http: requests.Session, base: str, name: str) -> dict[str, Any]:
    answer = http.post(f"{base}/api/v1/auth/wechat-login", json={"code": f"user-{name}:1"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _labels(services: Any, case_id: int) -> set[str]:
    with services.db.uow() as uow:
        notes = uow.session.scalars(
            select(CaseEvent.note).where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
        )
        return {note.split("：")[0] for note in notes}


def test_a_published_version_routes_the_next_case_within_ten_seconds_and_older_cases_keep_theirs(
    fast_app: Any, settings: Any, fake_wechat: Any
) -> None:
    services = fast_app.extensions["services"]
    config = fast_app.config["fast_config"]
    env = worker_env(settings.but(cases_config=str(config)), config)
    http = requests.Session()
    with gunicorn(env) as (base, _), workers(env, 1):
        admin = _login(http, base, "e2e-admin")
        code, _ = invite_staff(services.context(), "住建局", "admin")
        bind_staff(services.context(), admin["user"]["id"], code)
        resident = {"Authorization": f"Bearer {_login(http, base, 'e2e-res')['token']}"}
        community = http.get(f"{base}/api/v1/communities?q=幸福里", timeout=10).json()["items"][0]["id"]

        def file(text: str) -> dict[str, Any]:
            body = {"category": "dog_unleashed", "community_id": community, "description": text}
            answer = http.post(f"{base}/api/v1/cases", json=body, headers=resident, timeout=10)
            assert answer.status_code == 201, answer.text
            return answer.json()  # type: ignore[no-any-return]

        older = file("发布新版本之前：有人遛狗不拴绳")
        assert older["departments"][0]["name"] == "综合执法局"
        published = http.post(
            f"{base}/api/v1/admin/routing/versions",
            json={"document": _new_version(config), "note": "遛狗问题改由公安局主办"},
            headers={"Authorization": f"Bearer {admin['token']}"},
            timeout=10,
        )
        assert published.status_code == 201, published.text
        at = time.monotonic()

        routed: list[dict[str, Any]] = []

        def next_case_routed_by_it() -> bool:
            routed.append(file(f"发布之后第 {len(routed) + 1} 件：遛狗不拴绳"))
            return routed[-1]["departments"][0]["name"] == "公安局"

        assert wait_until(next_case_routed_by_it, timeout=PICKUP_LIMIT, interval=0.5)
        first_seen = time.monotonic() - at
        # By the limit every web process has looked again: every case goes to the police.
        time.sleep(max(0.0, PICKUP_LIMIT - (time.monotonic() - at)))
        later = [file(f"十秒之后第 {i} 件：遛狗不拴绳") for i in range(4)]
        assert {c["departments"][0]["name"] for c in later} == {"公安局"}
        print(f"first case routed by the new version {first_seen:.1f} s after publication")

        # The older case is untouched, and the worker climbs each case's own ladder.
        newest = later[-1]
        assert wait_until(lambda: len(_labels(services, older["id"])) == 4, timeout=30)
        assert wait_until(lambda: len(_labels(services, newest["id"])) == 4, timeout=30)
    assert _labels(services, older["id"]) == {"预警", "超期", "督办", "挂牌督办"}
    assert _labels(services, newest["id"]) == {"预警（新）", "超期（新）", "督办（新）", "挂牌督办（新）"}
    with services.db.uow() as uow:
        kept = uow.session.get(Case, older["id"])
        assert kept is not None and kept.config_version == "2023.1"
        assert kept.primary_department is not None and kept.primary_department.name == "综合执法局"
        assert uow.session.get(Case, newest["id"]).config_version == "2026.2"  # type: ignore[union-attr]
