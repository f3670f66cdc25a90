"""handlers/cases/queries.py: one case as its viewer may see it (timeline,
who did what, the steps they may take), and a resident's own cases."""

from __future__ import annotations

import pytest

from app.models import User
from handlers.cases.handling import ExtensionRequest, Progress, add_progress, request_extension
from handlers.cases.queries import case_for, my_cases
from handlers.errors import NotFound
from handlers.supervision.actions import decide_extension, merge_case
from tests.unit.handlers.conftest import World, county_with


def _who(world: World, case_id: int, viewer: User) -> list[tuple[str, str]]:
    return [(e.kind, e.by) for e in case_for(world.ctx, case_id, viewer).timeline]


def test_the_timeline_is_oldest_first_and_names_departments_residents_and_the_system(world: World) -> None:
    reporter = world.user("reporter")
    primary = world.user("enforcement", "综合执法局")
    case = world.file(reporter.id)
    world.accept(case.id, primary.id)
    assert _who(world, case.id, reporter) == [
        ("submitted", "居民"),
        ("dispatched", "系统"),
        ("accepted", "综合执法局"),
    ]
    view = case_for(world.ctx, case.id, primary)
    assert [e.at for e in view.timeline] == sorted(e.at for e in view.timeline)


def test_an_anonymous_reporter_is_hidden_from_staff_and_supervisors_but_not_from_themselves(
    world: World,
) -> None:
    reporter = world.user("reporter")
    case = world.file(reporter.id, anonymous=True)
    assert _who(world, case.id, reporter)[0] == ("submitted", "居民")
    for viewer in (world.user("enforcement", "综合执法局"), world.user("office", "住建局", "supervisor")):
        assert _who(world, case.id, viewer)[0] == ("submitted", "匿名居民")


def test_a_named_reporter_is_shown_to_staff_masked_as_a_resident(world: World) -> None:
    reporter = world.user("reporter")
    case = world.file(reporter.id)
    by = _who(world, case.id, world.user("enforcement", "综合执法局"))[0][1]
    assert by == "居民" and "reporter" not in by


def test_who_did_it_is_said_in_the_countys_words(world: World) -> None:
    world.ctx.county = county_with(labels={"actors": {"anonymous": "匿名群众", "system": "平台"}})
    case = world.file(world.user("reporter").id, anonymous=True)
    assert _who(world, case.id, world.user("enforcement", "综合执法局"))[:2] == [
        ("submitted", "匿名群众"),
        ("dispatched", "平台"),
    ]


def test_each_viewer_is_offered_the_steps_they_may_take(world: World) -> None:
    reporter = world.user("reporter")
    primary = world.user("enforcement", "综合执法局")
    co = world.user("housing", "住建局")
    supervisor = world.user("fire-office", "消防救援大队", "supervisor")
    case = world.file(reporter.id)
    offered = {
        "reporter": case_for(world.ctx, case.id, reporter),
        "primary": case_for(world.ctx, case.id, primary),
        "co": case_for(world.ctx, case.id, co),
        "supervisor": case_for(world.ctx, case.id, supervisor),
    }
    assert {k: v.actions for k, v in offered.items()} == {
        "reporter": [],
        "primary": ["accept", "progress", "return", "extension", "refer"],
        "co": ["progress"],
        # An extension is decided only while one is pending.
        "supervisor": ["refer", "reject", "merge"],
    }
    assert {k: v.my_role for k, v in offered.items()} == {
        "reporter": None,
        "primary": "主办",
        "co": "协办",
        "supervisor": None,
    }
    world.accept(case.id, primary.id)
    world.resolve(case.id, primary.id)
    assert case_for(world.ctx, case.id, reporter).actions == ["rate", "reopen"]


def test_nobody_else_learns_the_case_exists(world: World) -> None:
    case = world.file(world.user("reporter").id)
    for outsider in (world.user("neighbour"), world.user("police", "公安局")):
        with pytest.raises(NotFound) as refused:
            case_for(world.ctx, case.id, outsider)
        assert refused.value.code == "case_not_found"
    with pytest.raises(NotFound):
        case_for(world.ctx, 999, world.user("office", "住建局", "supervisor"))


def test_photos_appear_with_the_filing_and_with_the_step_that_added_them(world: World) -> None:
    reporter = world.user("reporter")
    co = world.user("housing", "住建局")
    filed = world.photo(reporter.id)
    case = world.file(reporter.id, photo_ids=[filed])
    progress_photo = world.photo(co.id)
    add_progress(world.ctx, case.id, co.id, Progress(note="现场查看", photo_ids=[progress_photo]))
    view = case_for(world.ctx, case.id, reporter)
    assert [p.id for p in view.photos] == [filed]
    assert {e.kind: [p.id for p in e.photos] for e in view.timeline} == {
        "submitted": [filed],
        "dispatched": [],
        "progress": [progress_photo],
    }


def test_a_pending_extension_is_shown_until_it_is_decided(world: World) -> None:
    reporter = world.user("reporter")
    primary = world.user("enforcement", "综合执法局")
    office = world.user("office", "住建局", "supervisor")
    case = world.file(reporter.id)
    assert case_for(world.ctx, case.id, office).pending_extension is None
    extension = request_extension(
        world.ctx, case.id, primary.id, ExtensionRequest(reason="需要协调", until="2026-06-30")
    )
    pending = case_for(world.ctx, case.id, office).pending_extension
    assert pending is not None and pending.id == extension.id
    decide_extension(world.ctx, extension.id, office.id, approve=False, reason="理由不充分")
    assert case_for(world.ctx, case.id, office).pending_extension is None


def test_a_resident_lists_their_own_cases_newest_first_page_by_page(world: World) -> None:
    reporter = world.user("reporter")
    world.file(world.user("neighbour").id)
    ids = []
    for _ in range(3):
        ids.append(world.file(reporter.id).id)
        world.clock.advance(minutes=1)
    first_page, total = my_cases(world.ctx, reporter.id, page=1, per_page=2)
    second_page, _ = my_cases(world.ctx, reporter.id, page=2, per_page=2)
    assert total == 3
    assert [c.id for c in first_page + second_page] == ids[::-1]


def test_a_merged_cases_reporter_follows_the_surviving_case(world: World) -> None:
    first, second = world.user("first"), world.user("second")
    office = world.user("office", "住建局", "supervisor")
    surviving = world.file(first.id)
    world.clock.advance(minutes=1)
    duplicate = world.file(second.id)
    merge_case(world.ctx, duplicate.id, office.id, surviving.id)
    cases, total = my_cases(world.ctx, second.id, page=1, per_page=20)
    assert total == 2 and {c.id for c in cases} == {surviving.id, duplicate.id}
    assert [e.kind for e in case_for(world.ctx, surviving.id, second).timeline][-1] == "merged"
    mine, total_first = my_cases(world.ctx, first.id, page=1, per_page=20)
    assert total_first == 1 and [c.id for c in mine] == [surviving.id]
