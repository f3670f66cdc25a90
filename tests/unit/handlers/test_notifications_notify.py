"""handlers/notifications/notify.py: who is told what, written to the
outbox in the caller's transaction, each message opening the page its
recipient needs."""

from __future__ import annotations

import pytest

from app.models import Case, Notification, User
from handlers.notifications.notify import (
    case_payload,
    enqueue,
    page_for,
    staff_of,
    staff_of_all,
    supervisors,
    tell_reporter,
)
from handlers.supervision.actions import merge_case
from tests.unit.handlers.conftest import World, county_with


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("resident", "pages/case/index?id=7"),
        ("handler", "pages/staff/handle/index?id=7"),
        ("head", "pages/staff/handle/index?id=7"),
        ("supervisor", "pages/supervise/case/index?id=7"),
        ("admin", "pages/supervise/case/index?id=7"),
    ],
)
def test_a_message_opens_the_page_its_recipient_needs(role: str, page: str) -> None:
    assert page_for(User(role=role), 7) == page


def test_staff_of_a_department_are_its_handlers_and_heads_unless_told_otherwise(world: World) -> None:
    handler = world.user("h", "住建局")
    head = world.user("head", "住建局", "head")
    office = world.user("office", "住建局", "supervisor")
    world.user("police", "公安局")
    world.user("resident")
    with world.db.uow() as uow:
        s = uow.session
        assert handler.department_id is not None
        assert [u.id for u in staff_of(s, [handler.department_id])] == [handler.id, head.id]
        assert [u.id for u in staff_of(s, [handler.department_id], ("head", "supervisor"))] == [
            head.id,
            office.id,
        ]
        assert staff_of(s, []) == []


def test_every_staff_member_and_only_the_office_as_supervisors(world: World) -> None:
    handler = world.user("h", "住建局")
    town = world.user("town", "杨和镇", "head")
    office = world.user("office", "住建局", "supervisor")
    admin = world.user("admin", "住建局", "admin")
    world.user("resident")
    with world.db.uow() as uow:
        s = uow.session
        assert [u.id for u in staff_of_all(s)] == [handler.id, town.id, office.id, admin.id]
        assert [u.id for u in supervisors(s)] == [office.id]


def test_a_payload_names_the_case_in_the_countys_words(world: World) -> None:
    case = world.file(world.user("reporter").id, "fire_lane_blocked")
    assert case_payload(case, world.ctx.county) == {
        "number": case.number,
        "category": "占用消防车道/堵塞消防通道",
        "community": "幸福里小区",
    }
    case.category = "retired_category"
    assert case_payload(case, world.ctx.county)["category"] == "retired_category"


def test_enqueue_writes_one_row_per_person_with_their_own_page(world: World) -> None:
    resident, handler = world.user("resident"), world.user("h", "住建局")
    office = world.user("office", "住建局", "supervisor")
    case = world.file(resident.id)
    before = world.count(Notification)
    with world.db.uow() as uow:
        s = uow.session
        stored = s.get(Case, case.id)
        assert stored is not None
        people = [s.get(User, u) for u in (resident.id, handler.id, office.id, handler.id)]
        written_count = enqueue(
            s, world.clock.now(), "escalation", stored, [p for p in people if p], {"step": "督办"}
        )
        uow.commit()
    assert written_count == 3 and world.count(Notification) == before + 3
    written = world.outbox("escalation", case.id)
    assert {(n.user_id, n.payload["page"]) for n in written} == {
        (resident.id, f"pages/case/index?id={case.id}"),
        (handler.id, f"pages/staff/handle/index?id={case.id}"),
        (office.id, f"pages/supervise/case/index?id={case.id}"),
    }
    assert all(n.status == "pending" and n.next_attempt_at == world.clock.now() for n in written)
    assert all(n.payload["step"] == "督办" for n in written)


def test_a_message_about_no_case_opens_no_page(world: World) -> None:
    handler = world.user("h", "住建局")
    with world.db.uow() as uow:
        user = uow.session.get(User, handler.id)
        assert user is not None
        enqueue(uow.session, world.clock.now(), "escalation", None, [user], {"step": "黑名单"})
        uow.commit()
    [row] = world.outbox("escalation")
    assert row.case_id is None and "page" not in row.payload


def _tell(world: World, case_id: int, status: str, note: str = "") -> None:
    with world.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        tell_reporter(uow.session, world.clock.now(), case, world.ctx.county, status, note)
        uow.commit()


def test_the_reporter_and_the_reporters_of_merged_cases_hear_of_the_case(world: World) -> None:
    first, second = world.user("first"), world.user("second")
    office = world.user("office", "住建局", "supervisor")
    surviving = world.file(first.id)
    duplicate = world.file(second.id)
    merge_case(world.ctx, duplicate.id, office.id, surviving.id)
    _tell(world, surviving.id, "accepted")
    rows = world.outbox("case_update", surviving.id)
    assert {n.user_id for n in rows} == {first.id, second.id}
    assert {n.payload["status"] for n in rows} == {"已签收，正在处理"}


@pytest.mark.parametrize(
    ("status", "notice"),
    [
        ("resolved", "已办结，请评价"),
        ("rejected", "不予受理"),
        ("reopened", "重新办理"),
        ("accepted", "已签收，正在处理"),
    ],
)
def test_the_reporter_is_told_the_countys_notice_or_else_the_status(
    world: World, status: str, notice: str
) -> None:
    reporter = world.user("reporter")
    case = world.file(reporter.id)
    _tell(world, case.id, status, "说明")
    [row] = world.outbox("case_update", case.id)
    assert (row.payload["status"], row.payload["note"]) == (notice, "说明")


def test_a_county_may_word_its_notices_itself(world: World) -> None:
    world.ctx.county = county_with(labels={"notices": {"accepted": "部门已接单"}})
    case = world.file(world.user("reporter").id)
    _tell(world, case.id, "accepted")
    assert world.outbox("case_update", case.id)[0].payload["status"] == "部门已接单"
