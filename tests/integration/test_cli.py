"""Operators' commands through Flask's CLI runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from app.models import Community, Department, PropertyCompany, StarRating
from handlers.seed import seed_reference
from tests.helpers import login

CONFIG = Path(__file__).resolve().parents[2] / "config" / "county.yaml"


def _counts(services: Any) -> dict[str, int]:
    with services.db.uow() as uow:
        return {
            m.__tablename__: uow.session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Department, Community, PropertyCompany, StarRating)
        }


def test_seed_is_idempotent(app: Any, services: Any) -> None:
    first = _counts(services)
    assert first["departments"] == 9 + 7
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    seed_reference(services.context())
    assert _counts(services) == first


def test_routing_check_passes_on_the_shipped_file_and_names_problems(app: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["routing", "check"])
    assert ok.exit_code == 0, ok.output
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw["routes"][1]["leads"].append("城管局")
    raw["categories"][0]["accept_within"] = "soon"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    bad = runner.invoke(args=["routing", "check", "--config", str(broken)])
    assert bad.exit_code == 1
    assert "城管局" in bad.output and "accept_within" in bad.output


def test_staff_invite_prints_the_code_alone_on_its_last_line_and_it_binds_once(app: Any, client: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "invite", "--department", "公安局", "--role", "head"])
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    assert len(code) == 14 and code.count("-") == 2
    headers = login(client, "policehead")
    bound = client.post("/api/v1/auth/bind-staff", json={"binding_code": code}, headers=headers)
    assert bound.status_code == 200
    assert bound.get_json()["user"]["role"] == "head"
    assert bound.get_json()["user"]["department"]["name"] == "公安局"
    again = client.post(
        "/api/v1/auth/bind-staff", json={"binding_code": code}, headers=login(client, "other")
    )
    assert again.status_code == 409
    unknown = runner.invoke(args=["staff", "invite", "--department", "不存在局", "--role", "handler"])
    assert unknown.exit_code == 1


def test_revoking_a_role_takes_effect_at_once(app: Any, client: Any) -> None:
    runner = app.test_cli_runner()
    code = (
        runner.invoke(args=["staff", "invite", "--department", "住建局", "--role", "supervisor"])
        .output.strip()
        .splitlines()[-1]
    )
    headers = login(client, "sup")
    user = client.post("/api/v1/auth/bind-staff", json={"binding_code": code}, headers=headers).get_json()[
        "user"
    ]
    assert client.get("/api/v1/supervision/extensions", headers=headers).status_code == 200
    assert runner.invoke(args=["staff", "revoke", "--user", str(user["id"])]).exit_code == 0
    assert client.get("/api/v1/supervision/extensions", headers=headers).status_code == 403


def test_the_worker_runs_its_jobs_once(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
