"""handlers/cases/handling.py: the primary department accepts, resolves,
returns and asks for more time; every department on the case may add progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.models import Assignment, CaseEvent, Extension, Notification, Photo, Violation
from handlers.cases import handling
from handlers.errors import Conflict, DomainError, Forbidden, Invalid
from tests.unit.handlers.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Cast:
    """A 遛狗不拴绳 case: 综合执法局 主办, 住建局 协办, 杨和镇 属地."""

    case_id: int
    reporter: int
    primary: int
    co_handler: int
    township: int
    outsider: int
    supervisor: int


@pytest.fixture
def cast(world: World) -> Cast:
    reporter = world.user("reporter").id
    return Cast(
        world.file(reporter).id,
        reporter,
        world.user("enforcement", "综合执法局").id,
        world.user("housing", "住建局").id,
        world.user("town", "杨和镇").id,
        world.user("police", "公安局").id,
        world.user("office", "住建局", "supervisor").id,
    )


def _written(world: World, case_id: int) -> tuple[int, int, int]:
    return (
        world.count(CaseEvent, CaseEvent.case_id == case_id),
        world.count(Notification),
        world.count(Extension),
    )


# -- accept (签收) ----------------------------------------------------------------------


def test_the_primary_accepts_and_the_reporter_hears_of_it(world: World, cast: Cast) -> None:
    world.clock.advance(hours=1)
    handling.accept_case(world.ctx, cast.case_id, cast.primary)
    case = world.case(cast.case_id)
    assert case.status == "accepted" and case.accepted_at == world.clock.now()
    event = world.events(cast.case_id, "accepted")[0]
    assert (event.actor_id, event.actor_label, event.data["late"]) == (cast.primary, "综合执法局", False)
    [update] = world.outbox("case_update", cast.case_id)
    assert update.user_id == cast.reporter
    assert update.payload["status"] == "已签收，正在处理"
    assert update.payload["page"] == f"pages/case/index?id={cast.case_id}"
    assert world.waker.calls == 2  # the filing, the acceptance


def test_accepting_after_the_accept_deadline_is_recorded_as_late(world: World, cast: Cast) -> None:
    world.clock.advance(days=1, seconds=1)
    handling.accept_case(world.ctx, cast.case_id, cast.primary)
    assert world.events(cast.case_id, "accepted")[0].data["late"] is True


@pytest.mark.parametrize(
    ("who", "kind", "code"),
    [
        ("co_handler", Forbidden, "not_primary"),
        ("township", Forbidden, "not_primary"),
        ("outsider", Forbidden, "not_assigned"),
        ("reporter", Forbidden, "staff_only"),
    ],
)
def test_only_the_primary_may_accept_and_a_refusal_writes_nothing(
    world: World, cast: Cast, who: str, kind: type[DomainError], code: str
) -> None:
    before = _written(world, cast.case_id)
    with pytest.raises(kind) as refused:
        handling.accept_case(world.ctx, cast.case_id, getattr(cast, who))
    assert refused.value.code == code
    assert world.case(cast.case_id).status == "dispatched"
    assert _written(world, cast.case_id) == before
    assert world.waker.calls == 1


# -- progress ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "label"), [("co_handler", "住建局"), ("township", "杨和镇"), ("primary", "综合执法局")]
)
def test_every_department_on_the_case_may_add_progress(
    world: World, cast: Cast, who: str, label: str
) -> None:
    user = getattr(cast, who)
    photo = world.photo(user)
    handling.add_progress(
        world.ctx, cast.case_id, user, handling.Progress(note="已联系物业", photo_ids=[photo])
    )
    event = world.events(cast.case_id, "progress")[0]
    assert (event.note, event.actor_label) == ("已联系物业", label)
    stored = world.one(Photo, Photo.id == photo)
    assert stored is not None and (stored.case_id, stored.event_id) == (cast.case_id, event.id)
    assert world.case(cast.case_id).status == "dispatched"
    assert world.outbox("case_update") == []


def test_a_co_handler_may_add_progress_but_not_accept(world: World, cast: Cast) -> None:
    handling.add_progress(world.ctx, cast.case_id, cast.co_handler, handling.Progress(note="协助核查"))
    with pytest.raises(Forbidden):
        handling.accept_case(world.ctx, cast.case_id, cast.co_handler)


def test_progress_with_someone_elses_photo_writes_nothing(world: World, cast: Cast) -> None:
    theirs = world.photo(cast.reporter)
    before = _written(world, cast.case_id)
    with pytest.raises(Invalid) as refused:
        handling.add_progress(
            world.ctx, cast.case_id, cast.co_handler, handling.Progress(note="现场照片", photo_ids=[theirs])
        )
    assert refused.value.code == "unknown_photo"
    assert _written(world, cast.case_id) == before


def test_a_department_not_on_the_case_may_not_add_progress(world: World, cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        handling.add_progress(world.ctx, cast.case_id, cast.outsider, handling.Progress(note="路过看到"))
    assert refused.value.code == "not_assigned"


# -- resolve (办结) ----------------------------------------------------------------------


def test_resolving_needs_an_evidence_photo(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    before = _written(world, cast.case_id)
    with pytest.raises(Invalid) as refused:
        handling.resolve_case(world.ctx, cast.case_id, cast.primary, handling.Resolve(note="已处理"))
    assert refused.value.code == "evidence_required"
    assert world.case(cast.case_id).status == "accepted"
    assert _written(world, cast.case_id) == before


def test_the_primary_resolves_with_evidence_and_the_reporter_is_asked_to_rate(
    world: World, cast: Cast
) -> None:
    world.accept(cast.case_id, cast.primary)
    photo = world.photo(cast.primary)
    world.clock.advance(days=1)
    cmd = handling.Resolve(note="已劝导养犬人", photo_ids=[photo])
    handling.resolve_case(world.ctx, cast.case_id, cast.primary, cmd)
    case = world.case(cast.case_id)
    assert case.status == "resolved" and case.resolved_at == world.clock.now()
    assert (case.due_at, case.next_escalation_at, case.violation) == (None, None, None)
    assert not any(a.open for a in world.rows(Assignment, Assignment.case_id == cast.case_id))
    event = world.events(cast.case_id, "resolved")[0]
    assert (event.note, event.data["late"], event.data["violation"]) == ("已劝导养犬人", False, None)
    stored = world.one(Photo, Photo.id == photo)
    assert stored is not None and stored.event_id == event.id
    update = world.outbox("case_update", cast.case_id)[-1]
    assert (update.user_id, update.payload["status"], update.payload["note"]) == (
        cast.reporter,
        "已办结，请评价",
        "已劝导养犬人",
    )


def test_resolving_after_the_resolve_deadline_is_recorded_as_late(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    world.clock.advance(days=8)
    world.resolve(cast.case_id, cast.primary)
    assert world.events(cast.case_id, "resolved")[0].data["late"] is True


def test_a_case_not_yet_accepted_cannot_be_resolved(world: World, cast: Cast) -> None:
    with pytest.raises(Conflict) as refused:
        world.resolve(cast.case_id, cast.primary)
    assert refused.value.code == "invalid_state"


def test_a_co_handler_cannot_resolve(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    with pytest.raises(Forbidden) as refused:
        world.resolve(cast.case_id, cast.co_handler)
    assert refused.value.code == "not_primary"


def test_a_nine_prohibitions_category_needs_a_verdict(world: World) -> None:
    reporter = world.user("reporter").id
    housing = world.user("housing", "住建局").id
    case = world.file(reporter, "irregular_contract")
    world.accept(case.id, housing)
    before = _written(world, case.id)
    with pytest.raises(Invalid) as refused:
        world.resolve(case.id, housing)
    assert refused.value.code == "violation_required"
    assert world.case(case.id).status == "accepted"
    assert _written(world, case.id) == before


def test_a_verdict_is_refused_where_the_category_evidences_no_clause(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    with pytest.raises(Invalid) as refused:
        world.resolve(cast.case_id, cast.primary, violation="confirmed")
    assert refused.value.code == "violation_not_applicable"
    assert world.case(cast.case_id).status == "accepted"


@pytest.mark.parametrize(("verdict", "violations"), [("confirmed", 1), ("denied", 0)])
def test_the_verdict_is_kept_and_only_a_confirmation_counts(
    world: World, verdict: str, violations: int
) -> None:
    reporter = world.user("reporter").id
    housing = world.user("housing", "住建局").id
    case = world.file(reporter, "irregular_contract")
    world.accept(case.id, housing)
    world.resolve(case.id, housing, violation="confirmed" if verdict == "confirmed" else "denied")
    assert world.case(case.id).violation == verdict
    assert world.count(Violation) == violations
    assert (world.events(case.id, "violation_confirmed") != []) is (verdict == "confirmed")


# -- return (退回) -----------------------------------------------------------------------


def test_a_returned_case_goes_to_the_office_and_the_reporter_is_told(world: World, cast: Cast) -> None:
    handling.return_case(world.ctx, cast.case_id, cast.primary, handling.Return(reason="不属本部门职责"))
    case = world.case(cast.case_id)
    assert case.status == "returned"
    assert (case.due_at, case.next_escalation_at) == (None, None)
    assert not any(a.open for a in world.rows(Assignment, Assignment.case_id == cast.case_id))
    assert world.events(cast.case_id, "returned")[0].note == "不属本部门职责"
    [office] = world.outbox("escalation", cast.case_id)
    assert office.user_id == cast.supervisor
    assert (office.payload["step"], office.payload["note"]) == ("退回待派", "不属本部门职责")
    assert office.payload["page"] == f"pages/supervise/case/index?id={cast.case_id}"
    [update] = world.outbox("case_update", cast.case_id)
    assert (update.user_id, update.payload["status"]) == (cast.reporter, "已退回，正在重新派发")


def test_a_co_handler_cannot_return_the_case(world: World, cast: Cast) -> None:
    before = _written(world, cast.case_id)
    with pytest.raises(Forbidden) as refused:
        handling.return_case(world.ctx, cast.case_id, cast.co_handler, handling.Return(reason="不是我们的"))
    assert refused.value.code == "not_primary"
    assert _written(world, cast.case_id) == before


# -- extension (延期) --------------------------------------------------------------------


def _ask(world: World, cast: Cast, until: str, who: int | None = None) -> Extension:
    cmd = handling.ExtensionRequest(reason="需要协调物业公司", until=until)
    return handling.request_extension(world.ctx, cast.case_id, who or cast.primary, cmd)


def test_an_extension_request_waits_for_the_office_and_moves_nothing_yet(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    deadline = world.case(cast.case_id).resolve_due_at
    extension = _ask(world, cast, "2026-06-30")
    assert extension.status == "pending" and extension.requested_by_id == cast.primary
    assert extension.until == datetime(2026, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)
    case = world.case(cast.case_id)
    assert (case.status, case.resolve_due_at) == ("accepted", deadline)
    event = world.events(cast.case_id, "extension_requested")[0]
    assert (event.note, event.data["until"]) == ("需要协调物业公司", "2026-06-30T23:59:59+08:00")
    [office] = world.outbox("escalation", cast.case_id)
    assert (office.user_id, office.payload["step"]) == (cast.supervisor, "延期审批")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-30", datetime(2026, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)),
        ("2026-06-30T18:00:00", datetime(2026, 6, 30, 18, 0, tzinfo=SHANGHAI)),
        ("2026-06-30T18:00:00+00:00", datetime(2026, 6, 30, 18, 0, tzinfo=UTC)),
    ],
)
def test_a_date_means_its_end_and_a_bare_time_is_county_time(text: str, expected: datetime) -> None:
    assert handling.deadline_from(text, SHANGHAI) == expected


@pytest.mark.parametrize(
    "text", ["2026-6-30", "30/06/2026", "2101-01-01T00:00:00", "1999-12-31", "2026-02-30"]
)
def test_an_unreadable_until_is_refused(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        handling.deadline_from(text, SHANGHAI)
    assert refused.value.code == "invalid_until"


@pytest.mark.parametrize("until", ["2026-06-01", "2026-06-09T09:00:00", "2026-06-09T10:00:00"])
def test_an_extension_must_end_after_the_current_deadline(world: World, cast: Cast, until: str) -> None:
    # The resolve deadline is 2026-06-09 10:00 county time; the 1st is past.
    before = _written(world, cast.case_id)
    with pytest.raises(Invalid) as refused:
        _ask(world, cast, until)
    assert refused.value.code == "invalid_until"
    assert _written(world, cast.case_id) == before


def test_one_extension_request_may_wait_at_a_time(world: World, cast: Cast) -> None:
    _ask(world, cast, "2026-06-30")
    before = _written(world, cast.case_id)
    with pytest.raises(Conflict) as refused:
        _ask(world, cast, "2026-07-15")
    assert refused.value.code == "extension_pending"
    assert _written(world, cast.case_id) == before


def test_only_the_primary_may_ask_for_more_time(world: World, cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        _ask(world, cast, "2026-06-30", cast.township)
    assert refused.value.code == "not_primary"
    assert world.count(Extension) == 0


def test_a_resolved_case_cannot_ask_for_more_time(world: World, cast: Cast) -> None:
    world.accept(cast.case_id, cast.primary)
    world.resolve(cast.case_id, cast.primary)
    with pytest.raises(Conflict) as refused:
        _ask(world, cast, "2026-06-30")
    assert refused.value.code == "invalid_state"


def test_nothing_is_late_a_second_before_its_deadline(world: World, cast: Cast) -> None:
    case = world.case(cast.case_id)
    assert case.accept_due_at is not None
    world.clock.at = case.accept_due_at - timedelta(seconds=1)
    world.accept(cast.case_id, cast.primary)
    assert world.events(cast.case_id, "accepted")[0].data["late"] is False
