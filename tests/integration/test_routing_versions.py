"""The responsibility list as versioned data, over HTTP and the command line:
the shipped file is the first version, a published version routes new cases
while older cases keep the clocks and ladder of their own version, a broken
one is refused naming every problem, versions are listed and compared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from app.clock import FixedClock
from app.models import Base, Case
from app.settings import ROOT
from handlers.supervision.escalation import sweep
from routing import parse_duration
from tests.helpers import file_case, login, make_staff, upload_photo

SHIPPED = ROOT / "config" / "county.yaml"


def document(version: str, **changes: Any) -> str:
    """The shipped file as a new version: 综合执法局's dog categories go to the
    police, dog_unleashed resolves in 2wd, the overdue step is renamed."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["version"] = version
    next(r for r in raw["routes"] if r["id"] == "dirt-5")["leads"] = ["公安局"]
    next(c for c in raw["categories"] if c["code"] == "dog_unleashed")["resolve_within"] = "2wd"
    next(s for s in raw["escalation"] if s["step"] == "overdue")["label"] = "超时"
    raw.update(changes)
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


@pytest.fixture
def admin(client: Any, services: Any) -> dict[str, str]:
    return make_staff(client, services, "住建局", "admin", "routing-admin")


def _publish(client: Any, headers: dict[str, str], text: str, **extra: Any) -> Any:
    return client.post(
        "/api/v1/admin/routing/versions",
        json={"document": text, "note": "调整遛狗类别主办部门", **extra},
        headers=headers,
    )


def _rows(services: Any) -> dict[str, int]:
    with services.db.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def _version_of(services: Any, case_id: int) -> str:
    with services.db.uow() as uow:
        return str(uow.session.scalar(select(Case.config_version).where(Case.id == case_id)))


def test_the_shipped_file_is_the_first_version(client: Any, admin: dict[str, str]) -> None:
    listed = client.get("/api/v1/admin/routing/versions", headers=admin).get_json()
    assert listed["total"] == 1
    (first,) = listed["items"]
    assert first["version"] == "2023.1" and first["in_effect"] is True
    assert first["created_by"] == "系统（初始清单）" and first["effective_from"].startswith(
        "2023-05-19T00:00:00+08:00"
    )
    detail = client.get("/api/v1/admin/routing/versions/2023.1", headers=admin).get_json()
    assert detail["document"] == SHIPPED.read_text(encoding="utf-8")
    earliest = client.get("/api/v1/admin/routing/versions/2023.1/diff", headers=admin)
    assert earliest.status_code == 409 and earliest.get_json()["error"]["code"] == "no_previous_version"


def test_a_new_version_routes_new_cases_and_older_cases_keep_their_own(
    client: Any, services: Any, admin: dict[str, str]
) -> None:
    start = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 county time
    services.clock = FixedClock(start)
    resident = login(client, "versions-res")
    law = make_staff(client, services, "综合执法局", "handler", "versions-law")
    police = make_staff(client, services, "公安局", "handler", "versions-police")
    old = file_case(client, resident)
    assert old["departments"][0]["name"] == "综合执法局"

    published = _publish(client, admin, document("2026.2"))
    assert published.status_code == 201, published.get_json()
    body = published.get_json()
    assert body["version"] == "2026.2" and body["in_effect"] is True and body["against"] == "2023.1"
    (route,) = body["changes"]["routes"]["changed"]
    assert route == {"key": "dirt-5", "before": {"leads": ["综合执法局"]}, "after": {"leads": ["公安局"]}}
    (clock,) = body["changes"]["clocks"]["changed"]
    assert clock["key"] == "dog_unleashed" and clock["after"] == {"resolve_within": "2wd"}
    assert body["changes"]["escalation"]["changed"][0]["after"] == {"label": "超时"}

    new = file_case(client, resident, description="又有人遛狗不拴绳，已经第二次了")
    assert [d["name"] for d in new["departments"]][:1] == ["公安局"]
    assert (_version_of(services, old["id"]), _version_of(services, new["id"])) == ("2023.1", "2026.2")
    assert (
        client.get(f"/api/v1/cases/{old['id']}", headers=resident).get_json()["departments"][0]["name"]
        == "综合执法局"
    )

    # The older case keeps its version's clocks: reopened, it has 5 working days again, not 2.
    calendar = services.county.calendar
    assert (
        new["resolve_due_at"]
        == calendar.add(start, parse_duration("2wd")).astimezone(calendar.tz).isoformat()
    )
    client.post(f"/api/v1/staff/cases/{old['id']}/accept", json={}, headers=law)
    photo = upload_photo(client, law)["id"]
    client.post(
        f"/api/v1/staff/cases/{old['id']}/resolve", json={"note": "已劝导", "photo_ids": [photo]}, headers=law
    )
    reopened = client.post(
        f"/api/v1/cases/{old['id']}/reopen", json={"reason": "还是不拴绳"}, headers=resident
    )
    five = calendar.add(start, parse_duration("5wd")).astimezone(calendar.tz).isoformat()
    assert reopened.get_json()["resolve_due_at"] == five
    # ... and its ladder's words: the sweep names the overdue step as its own version does.
    services.clock = FixedClock(start + timedelta(days=20))
    sweep(services.context())
    kinds = {
        case_id: {
            e["note"].split("：")[0]
            for e in client.get(f"/api/v1/cases/{case_id}", headers=who).get_json()["timeline"]
            if e["step"] == "overdue"
        }
        for case_id, who in ((old["id"], law), (new["id"], police))
    }
    assert kinds == {old["id"]: {"超期"}, new["id"]: {"超时"}}

    listed = client.get("/api/v1/admin/routing/versions", headers=admin).get_json()["items"]
    assert [(v["version"], v["in_effect"]) for v in listed] == [("2026.2", True), ("2023.1", False)]
    diff = client.get("/api/v1/admin/routing/versions/2026.2/diff", headers=admin).get_json()
    assert diff["against"] == "2023.1" and diff["changes"] == body["changes"]
    back = client.get("/api/v1/admin/routing/versions/2023.1/diff?against=2026.2", headers=admin).get_json()
    assert back["changes"]["routes"]["changed"][0]["after"] == {"leads": ["综合执法局"]}
    recorded = client.get(
        "/api/v1/admin/changes",
        query_string={"entity": "routing_version", "entity_id": "2026.2"},
        headers=admin,
    )
    (latest,) = recorded.get_json()["items"]
    assert latest["action"] == "publish" and latest["by"].startswith("住建局") and latest["after"]["note"]


def test_a_version_takes_effect_at_its_time(client: Any, services: Any, admin: dict[str, str]) -> None:
    resident = login(client, "later-res")
    answer = _publish(client, admin, document("2026.3"), effective_from="2099-07-01")
    assert answer.status_code == 201 and answer.get_json()["in_effect"] is False
    assert file_case(client, resident)["departments"][0]["name"] == "综合执法局"
    services.clock = FixedClock(services.clock.now().replace(year=2099, month=7, day=2))
    services.routing.changed()  # this process looks again now rather than within 5 s
    assert (
        file_case(client, resident, description="2099 年还有人遛狗不拴绳")["departments"][0]["name"]
        == "公安局"
    )


def test_the_categories_answer_follows_the_version_in_effect(
    client: Any, services: Any, admin: dict[str, str]
) -> None:
    """The answer is built once per version (cached): a version taking effect
    changes it at this process's next look, as the contract allows."""

    def dog() -> dict[str, Any]:
        items = client.get("/api/v1/categories").get_json()["items"]
        return next(c for c in items if c["code"] == "dog_unleashed")

    before = dog()
    assert dog() == before  # served from the cache: the same answer
    assert _publish(client, admin, document("2026.4"), effective_from="2099-07-01").status_code == 201
    services.routing.changed()
    assert dog() == before  # not in effect yet: still the answer of the version in effect
    services.clock = FixedClock(services.clock.now().replace(year=2099, month=7, day=2))
    services.routing.changed()  # this process looks again now rather than within 5 s
    after = dog()
    assert after["resolve_within"] == "2wd" and before["resolve_within"] != "2wd"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"document": "version: 2026.9\nroutes: [oops", "note": "坏文件"}, 422, "invalid_routing"),
        ({"document": "SEVERAL", "note": "两处问题"}, 422, "invalid_routing"),
        ({"document": "SHIPPED", "note": "重复发布"}, 409, "version_exists"),
        (
            {"document": "NEW", "note": "过去生效", "effective_from": "2001-01-01"},
            422,
            "invalid_effective_from",
        ),
        (
            {"document": "NEW", "note": "格式不对", "effective_from": "2026-13-45"},
            422,
            "invalid_effective_from",
        ),
        ({"document": "NEW"}, 422, "invalid_field"),
        ({"document": "", "note": "空文件"}, 422, "invalid_field"),
        ({"document": "NEW", "note": "多余字段", "version": "x"}, 422, "invalid_field"),
    ],
)
def test_a_version_that_cannot_be_published_changes_nothing(
    client: Any, services: Any, admin: dict[str, str], body: dict[str, Any], status: int, code: str
) -> None:
    several = yaml.safe_load(document("2026.8"))
    several["routes"][0]["leads"] = ["城管局"]
    several["categories"][0]["accept_within"] = "3 weeks"
    texts = {
        "SHIPPED": SHIPPED.read_text(encoding="utf-8"),
        "NEW": document("2026.7"),
        "SEVERAL": yaml.safe_dump(several, allow_unicode=True),
    }
    body = {k: texts.get(v, v) if k == "document" else v for k, v in body.items()}
    before = _rows(services)
    answer = client.post("/api/v1/admin/routing/versions", json=body, headers=admin)
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == code
    if body["document"] == texts["SEVERAL"]:
        assert len(error["problems"]) == 2 and "城管局" in error["message"] and "3 weeks" in error["message"]
    assert _rows(services) == before


def test_publishing_from_the_command_line(app: Any, client: Any, services: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "county-2026.yaml"
    raw = yaml.safe_load(document("2026.4"))
    raw["departments"].append({"name": "人防办", "full_name": "永宁县人民防空办公室"})
    next(r for r in raw["routes"] if r["id"] == "dirt-6")["responsible"].append("人防办")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    done = runner.invoke(args=["routing", "publish", str(path), "--effective-from", "2099-01-01"])
    assert done.exit_code == 0, done.output
    assert "published 2026.4" in done.output and "新增部门 人防办" in done.output
    # The department it names exists at once (invitable, referable).
    assert "人防办" in {d["name"] for d in client.get("/api/v1/departments").get_json()["items"]}
    path.write_text(
        document("2026.5").replace("daily_case_limit: 20", "daily_case_limit: -1"), encoding="utf-8"
    )
    broken = runner.invoke(args=["routing", "publish", str(path)])
    assert broken.exit_code == 1 and "daily_case_limit 应为正整数" in broken.output
    late = runner.invoke(args=["routing", "publish", str(path), "--effective-from", "yesterday"])
    assert late.exit_code == 1
    admin = make_staff(client, services, "住建局", "admin", "cli-admin")
    versions = client.get("/api/v1/admin/routing/versions", headers=admin).get_json()["items"]
    assert [v["version"] for v in versions] == ["2026.4", "2023.1"]
    assert versions[0]["created_by"] == "命令行"


def test_only_admins_see_or_publish_versions(client: Any, services: Any) -> None:
    supervisor = make_staff(client, services, "住建局", "supervisor", "versions-sup")
    assert client.get("/api/v1/admin/routing/versions", headers=supervisor).status_code == 403
    assert _publish(client, supervisor, document("2026.6")).status_code == 403
    assert client.get("/api/v1/admin/routing/versions/2023.1", headers={}).status_code == 401
