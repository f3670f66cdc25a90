"""Every (state, step) pair of the lifecycle table, walked through the
handlers: a step the table allows from a state succeeds and lands where the
table says; any other is refused with 409, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Case, CaseEvent, Community, Extension
from handlers.cases import handling, referral, resident
from handlers.cases.submit import NewCase, submit_case
from handlers.errors import Conflict
from handlers.supervision import actions
from routing.lifecycle import OFFERED, STATUSES, STEPS
from tests.unit.handlers.conftest import World


def _file(world: World, reporter_id: int, category: str = "irregular_contract") -> int:
    with world.db.uow() as uow:
        community = uow.session.scalar(select(Community.id).where(Community.name == "幸福里小区"))
    assert community is not None
    cmd = NewCase(category=category, community_id=community, description="物业合同签订不规范，业主不知情")
    case, _ = submit_case(world.ctx, reporter_id, cmd)
    return case.id


def _put_in(world: World, case_id: int, status: str, requester_id: int, pending_extension: bool) -> None:
    """Force the case into ``status``, as the steps before it would have left it."""
    now = world.clock.now()
    with world.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        case.status = status
        case.resolved_at = now if status in ("resolved", "closed") else None
        if pending_extension:
            uow.session.add(
                Extension(
                    case_id=case_id,
                    requested_by_id=requester_id,
                    reason="需要更多时间",
                    until=now + timedelta(days=30),
                    created_at=now,
                )
            )
        uow.commit()


def _photo(world: World, owner_id: int) -> str:
    from handlers.cases.photos import upload_photo

    return upload_photo(world.ctx, owner_id, b"JPEG evidence").id


def _extension_id(world: World, case_id: int) -> int:
    with world.db.uow() as uow:
        found = uow.session.scalar(select(Extension.id).where(Extension.case_id == case_id))
    assert found is not None
    return found


Step = Callable[[World, int, dict[str, int]], object]
PERFORM: dict[str, Step] = {
    "accept": lambda w, c, u: handling.accept_case(w.ctx, c, u["primary"]),
    "progress": lambda w, c, u: handling.add_progress(
        w.ctx, c, u["primary"], handling.Progress(note="已联系物业")
    ),
    "resolve": lambda w, c, u: handling.resolve_case(
        w.ctx,
        c,
        u["primary"],
        handling.Resolve(note="已整改", photo_ids=[_photo(w, u["primary"])], violation="denied"),
    ),
    "return": lambda w, c, u: handling.return_case(
        w.ctx, c, u["primary"], handling.Return(reason="不属本部门职责")
    ),
    "extension": lambda w, c, u: handling.request_extension(
        w.ctx, c, u["primary"], handling.ExtensionRequest(reason="需要现场核实", until="2026-12-31")
    ),
    "refer": lambda w, c, u: referral.refer_case(
        w.ctx, c, u["primary"], referral.Refer(department="公安局", reason="涉嫌违法，移交公安机关")
    ),
    "approve_extension": lambda w, c, u: actions.decide_extension(
        w.ctx, _extension_id(w, c), u["supervisor"], True
    ),
    "deny_extension": lambda w, c, u: actions.decide_extension(
        w.ctx, _extension_id(w, c), u["supervisor"], False, "理由不充分"
    ),
    "rate": lambda w, c, u: resident.rate_case(w.ctx, c, u["reporter"], resident.Rating(score=5)),
    "reopen": lambda w, c, u: resident.reopen_case(
        w.ctx, c, u["reporter"], resident.Reopen(reason="问题依旧")
    ),
    "dispatch": lambda w, c, u: actions.dispatch_case(w.ctx, c, u["supervisor"], "irregular_contract"),
    "reject": lambda w, c, u: actions.reject_case(w.ctx, c, u["supervisor"], "不属于小区问题"),
    "merge": lambda w, c, u: actions.merge_case(w.ctx, c, u["supervisor"], u["target"]),
}


def test_every_offered_step_has_a_way_to_take_it() -> None:
    assert set(PERFORM) == set(OFFERED)


@pytest.mark.parametrize("step", OFFERED)
@pytest.mark.parametrize("status", STATUSES)
def test_a_step_is_taken_only_from_the_states_the_table_allows(world: World, status: str, step: str) -> None:
    users = {
        "reporter": world.user("reporter").id,
        "primary": world.user("housing", "住建局").id,
        "supervisor": world.user("office", "住建局", "supervisor").id,
    }
    case_id = _file(world, users["reporter"])
    users["target"] = _file(world, users["reporter"])
    _put_in(world, case_id, status, users["primary"], step.endswith("_extension"))
    with world.db.uow() as uow:
        events_before = uow.session.scalar(
            select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id)
        )
    rule = STEPS[step]
    if status in rule.from_states:
        PERFORM[step](world, case_id, users)
        with world.db.uow() as uow:
            case = uow.session.get(Case, case_id)
            assert case is not None
            assert case.status == (rule.to_state or status)
    else:
        with pytest.raises(Conflict) as refused:
            PERFORM[step](world, case_id, users)
        assert refused.value.code == "invalid_state"
        with world.db.uow() as uow:
            case = uow.session.get(Case, case_id)
            assert case is not None and case.status == status
            after = uow.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id))
            assert after == events_before
