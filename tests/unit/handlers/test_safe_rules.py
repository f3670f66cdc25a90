"""The safe-by-default rules of the handlers, on the fakes: the push window
and replays, content security of every text others read, the image check's
queue and verdicts, who sees a risky photo, unattached photos removed, a
filing key bound to its body."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Case, Community, Photo, User
from handlers.cases import handling, resident
from handlers.cases.access import photo_visible_to
from handlers.cases.content import screen_as
from handlers.cases.photo_checks import (
    MAX_ATTEMPTS,
    record_media_verdict,
    remove_unattached_photos,
    retry_delay,
    send_due_photo_checks,
)
from handlers.cases.photos import storage_keys, upload_photo
from handlers.cases.submit import NewCase, submit_case
from handlers.errors import Forbidden, Invalid
from handlers.notifications.pushes import PushStamp, admit_push, receive_push
from tests.unit.handlers.conftest import World


def _stamp(world: World, seconds_from_now: int = 0, nonce: str = "n") -> PushStamp:
    return PushStamp(str(int(world.clock.now().timestamp()) + seconds_from_now), nonce, "sig")


def _new_case(community_id: int, **changes: object) -> NewCase:
    body = {
        "category": "dog_unleashed",
        "community_id": community_id,
        "description": "有人遛狗不拴绳，很危险",
    }
    return NewCase.model_validate(body | changes)


def _community(world: World) -> int:
    with world.db.uow() as uow:
        found = uow.session.scalar(select(Community.id).where(Community.name == "幸福里小区"))
    assert found is not None
    return found


def _case(world: World, reporter: User, photo_ids: list[str] | None = None) -> int:
    case, _ = submit_case(world.ctx, reporter.id, _new_case(_community(world), photo_ids=photo_ids or []))
    return case.id


def _photo(world: World, owner: User, content: bytes = b"JPEG photo") -> Photo:
    return upload_photo(world.ctx, owner.id, content)


def _row(world: World, photo_id: str) -> Photo:
    with world.db.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo is not None
        uow.session.expunge(photo)
    return photo


def _needs_review(world: World, case_id: int) -> bool:
    with world.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return case.needs_review


# -- pushes ----------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [-300, 0, 300])
def test_a_push_within_five_minutes_is_admitted_once(world: World, seconds: int) -> None:
    stamp = _stamp(world, seconds)
    admit_push(world.ctx, stamp)
    with pytest.raises(Forbidden) as again:
        admit_push(world.ctx, stamp)
    assert again.value.code == "push_replayed"


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_a_push_outside_the_window_is_stale(world: World, offset: int) -> None:
    with pytest.raises(Forbidden) as refused:
        admit_push(world.ctx, _stamp(world, offset))
    assert refused.value.code == "push_stale"
    assert not world.stamps.until  # nothing remembered


@pytest.mark.parametrize("raw", ["abc", "", "１７９５７０４５２６", "99999999999", "-1795704526", "1.5e9"])
def test_an_unreadable_timestamp_is_stale(world: World, raw: str) -> None:
    with pytest.raises(Forbidden) as refused:
        admit_push(world.ctx, PushStamp(raw, "n", "sig"))
    assert refused.value.code == "push_stale"
    assert not world.stamps.until  # nothing remembered


def test_the_window_follows_the_one_clock(world: World) -> None:
    stamp = _stamp(world)
    world.clock.advance(seconds=301)
    with pytest.raises(Forbidden):
        admit_push(world.ctx, stamp)


def test_a_push_that_could_not_be_handled_may_come_again(world: World) -> None:
    stamp = _stamp(world)

    def broken(*_: object) -> bool:
        raise RuntimeError("database away")

    world.ctx.uow = broken  # type: ignore[assignment,method-assign]
    with pytest.raises(RuntimeError):
        receive_push(
            world.ctx, stamp, {"Event": "wxa_media_check", "trace_id": "t", "result": {"suggest": "pass"}}
        )
    assert stamp.key() not in world.stamps.until


# -- content security of every text others read ---------------------------------------------


def test_screening_a_users_text(world: World) -> None:
    user = world.user("writer")
    assert screen_as(world.ctx, user.id, "", "  ") is False
    world.wechat.verdict = "risky"
    with pytest.raises(Invalid) as risky:
        screen_as(world.ctx, user.id, "一段文字")
    assert risky.value.code == "content_risky"
    for verdict, flagged in (("review", True), ("away", True), ("pass", False)):
        world.wechat.verdict = verdict
        assert screen_as(world.ctx, user.id, "一段文字") is flagged


def test_risky_staff_text_records_nothing_and_doubtful_text_marks_the_case(world: World) -> None:
    reporter = world.user("res")
    handler = world.user("law", "综合执法局")
    case_id = _case(world, reporter)
    handling.accept_case(world.ctx, case_id, handler.id)
    world.wechat.verdict = "risky"
    with pytest.raises(Invalid):
        handling.add_progress(world.ctx, case_id, handler.id, handling.Progress(note="进展"))
    assert _needs_review(world, case_id) is False
    world.wechat.verdict = "review"
    handling.add_progress(world.ctx, case_id, handler.id, handling.Progress(note="进展"))
    assert _needs_review(world, case_id) is True


def test_a_resident_rating_comment_is_screened(world: World) -> None:
    reporter = world.user("rater")
    handler = world.user("law2", "综合执法局")
    case_id = _case(world, reporter)
    handling.accept_case(world.ctx, case_id, handler.id)
    evidence = _photo(world, handler, b"JPEG evidence").id
    handling.resolve_case(
        world.ctx, case_id, handler.id, handling.Resolve(note="已整改", photo_ids=[evidence])
    )
    world.wechat.verdict = "risky"
    with pytest.raises(Invalid):
        resident.rate_case(world.ctx, case_id, reporter.id, resident.Rating(score=1, comment="评价"))
    with world.db.uow() as uow:
        assert uow.session.get(Case, case_id).status == "resolved"  # type: ignore[union-attr]


def test_an_extension_is_at_most_a_year(world: World) -> None:
    reporter, handler = world.user("ext-res"), world.user("ext-law", "综合执法局")
    case_id = _case(world, reporter)
    handling.accept_case(world.ctx, case_id, handler.id)
    too_far = (world.clock.now() + timedelta(days=400)).date().isoformat()
    with pytest.raises(Invalid) as refused:
        handling.request_extension(
            world.ctx, case_id, handler.id, handling.ExtensionRequest(reason="需要协调", until=too_far)
        )
    assert refused.value.message == "延期时间最长为一年"


# -- the image check --------------------------------------------------------------------------


def test_an_upload_is_queued_and_the_worker_sends_it_with_a_public_link(world: World) -> None:
    owner = world.user("uploader")
    photo = _photo(world, owner)
    assert _row(world, photo.id).media_check == "queued"
    assert world.waker.calls == 1  # the worker is woken, the upload does not wait on WeChat
    assert send_due_photo_checks(world.ctx) == 1
    [check] = world.wechat.media_checks
    assert check["media_url"] == f"https://cases.test/api/v1/photos/{photo.id}?signed"
    assert check["openid"] == "o-uploader"
    assert _row(world, photo.id).media_trace_id == check["trace_id"]
    assert send_due_photo_checks(world.ctx) == 0  # sent once, waiting for the verdict


def test_wechat_away_backs_off_then_gives_the_photo_to_a_person(world: World) -> None:
    owner = world.user("away")
    case_id = _case(world, owner, [_photo(world, owner).id])
    with world.db.uow() as uow:
        photo_id = uow.session.scalar(select(Photo.id).where(Photo.case_id == case_id))
    assert photo_id is not None
    world.wechat.media_away = True
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert send_due_photo_checks(world.ctx) == 0
        row = _row(world, photo_id)
        assert row.media_attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.media_check == "queued" and row.media_next_at is not None
            world.clock.at = row.media_next_at
    assert _row(world, photo_id).media_check == "failed"
    assert _needs_review(world, case_id) is True


def test_a_verdict_counts_once_and_a_risky_one_hides_the_photo(world: World) -> None:
    owner, handler, office = (
        world.user("v-res"),
        world.user("v-law", "综合执法局"),
        world.user("v-office", "住建局", "supervisor"),
    )
    photo = _photo(world, owner)
    case_id = _case(world, owner, [photo.id])
    send_due_photo_checks(world.ctx)
    trace = world.wechat.media_checks[0]["trace_id"]
    assert record_media_verdict(world.ctx, "no-such-trace", "risky") is False
    assert record_media_verdict(world.ctx, trace, "risky") is True
    assert record_media_verdict(world.ctx, trace, "pass") is False
    row = _row(world, photo.id)
    assert row.media_check == "risky" and _needs_review(world, case_id)
    assert [photo_visible_to(row, u) for u in (owner, handler, office)] == [True, False, True]


def test_an_odd_verdict_is_taken_as_doubtful(world: World) -> None:
    owner = world.user("odd")
    photo = _photo(world, owner)
    send_due_photo_checks(world.ctx)
    assert record_media_verdict(world.ctx, world.wechat.media_checks[0]["trace_id"], "maybe") is True
    assert _row(world, photo.id).media_check == "review"


def test_without_a_public_address_nothing_is_sent(world: World) -> None:
    world.links.base = ""
    photo = _photo(world, world.user("nowhere"))
    assert send_due_photo_checks(world.ctx) == 0
    assert _row(world, photo.id).media_check == "unchecked" and not world.wechat.media_checks


# -- unattached photos --------------------------------------------------------------------------


def test_unattached_photos_go_after_a_day_and_shared_bytes_stay(world: World) -> None:
    owner = world.user("tidy")
    kept = _photo(world, owner, b"JPEG same")
    _case(world, owner, [kept.id])
    twin = _photo(world, owner, b"JPEG same")
    lonely = _photo(world, owner, b"JPEG lonely")
    world.clock.advance(hours=23)
    assert remove_unattached_photos(world.ctx) == 0
    world.clock.advance(hours=1, seconds=1)
    assert remove_unattached_photos(world.ctx) == 2
    with world.db.uow() as uow:
        assert set(uow.session.scalars(select(Photo.id))) == {kept.id}
    assert set(world.photos.objects) == set(storage_keys(kept.sha256))
    assert twin.id != kept.id and lonely.sha256 != kept.sha256


# -- a filing key is bound to its body -----------------------------------------------------------


def test_a_filing_key_answers_the_same_body_and_refuses_another(world: World) -> None:
    reporter = world.user("keyed")
    community = _community(world)
    first, created = submit_case(world.ctx, reporter.id, _new_case(community), "k")
    again, created_again = submit_case(world.ctx, reporter.id, _new_case(community), "k")
    assert created and not created_again and again.id == first.id
    with pytest.raises(Invalid) as reused:
        submit_case(world.ctx, reporter.id, _new_case(community, description="另一件事：电动车飞线充电"), "k")
    assert reused.value.code == "idempotency_key_reused"
    other = world.user("keyed-other")
    theirs, created = submit_case(
        world.ctx, other.id, _new_case(community, description="别人的同一个键"), "k"
    )
    assert created and theirs.id != first.id  # a key is the user's own
