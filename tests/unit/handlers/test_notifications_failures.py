"""handlers/notifications/failures.py: what supervisors must see of the
outbox — sends that can never succeed, and staff nobody can reach."""

from __future__ import annotations

from datetime import timedelta

from app.models import Notification
from handlers.notifications.failures import failed_notifications
from tests.unit.handlers.conftest import World


def _row(world: World, user_id: int, status: str, case_id: int | None = None) -> int:
    with world.db.uow() as uow:
        row = Notification(
            user_id=user_id,
            case_id=case_id,
            purpose="new_case",
            payload={},
            status=status,
            next_attempt_at=world.clock.now(),
            created_at=world.clock.now(),
        )
        uow.session.add(row)
        uow.commit()
        world.clock.advance(minutes=1)
        return row.id


def _listed(world: World, page: int = 1, per_page: int = 20) -> tuple[list[int], int]:
    failures, total = failed_notifications(world.ctx, page, per_page)
    return [f.notification.id for f in failures], total


def test_failed_sends_are_listed_whoever_they_were_for(world: World) -> None:
    resident, staff = world.user("resident"), world.user("handler", "住建局")
    for_resident = _row(world, resident.id, "failed")
    for_staff = _row(world, staff.id, "failed")
    assert _listed(world) == ([for_staff, for_resident], 2)


def test_staff_nobody_can_reach_are_listed_but_residents_who_did_not_subscribe_are_not(world: World) -> None:
    resident, staff = world.user("resident"), world.user("handler", "杨和镇", "head")
    _row(world, resident.id, "no_channel")
    unreachable = _row(world, staff.id, "no_channel")
    assert _listed(world) == ([unreachable], 1)


def test_sent_and_pending_messages_are_not_listed(world: World) -> None:
    staff = world.user("handler", "住建局")
    _row(world, staff.id, "sent")
    _row(world, staff.id, "pending")
    assert _listed(world) == ([], 0)


def test_each_failure_names_its_recipient_and_case_newest_first_page_by_page(world: World) -> None:
    staff = world.user("handler", "住建局")
    case = world.file(world.user("reporter").id)
    ids = [_row(world, staff.id, "failed", case.id if i == 0 else None) for i in range(3)]
    failures, total = failed_notifications(world.ctx, 1, 2)
    assert total == 3 and [f.notification.id for f in failures] == ids[:0:-1]
    assert failures[0].recipient.id == staff.id
    last, _ = failed_notifications(world.ctx, 2, 2)
    assert [(f.notification.id, f.case_number) for f in last] == [(ids[0], case.number)]
    assert failures[0].case_number is None
    assert failures[0].notification.created_at - last[0].notification.created_at == timedelta(minutes=2)
