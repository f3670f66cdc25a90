"""handlers/cases/submit.py: a resident files a case — content security,
idempotency, the daily limit, routing, clocks, first events and messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Assignment, Case, CaseEvent, CaseNumberCounter, Notification, Photo
from handlers.cases.submit import NewCase, submit_case
from handlers.errors import Invalid, NotFound, TooMany
from tests.fakes import FakeMiniProgram
from tests.unit.handlers.conftest import World, county_with


def _nothing_written(world: World) -> None:
    assert world.count(Case) == 0
    assert world.count(CaseEvent) == 0
    assert world.count(Assignment) == 0
    assert world.count(Notification) == 0
    assert world.count(CaseNumberCounter) == 0


def test_a_filed_case_is_dispatched_to_the_lists_departments_with_both_clocks(world: World) -> None:
    reporter = world.user("reporter")
    case = world.file(reporter.id, "dog_unleashed")
    assert case.status == "dispatched" and case.number == "YN20260602-0001"
    assert (case.route, case.config_version, case.urgent) == ("dirt-5", "2023.1", False)
    assert [(a.department.name, a.role) for a in case.assignments] == [
        ("综合执法局", "主办"),
        ("住建局", "协办"),
        ("杨和镇", "属地"),
    ]
    assert case.primary_department_id == case.assignments[0].department_id
    # Tuesday 10:00 county time: 1wd to accept, 5wd to resolve.
    assert case.accept_due_at == datetime(2026, 6, 3, 2, 0, tzinfo=UTC)
    assert case.resolve_due_at == datetime(2026, 6, 9, 2, 0, tzinfo=UTC)
    assert [e.kind for e in case.events] == ["submitted", "dispatched"]
    assert case.needs_review is False
    assert world.waker.calls == 1


def test_the_departments_staff_are_told_of_the_new_case_and_nobody_else(world: World) -> None:
    primary = world.user("enforcement", "综合执法局")
    head = world.user("enforcement-head", "综合执法局", "head")
    co = world.user("housing", "住建局")
    town = world.user("town", "杨和镇")
    world.user("office", "住建局", "supervisor")
    world.user("police", "公安局")
    case = world.file(world.user("reporter").id)
    rows = world.outbox("new_case", case.id)
    assert {r.user_id for r in rows} == {primary.id, head.id, co.id, town.id}
    assert all(r.payload["page"] == f"pages/staff/handle/index?id={case.id}" for r in rows)
    assert rows[0].payload["number"] == case.number and rows[0].payload["category"] == "遛狗不拴绳"
    assert rows[0].payload["deadline"] == "2026-06-03T02:00:00+00:00"
    assert world.outbox("case_update") == []


def test_the_text_is_checked_as_the_reporter_with_the_location(world: World) -> None:
    reporter = world.user("reporter")
    world.file(reporter.id, description="楼道里堆满了杂物", location_text="5号楼2单元")
    assert world.wechat.checked == [("楼道里堆满了杂物\n5号楼2单元", "o-reporter")]


@pytest.mark.parametrize(("verdict", "needs_review"), [("pass", False), ("review", True), ("away", True)])
def test_a_case_is_filed_whatever_wechat_says_short_of_risky(
    world: World, verdict: str, needs_review: bool
) -> None:
    world.wechat.verdict = verdict
    case = world.file(world.user("reporter").id)
    assert case.status == "dispatched"
    assert world.case(case.id).needs_review is needs_review


def test_risky_text_is_refused_and_nothing_is_written(world: World) -> None:
    reporter = world.user("reporter")
    photo = world.photo(reporter.id)  # the upload wakes the worker for its image check
    woken = world.waker.calls
    world.wechat.verdict = "risky"
    with pytest.raises(Invalid) as refused:
        world.file(reporter.id, photo_ids=[photo])
    assert refused.value.code == "content_risky"
    _nothing_written(world)
    stored = world.one(Photo, Photo.id == photo)
    assert stored is not None and stored.case_id is None
    assert world.waker.calls == woken


def test_a_repeated_idempotency_key_answers_the_first_case_and_files_nothing(world: World) -> None:
    reporter = world.user("reporter")
    cmd = NewCase(category="dog_unleashed", community_id=world.community().id, description="遛狗不拴绳很危险")
    first, created = submit_case(world.ctx, reporter.id, cmd, "key-1")
    assert created is True
    world.clock.advance(minutes=5)
    again, created_again = submit_case(world.ctx, reporter.id, cmd, "key-1")
    assert created_again is False
    assert again.id == first.id and again.number == first.number
    assert [e.kind for e in again.events] == ["submitted", "dispatched"]
    assert world.count(Case) == 1
    assert len(world.outbox("new_case")) == len(world.outbox())
    assert world.waker.calls == 1
    # The repeat asked WeChat nothing either.
    assert len(world.wechat.checked) == 1


def test_a_key_is_the_reporters_own(world: World) -> None:
    first = world.file(world.user("a").id, key="same-key")
    second = world.file(world.user("b").id, key="same-key")
    assert first.id != second.id


def test_without_a_key_each_filing_is_a_new_case(world: World) -> None:
    reporter = world.user("reporter")
    assert world.file(reporter.id).id != world.file(reporter.id).id


def test_the_daily_limit_counts_the_county_day(world: World) -> None:
    world.ctx.county = county_with(daily_case_limit=2)
    reporter = world.user("reporter")
    # 23:50 on Tuesday, county time (15:50 UTC).
    world.clock.at = datetime(2026, 6, 2, 15, 50, tzinfo=UTC)
    world.file(reporter.id)
    world.file(reporter.id)
    with pytest.raises(TooMany) as refused:
        world.file(reporter.id)
    assert refused.value.code == "daily_limit" and "2" in refused.value.message
    assert world.count(Case) == 2
    # Still Tuesday in UTC, already Wednesday in the county: a new day.
    world.clock.advance(minutes=11)
    assert world.file(reporter.id).number == "YN20260603-0001"


def test_a_reporter_past_the_limit_is_refused_before_wechat_is_asked(world: World) -> None:
    world.ctx.county = county_with(daily_case_limit=1)
    reporter = world.user("reporter")
    world.file(reporter.id)
    with pytest.raises(TooMany):
        world.file(reporter.id)
    assert len(world.wechat.checked) == 1


def test_the_daily_limit_is_counted_again_in_the_write(world: World) -> None:
    world.ctx.county = county_with(daily_case_limit=2)
    reporter = world.user("reporter")
    world.file(reporter.id)
    plain = world.wechat.check_text

    def another_filing_meanwhile(content: str, openid: str, scene: int = 2) -> str:
        world.wechat.check_text = plain  # type: ignore[method-assign]
        world.file(reporter.id)  # lands between this filing's read and its write
        return plain(content, openid, scene)

    world.wechat.check_text = another_filing_meanwhile  # type: ignore[method-assign]
    with pytest.raises(TooMany):
        world.file(reporter.id)
    assert world.count(Case) == 2 and world.count(CaseNumberCounter) == 1


def test_the_daily_limit_is_each_reporters_own(world: World) -> None:
    world.ctx.county = county_with(daily_case_limit=1)
    world.file(world.user("a").id)
    world.file(world.user("b").id)
    assert world.count(Case) == 2


def test_the_shipped_daily_limit_is_twenty(world: World) -> None:
    reporter = world.user("reporter")
    for _ in range(20):
        world.file(reporter.id)
    with pytest.raises(TooMany):
        world.file(reporter.id)


def test_an_unknown_category_is_refused_before_anything_else(world: World) -> None:
    reporter = world.user("reporter")
    with pytest.raises(Invalid) as refused:
        world.file(reporter.id, "not_a_category")
    assert refused.value.code == "unknown_category"
    assert world.wechat.checked == []
    _nothing_written(world)


def test_an_unknown_community_is_not_found(world: World) -> None:
    reporter = world.user("reporter")
    cmd = NewCase(category="dog_unleashed", community_id=4242, description="遛狗不拴绳很危险")
    with pytest.raises(NotFound) as refused:
        submit_case(world.ctx, reporter.id, cmd)
    assert refused.value.code == "unknown_community"
    assert world.wechat.checked == []  # refused before WeChat is asked
    _nothing_written(world)


def test_an_unknown_reporter_is_not_found(world: World) -> None:
    cmd = NewCase(category="dog_unleashed", community_id=world.community().id, description="遛狗不拴绳很危险")
    with pytest.raises(NotFound):
        submit_case(world.ctx, 4242, cmd)
    _nothing_written(world)


def test_photos_are_optional_and_attached_to_the_submitted_event(world: World) -> None:
    reporter = world.user("reporter")
    assert world.file(reporter.id, photo_ids=[]).status == "dispatched"
    photos = [world.photo(reporter.id), world.photo(reporter.id)]
    case = world.file(reporter.id, photo_ids=photos)
    submitted = world.events(case.id, "submitted")[0]
    attached = world.rows(Photo, Photo.case_id == case.id)
    assert {p.id for p in attached} == set(photos)
    assert {p.event_id for p in attached} == {submitted.id}


def test_someone_elses_photo_refuses_the_filing_and_writes_nothing(world: World) -> None:
    reporter, other = world.user("reporter"), world.user("other")
    theirs = world.photo(other.id)
    with pytest.raises(Invalid) as refused:
        world.file(reporter.id, photo_ids=[theirs])
    assert refused.value.code == "unknown_photo"
    _nothing_written(world)


def test_an_urgent_case_runs_on_the_calendar_clock(world: World) -> None:
    # Saturday 03:00 county time: no working time anywhere near.
    world.clock.at = datetime(2026, 6, 5, 19, 0, tzinfo=UTC)
    case = world.file(world.user("reporter").id, "flying_wire_charging")
    assert case.urgent is True
    assert case.accept_due_at == world.clock.at + timedelta(minutes=30)
    assert case.resolve_due_at == world.clock.at + timedelta(hours=24)


def test_a_route_without_the_township_leaves_it_out(world: World) -> None:
    case = world.file(world.user("reporter").id, "security_irregular")
    assert [(a.department.name, a.role) for a in case.assignments] == [
        ("公安局", "主办"),
        ("住建局", "协办"),
        ("综合执法局", "协办"),
        ("市场监管局", "协办"),
    ]


def test_anonymous_and_coordinates_are_kept(world: World) -> None:
    case = world.file(world.user("reporter").id, anonymous=True, lat=38.28, lng=106.24)
    stored = world.case(case.id)
    assert stored.anonymous is True and (stored.lat, stored.lng) == (38.28, 106.24)


class _RacingWeChat(FakeMiniProgram):
    """While the first filing waits for content security, a retry with the
    same key (another request, another process) files the case first."""

    def __init__(self, world: World, cmd: NewCase, reporter_id: int, key: str) -> None:
        super().__init__()
        self.race = (world, cmd, reporter_id, key)
        self.racing = False
        self.raced: Case | None = None

    def check_text(self, content: str, openid: str, scene: int = 2) -> str:
        if not self.racing:
            self.racing = True  # the retry's own check does not race again
            world, cmd, reporter_id, key = self.race
            self.raced, _ = submit_case(world.ctx, reporter_id, cmd, key)
        return "pass"


def test_a_retry_that_wins_the_race_with_the_same_key_is_the_case_both_get(world: World) -> None:
    reporter = world.user("reporter")
    cmd = NewCase(category="dog_unleashed", community_id=world.community().id, description="遛狗不拴绳很危险")
    racing = _RacingWeChat(world, cmd, reporter.id, "key-1")
    world.ctx.wechat = racing
    case, created = submit_case(world.ctx, reporter.id, cmd, "key-1")
    assert racing.raced is not None and racing.raced.id == case.id
    assert created is False
    assert world.count(Case) == 1
    assert world.kinds(case.id) == ["submitted", "dispatched"]
