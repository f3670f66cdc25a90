"""handlers/supervision/escalation.py: the sweep fires every ladder step
that fell due, once per case and deadline, in order, to the step's
recipients, however late it runs and however many workers run it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Case, Escalation
from handlers.cases.handling import ExtensionRequest, request_extension
from handlers.cases.resident import Reopen, reopen_case
from handlers.supervision import escalation
from handlers.supervision.actions import decide_extension
from handlers.supervision.escalation import sweep
from tests.unit.handlers.conftest import World


def _at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in June 2026, given in county time (UTC+8)."""
    return datetime(2026, 6, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


# The 遛狗不拴绳 case filed Tuesday 2 June 10:00: accept by Wednesday 10:00 (1wd),
# resolve by Tuesday 9 June 10:00 (5wd).
ACCEPT_OVERDUE = _at(3, 10, 0, 1)
ACCEPT_SUPERVISION = _at(4, 10)
ACCEPT_LEADER = _at(8, 10)
RESOLVE_WARNING = _at(8, 10)
RESOLVE_OVERDUE = _at(9, 10, 0, 1)
RESOLVE_SUPERVISION = _at(10, 10)
RESOLVE_LEADER = _at(12, 10)


@dataclass(frozen=True)
class Cast:
    case_id: int
    reporter: int
    handler: int  # 综合执法局, the primary
    head: int
    co_handler: int  # 住建局
    town_handler: int  # 杨和镇, the township
    town_head: int
    office: int  # the leading group office
    admin: int


@pytest.fixture
def cast(world: World) -> Cast:
    reporter = world.user("reporter").id
    people = Cast(
        world.file(reporter).id,
        reporter,
        world.user("handler", "综合执法局").id,
        world.user("head", "综合执法局", "head").id,
        world.user("co", "住建局").id,
        world.user("town", "杨和镇").id,
        world.user("town-head", "杨和镇", "head").id,
        world.user("office", "住建局", "supervisor").id,
        world.user("admin", "住建局", "admin").id,
    )
    world.user("other-town-head", "望洪镇", "head")
    return people


def _fired(world: World, case_id: int) -> list[tuple[str, str]]:
    return [(e.data["deadline"], e.step or "") for e in world.events(case_id, "escalated")]


def _told(world: World, case_id: int, level: str) -> set[int]:
    return {n.user_id for n in world.outbox("escalation", case_id) if n.payload.get("level") == level}


def test_nothing_fires_before_its_time(world: World, cast: Cast) -> None:
    world.clock.at = ACCEPT_OVERDUE - timedelta(seconds=1)
    assert sweep(world.ctx) == 0
    assert _fired(world, cast.case_id) == [] and world.outbox("escalation") == []


def test_a_passed_accept_deadline_tells_the_departments_head_and_the_township(
    world: World, cast: Cast
) -> None:
    world.clock.at = ACCEPT_OVERDUE
    assert sweep(world.ctx) == 1
    [event] = world.events(cast.case_id, "escalated")
    assert (event.step, event.data["deadline"], event.actor_id) == ("overdue", "accept", None)
    assert event.note.startswith("超期：签收期限 2026-06-03 10:00")
    assert _told(world, cast.case_id, "overdue") == {cast.head, cast.town_handler, cast.town_head}
    rows = world.outbox("escalation", cast.case_id)
    assert {n.payload["step"] for n in rows} == {"超期"}
    assert {n.payload["page"] for n in rows} == {f"pages/staff/handle/index?id={cast.case_id}"}
    case = world.case(cast.case_id)
    assert (case.escalation_step, case.next_escalation_at) == ("overdue", ACCEPT_SUPERVISION)
    assert world.waker.calls == 2


def test_a_second_sweep_fires_nothing_again(world: World, cast: Cast) -> None:
    world.clock.at = ACCEPT_OVERDUE
    sweep(world.ctx)
    assert sweep(world.ctx) == 0
    world.clock.advance(hours=1)
    assert sweep(world.ctx) == 0
    assert _fired(world, cast.case_id) == [("accept", "overdue")]
    assert len(world.outbox("escalation")) == 3


def test_supervision_and_leader_steps_go_to_the_office_only(world: World, cast: Cast) -> None:
    world.clock.at = ACCEPT_SUPERVISION
    assert sweep(world.ctx) == 2
    assert _told(world, cast.case_id, "supervision") == {cast.office}
    world.clock.at = ACCEPT_LEADER - timedelta(seconds=1)
    assert sweep(world.ctx) == 0
    world.clock.at = ACCEPT_LEADER
    sweep(world.ctx)
    assert _told(world, cast.case_id, "leader") == {cast.office}
    leader = [n for n in world.outbox("escalation", cast.case_id) if n.payload["level"] == "leader"]
    assert leader[0].payload["step"] == "挂牌督办"
    assert leader[0].payload["page"] == f"pages/supervise/case/index?id={cast.case_id}"


def test_the_warning_at_80_percent_tells_the_primarys_staff(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.handler)
    world.clock.at = RESOLVE_WARNING - timedelta(seconds=1)
    assert sweep(world.ctx) == 0
    world.clock.at = RESOLVE_WARNING
    assert sweep(world.ctx) == 1
    assert _fired(world, cast.case_id) == [("resolve", "warning")]
    assert _told(world, cast.case_id, "warning") == {cast.handler, cast.head}
    assert world.case(cast.case_id).next_escalation_at == RESOLVE_OVERDUE


def test_a_late_sweep_records_every_step_it_passed_in_order_once(world: World, cast: Cast) -> None:
    world.clock.at = RESOLVE_LEADER + timedelta(hours=1)  # the worker was down for ten days
    assert sweep(world.ctx) == 7
    assert _fired(world, cast.case_id) == [
        ("accept", "overdue"),
        ("accept", "supervision"),
        ("accept", "leader"),
        ("resolve", "warning"),
        ("resolve", "overdue"),
        ("resolve", "supervision"),
        ("resolve", "leader"),
    ]
    levels = [n.payload["level"] for n in world.outbox("escalation", cast.case_id)]
    assert levels.count("warning") == 2  # handler and head, once
    assert levels.count("overdue") == 6  # head and two township staff, per deadline
    assert levels.count("leader") == 2  # the office, per deadline
    case = world.case(cast.case_id)
    assert (case.escalation_step, case.next_escalation_at) == ("leader", None)
    assert sweep(world.ctx) == 0


def test_a_resolved_case_escalates_no_further(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.handler)
    world.resolve(cast.case_id, cast.handler)
    world.clock.at = RESOLVE_LEADER
    assert sweep(world.ctx) == 0
    assert world.outbox("escalation") == []


def test_a_step_another_worker_recorded_first_is_not_told_twice(world: World, cast: Cast) -> None:
    case = world.case(cast.case_id)
    assert case.accept_due_at is not None
    with world.db.uow() as uow:
        uow.session.add(
            Escalation(
                case_id=cast.case_id,
                deadline_kind="accept",
                deadline_at=case.accept_due_at,
                step="overdue",
                due_at=ACCEPT_OVERDUE,
                fired_at=ACCEPT_OVERDUE,
            )
        )
        uow.commit()
    world.clock.at = ACCEPT_OVERDUE
    assert sweep(world.ctx) == 0
    assert _fired(world, cast.case_id) == [] and world.outbox("escalation") == []
    # The case still moves on to its next step.
    assert world.case(cast.case_id).next_escalation_at == ACCEPT_SUPERVISION


def test_every_due_case_is_swept_batch_after_batch(world: World, cast: Cast) -> None:
    others = [world.file(cast.reporter).id for _ in range(4)]
    world.clock.at = ACCEPT_OVERDUE
    assert sweep(world.ctx, batch=2) == 5
    assert all(_fired(world, c) == [("accept", "overdue")] for c in [cast.case_id, *others])


def test_an_urgent_case_is_overdue_a_second_after_its_half_hour(world: World, cast: Cast) -> None:
    case = world.file(cast.reporter, "flying_wire_charging")
    world.clock.at = world.clock.at + timedelta(minutes=30, seconds=1)
    assert sweep(world.ctx) == 1
    assert _fired(world, case.id) == [("accept", "overdue")]


def test_an_approved_extension_rearms_the_ladder_for_the_new_deadline(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.handler)
    world.clock.at = RESOLVE_OVERDUE
    sweep(world.ctx)
    assert _fired(world, cast.case_id) == [("resolve", "warning"), ("resolve", "overdue")]
    extension = request_extension(
        world.ctx,
        cast.case_id,
        cast.handler,
        ExtensionRequest(reason="需要协调", until="2026-06-30T10:00:00"),
    )
    decide_extension(world.ctx, extension.id, cast.office, approve=True)
    case = world.case(cast.case_id)
    assert case.escalation_step is None and case.next_escalation_at is not None
    assert case.next_escalation_at < _at(30, 10)
    world.clock.at = case.next_escalation_at
    assert sweep(world.ctx) == 1
    world.clock.at = _at(30, 10, 0, 1)
    assert sweep(world.ctx) == 1
    assert _fired(world, cast.case_id)[2:] == [("resolve", "warning"), ("resolve", "overdue")]
    deadlines = {e.data["deadline_at"] for e in world.events(cast.case_id, "escalated")}
    assert deadlines == {"2026-06-09T02:00:00+00:00", "2026-06-30T02:00:00+00:00"}


def test_a_reopened_case_climbs_the_ladder_again_for_its_new_resolve_deadline(
    world: World, cast: Cast
) -> None:
    world.accept(cast.case_id, cast.handler)
    world.clock.at = RESOLVE_OVERDUE
    sweep(world.ctx)
    world.resolve(cast.case_id, cast.handler)
    reopen_case(world.ctx, cast.case_id, cast.reporter, Reopen(reason="问题依旧"))
    case = world.case(cast.case_id)
    assert case.resolve_due_at is not None
    world.clock.at = case.resolve_due_at + timedelta(seconds=1)
    assert sweep(world.ctx) == 2
    assert _fired(world, cast.case_id) == [("resolve", "warning"), ("resolve", "overdue")] * 2


def test_only_cases_whose_time_has_come_are_read(world: World, cast: Cast) -> None:
    world.clock.at = ACCEPT_OVERDUE
    with world.db.uow() as uow:
        case = uow.session.get(Case, cast.case_id)
        assert case is not None
        case.next_escalation_at = None  # as if nothing were due
        uow.commit()
    assert sweep(world.ctx) == 0
    assert world.count(Escalation) == 0


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, ""),
        (59, ""),
        (60, "1 分钟"),
        (2400, "40 分钟"),
        (3600, "1.0 小时"),
        (5.5 * 3600, "5.5 小时"),
        (3 * 86400 + 7200, "3 天 2 小时"),
        (2 * 86400, "2 天"),
    ],
)
def test_how_late_a_step_is_reads_like_a_person_says_it(seconds: float, said: str) -> None:
    from handlers.supervision.escalation import overdue_text

    assert overdue_text(seconds) == said


def test_a_step_another_worker_recorded_meanwhile_is_told_by_that_worker_only(
    world: World, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain insert of the batch's steps is checked by its row count: when
    a step landed elsewhere between this sweep's read of the fired steps and
    its insert, the batch goes again with RETURNING and only the steps this
    sweep inserted are told."""
    other = world.file(cast.reporter).id
    world.clock.at = ACCEPT_OVERDUE
    with world.db.uow() as uow:
        case = uow.session.get(Case, cast.case_id)
        assert case is not None and case.accept_due_at is not None
        uow.session.add(
            Escalation(
                case_id=cast.case_id,
                deadline_kind="accept",
                deadline_at=case.accept_due_at,
                step="overdue",
                due_at=ACCEPT_OVERDUE,
                fired_at=ACCEPT_OVERDUE,
            )
        )
        uow.commit()
    # This sweep read no fired step: as if the other worker's insert came after its read.
    monkeypatch.setattr(escalation, "_fired_of", lambda s, cases: defaultdict(set))
    assert sweep(world.ctx) == 1
    assert _fired(world, cast.case_id) == [] and _told(world, cast.case_id, "overdue") == set()
    assert _fired(world, other) == [("accept", "overdue")] and _told(world, other, "overdue")
    assert world.case(cast.case_id).escalation_step == "overdue"  # its clocks still move on
