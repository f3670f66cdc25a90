"""The escalation ladder, driven by a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.clock import FixedClock
from app.models import CaseEvent, Escalation, Notification
from handlers.supervision.escalation import sweep
from tests.helpers import file_case, login, make_staff, upload_photo, user_id

# Tuesday 2025-06-10 10:00 in Shanghai: an ordinary working day.
START = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(services: Any) -> FixedClock:
    services.clock = FixedClock(START)
    return services.clock


def _steps(services: Any, case_id: int) -> list[tuple[str, str]]:
    with services.db.uow() as uow:
        return [
            (e.deadline_kind, e.step)
            for e in uow.session.scalars(
                select(Escalation).where(Escalation.case_id == case_id).order_by(Escalation.id)
            )
        ]


def _escalated_events(services: Any, case_id: int) -> list[str | None]:
    with services.db.uow() as uow:
        return list(
            uow.session.scalars(
                select(CaseEvent.step)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
                .order_by(CaseEvent.id)
            )
        )


def test_a_late_sweep_records_every_passed_step_in_order_once(
    client: Any, services: Any, clock: FixedClock
) -> None:
    resident = login(client, "wang")
    head = make_staff(client, services, "消防救援大队", "head", "chief")
    township = make_staff(client, services, "杨和镇", "handler", "town")
    supervisor = make_staff(client, services, "住建局", "supervisor", "office")
    case = file_case(client, resident, category="fire_lane_blocked")  # accept 30m, resolve 24h
    # Nobody accepts; the worker was down for a week.
    clock.advance(days=7)
    fired = sweep(services.context())
    assert fired == 7  # accept: overdue, supervision, leader; resolve: warning, overdue, supervision, leader
    steps = _steps(services, case["id"])
    assert [s for k, s in steps if k == "accept"] == ["overdue", "supervision", "leader"]
    assert [s for k, s in steps if k == "resolve"] == ["warning", "overdue", "supervision", "leader"]
    assert len(_escalated_events(services, case["id"])) == 7
    # A second sweep, and a third, find nothing more.
    assert sweep(services.context()) == 0
    assert sweep(services.context()) == 0
    with services.db.uow() as uow:
        notes = uow.session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.purpose == "escalation")
            .group_by(Notification.user_id)
        ).all()
    by_user = dict(notes)
    # The head hears of the two overdue steps; the township too; supervisors of the four 督办 steps.
    assert by_user[user_id(client, head)] == 2 + 1  # + the warning to the primary department's staff
    assert by_user[user_id(client, township)] == 2
    assert by_user[user_id(client, supervisor)] == 4
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=supervisor).get_json()
    assert detail["escalation_step"] == "leader"
    assert [e["step"] for e in detail["timeline"] if e["kind"] == "escalated"][0] == "overdue"


def test_steps_fire_as_their_times_come(client: Any, services: Any, clock: FixedClock) -> None:
    resident = login(client, "zhao")
    handler = make_staff(client, services, "综合执法局", "handler", "law")
    case = file_case(client, resident, category="dog_unleashed")  # accept 1wd, resolve 5wd
    assert (
        client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler).status_code == 200
    )
    clock.advance(days=1)
    assert sweep(services.context()) == 0
    # 80 % of five working days from Tuesday 10:00 is Monday 10:00 + 0.8*7h... about the next Monday.
    clock.advance(days=5)
    assert sweep(services.context()) == 1
    assert _escalated_events(services, case["id"]) == ["warning"]
    clock.advance(days=1, hours=1)  # an hour past the resolve deadline, Tuesday 2025-06-17 10:00
    assert sweep(services.context()) == 1
    assert _escalated_events(services, case["id"]) == ["warning", "overdue"]


def test_an_approved_extension_moves_the_deadline_and_rearms_the_ladder(
    client: Any, services: Any, clock: FixedClock
) -> None:
    resident = login(client, "sun")
    handler = make_staff(client, services, "综合执法局", "handler", "law2")
    supervisor = make_staff(client, services, "住建局", "supervisor", "office2")
    case = file_case(client, resident, category="dog_unleashed")
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
    clock.advance(days=7, hours=1)  # an hour past the resolve deadline
    sweep(services.context())
    assert _escalated_events(services, case["id"]) == ["warning", "overdue"]
    until = (clock.now() + timedelta(days=10)).date().isoformat()
    ext = client.post(
        f"/api/v1/staff/cases/{case['id']}/extension",
        json={"reason": "需要协调供电部门", "until": until},
        headers=handler,
    )
    assert ext.status_code == 201, ext.get_json()
    assert ext.get_json()["status"] == "pending"
    pending = client.get("/api/v1/supervision/extensions?status=pending", headers=supervisor).get_json()
    assert [p["case"]["id"] for p in pending["items"]] == [case["id"]]
    approved = client.post(
        f"/api/v1/supervision/extensions/{ext.get_json()['id']}/approve", json={}, headers=supervisor
    )
    assert approved.status_code == 200
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=handler).get_json()
    assert detail["resolve_due_at"].startswith(until) and detail["resolve_due_at"].endswith("23:59:59+08:00")
    assert detail["escalation_step"] is None
    assert sweep(services.context()) == 0
    clock.advance(days=11)
    assert sweep(services.context()) == 2  # the new deadline's warning and overdue
    assert _escalated_events(services, case["id"])[-2:] == ["warning", "overdue"]


def test_a_resolved_case_stops_escalating(client: Any, services: Any, clock: FixedClock) -> None:
    resident = login(client, "qian")
    handler = make_staff(client, services, "综合执法局", "handler", "law3")
    case = file_case(client, resident, category="dog_unleashed")
    client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
    photo = upload_photo(client, handler)
    client.post(
        f"/api/v1/staff/cases/{case['id']}/resolve",
        json={"note": "已处理", "photo_ids": [photo["id"]]},
        headers=handler,
    )
    clock.advance(days=30)
    assert sweep(services.context()) == 0


def test_a_step_another_worker_recorded_meanwhile_is_told_by_that_worker_only(
    client: Any, services: Any, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is written whole in a savepoint (on PostgreSQL as one
    pipeline) and the steps' row count checked after: a step that landed
    elsewhere between this sweep's read of the fired steps and its insert
    undoes the savepoint, and the batch is written again telling only the
    steps this sweep inserted, on either database."""
    from collections import defaultdict

    from handlers.supervision import escalation

    resident = login(client, "qian")
    head = make_staff(client, services, "综合执法局", "head", "law-head")
    first = file_case(client, resident, category="dog_unleashed")
    second = file_case(client, resident, category="dog_unleashed")
    clock.advance(days=1, seconds=1)  # past both accept deadlines (1wd)
    with services.db.uow() as uow:
        case = uow.session.get(escalation.Case, first["id"])
        assert case is not None and case.accept_due_at is not None
        uow.session.add(
            Escalation(
                case_id=first["id"],
                deadline_kind="accept",
                deadline_at=case.accept_due_at,
                step="overdue",
                due_at=clock.now(),
                fired_at=clock.now(),
            )
        )
        uow.commit()
    # This sweep read no fired step: as if the other worker's insert came after its read.
    monkeypatch.setattr(escalation, "_fired_of", lambda s, cases: defaultdict(set))
    assert sweep(services.context()) == 1
    assert _escalated_events(services, first["id"]) == [] and _escalated_events(services, second["id"]) == [
        "overdue"
    ]
    with services.db.uow() as uow:
        told = uow.session.execute(
            select(Notification.case_id, Notification.user_id).where(Notification.purpose == "escalation")
        ).all()
        moved = {c.id: c.escalation_step for c in uow.session.scalars(select(escalation.Case))}
    assert set(told) == {(second["id"], user_id(client, head))}
    assert moved[first["id"]] == moved[second["id"]] == "overdue"  # both cases' clocks move on
