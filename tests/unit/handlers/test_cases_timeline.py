"""handlers/cases/timeline.py: appending to a case's timeline, keeping who
did it as they were then."""

from __future__ import annotations

from app.models import Case, CaseEvent, Department, Photo, User
from handlers.cases.timeline import record
from tests.unit.handlers.conftest import World


def _record(
    world: World,
    case_id: int,
    kind: str,
    by_id: int | None,
    note: str = "",
    step: str | None = None,
    photo_ids: list[str] | None = None,
    **data: object,
) -> int:
    with world.db.uow() as uow:
        s = uow.session
        case = s.get(Case, case_id)
        assert case is not None
        by = s.get(User, by_id) if by_id is not None else None
        event = record(
            s, case, kind, world.clock.now(), by=by, note=note, step=step, photo_ids=photo_ids, **data
        )
        uow.commit()
        return event.id


def test_a_staff_members_event_keeps_their_department_as_it_was_named_then(world: World) -> None:
    case = world.file(world.user("reporter").id)
    staff = world.user("enforcement", "综合执法局")
    event_id = _record(world, case.id, "progress", staff.id, note="已到现场")
    with world.db.uow() as uow:
        department = uow.session.get(Department, staff.department_id)
        assert department is not None
        department.name = "综合行政执法局"
        uow.commit()
    event = world.one(CaseEvent, CaseEvent.id == event_id)
    assert event is not None
    assert (event.actor_id, event.department_id, event.actor_label, event.note) == (
        staff.id,
        staff.department_id,
        "综合执法局",
        "已到现场",
    )


def test_a_residents_event_names_no_department(world: World) -> None:
    reporter = world.user("reporter")
    case = world.file(reporter.id)
    event = world.events(case.id, "submitted")[0]
    assert (event.actor_id, event.department_id, event.actor_label) == (reporter.id, None, "")


def test_the_systems_event_has_no_actor_and_keeps_its_step_and_data(world: World) -> None:
    case = world.file(world.user("reporter").id)
    event_id = _record(world, case.id, "escalated", None, step="overdue", deadline="accept", note="超期")
    event = world.one(CaseEvent, CaseEvent.id == event_id)
    assert event is not None
    assert (event.actor_id, event.actor_label, event.step, event.data) == (
        None,
        "",
        "overdue",
        {"deadline": "accept"},
    )


def test_photos_named_with_an_event_are_attached_to_it_and_its_case(world: World) -> None:
    case = world.file(world.user("reporter").id)
    staff = world.user("housing", "住建局")
    photos = [world.photo(staff.id), world.photo(staff.id)]
    event_id = _record(world, case.id, "progress", staff.id, photo_ids=photos)
    attached = world.rows(Photo, Photo.id.in_(photos))
    assert {(p.case_id, p.event_id) for p in attached} == {(case.id, event_id)}


def test_appending_leaves_earlier_events_as_they_were(world: World) -> None:
    case = world.file(world.user("reporter").id)
    before = [(e.id, e.kind, e.at, e.note, e.data) for e in world.events(case.id)]
    world.clock.advance(hours=1)
    _record(world, case.id, "progress", world.user("housing", "住建局").id, note="跟进")
    after = [(e.id, e.kind, e.at, e.note, e.data) for e in world.events(case.id)]
    assert after[: len(before)] == before and len(after) == len(before) + 1
