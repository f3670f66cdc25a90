"""Photos through WeChat's image check (media_check_async v2), over HTTP:
the worker's job sends the check with a signed public link, the fake WeChat
fetches the photo from it and pushes its verdict to /wechat/callback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.clock import Clock
from app.models import Photo
from app.worker import Jobs
from tests.conftest import Live
from tests.e2e.procs import wait_until
from tests.helpers import file_case, login, make_staff, upload_photo


def _state(services: Any, photo_id: str) -> str:
    with services.db.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo is not None
        return photo.media_check


def _checked(services: Any, photo_id: str, verdict: str) -> None:
    """The worker's job runs (one worker: it holds the job's lease), then the verdict arrives."""
    services.jobs = getattr(services, "jobs", None) or Jobs(services)
    services.jobs.check_photos()
    assert wait_until(lambda: _state(services, photo_id) == verdict, timeout=10), _state(services, photo_id)


def test_a_photo_is_sent_with_a_public_link_wechat_can_fetch(
    client: Any, services: Any, live: Live, fake_wechat: Any
) -> None:
    resident = login(client, "mc-pass")
    photo = upload_photo(client, resident)
    assert _state(services, photo["id"]) == "queued"
    assert not fake_wechat.media_checks  # an upload never waits on WeChat
    _checked(services, photo["id"], "pass")
    [(trace_id, check)] = fake_wechat.media_checks.items()
    call = next(c for c in fake_wechat.calls if c["path"] == "wxa/media_check_async")
    assert call["body"]["media_type"] == 2 and call["body"]["version"] == 2
    assert call["body"]["openid"].startswith("o") and call["body"]["scene"] == 2
    assert check["media_url"].startswith(live.base_url + f"/api/v1/photos/{photo['id']}?e=")
    status, size = check["fetched"]
    assert status == 200 and size > 1000  # WeChat got the photo itself, without a token
    with services.db.uow() as uow:
        assert uow.session.get(Photo, photo["id"]).media_trace_id == trace_id  # type: ignore[union-attr]


@pytest.mark.parametrize(("fmt", "encrypt"), [("json", False), ("xml", True)], ids=["json", "xml safe mode"])
def test_a_risky_photo_is_hidden_from_all_but_its_uploader_and_the_supervisors(
    client: Any, services: Any, live: Live, fake_wechat: Any, settings: Any, fmt: str, encrypt: bool
) -> None:
    live.fake.configure_push(
        live.callback,
        settings.wechat_token,
        aes_key=settings.wechat_encoding_aes_key,
        appid=settings.wechat_appid,
        format=fmt,
        encrypt=encrypt,
    )
    fake_wechat.set_mode(media_verdicts=["risky", "pass"])
    resident = login(client, f"mc-risky-{fmt}")
    handler = make_staff(client, services, "综合执法局", "handler", f"mc-h-{fmt}")
    office = make_staff(client, services, "住建局", "supervisor", f"mc-s-{fmt}")
    risky, fine = upload_photo(client, resident), upload_photo(client, resident)
    case = file_case(client, resident, photo_ids=[risky["id"], fine["id"]])
    assert case["needs_review"] is False
    before = client.get(f"/api/v1/cases/{case['id']}", headers=handler).get_json()
    old_link = next(p["url"] for p in before["photos"] if p["id"] == risky["id"])
    assert client.get(old_link).status_code == 200
    _checked(services, risky["id"], "risky")
    assert wait_until(lambda: _state(services, fine["id"]) == "pass", timeout=10)

    seen = {
        who: client.get(f"/api/v1/cases/{case['id']}", headers=h).get_json()
        for who, h in (("resident", resident), ("handler", handler), ("office", office))
    }
    assert all(s["needs_review"] for s in seen.values())
    assert [p["id"] for p in seen["handler"]["photos"]] == [fine["id"]]
    for who in ("resident", "office"):
        photos = {p["id"]: p for p in seen[who]["photos"]}
        assert set(photos) == {risky["id"], fine["id"]}
        assert client.get(photos[risky["id"]]["url"]).status_code == 200
        assert client.get(photos[risky["id"]]["thumb_url"]).status_code == 200
    # Links handed out before the verdict, or a bearer token of another party, no longer open it.
    assert client.get(old_link).status_code == 404
    assert client.get(f"/api/v1/photos/{risky['id']}", headers=handler).status_code == 404
    assert client.get(f"/api/v1/photos/{risky['id']}", headers=office).status_code == 200


def test_a_doubtful_photo_marks_its_case_for_review_when_it_is_attached_later(
    client: Any, services: Any, live: Live, fake_wechat: Any
) -> None:
    fake_wechat.set_mode(media_verdict="review")
    resident = login(client, "mc-review")
    photo = upload_photo(client, resident)
    _checked(services, photo["id"], "review")
    case = file_case(client, resident, photo_ids=[photo["id"]])
    assert case["needs_review"] is True
    handler = make_staff(client, services, "综合执法局", "handler", "mc-review-h")
    assert [
        p["id"] for p in client.get(f"/api/v1/cases/{case['id']}", headers=handler).get_json()["photos"]
    ] == [photo["id"]]


def test_a_verdict_is_taken_once_and_an_unknown_trace_changes_nothing(
    client: Any, services: Any, live: Live, fake_wechat: Any
) -> None:
    resident = login(client, "mc-once")
    photo = upload_photo(client, resident)
    _checked(services, photo["id"], "pass")
    [trace_id] = fake_wechat.media_checks
    # WeChat retries its push (signed anew); a different verdict for the same trace changes nothing.
    assert fake_wechat.push_media_verdict(trace_id, "risky") == (200, "success")
    assert _state(services, photo["id"]) == "pass"
    from tests.fakewechat.pushes import media_check_message

    assert fake_wechat.push(media_check_message("wx", "o-x", "no-such-trace", "risky")) == (200, "success")
    assert _state(services, photo["id"]) == "pass"


def test_a_check_wechat_cannot_take_is_retried_by_the_worker_not_lost(
    client: Any, services: Any, live: Live, fake_wechat: Any
) -> None:
    resident = login(client, "mc-away")
    photo = upload_photo(client, resident)
    fake_wechat.set_mode(down=True)
    services.jobs = Jobs(services)
    services.jobs.check_photos()
    with services.db.uow() as uow:
        row = uow.session.get(Photo, photo["id"])
        assert row is not None and row.media_check == "queued" and row.media_attempts == 1
        assert row.media_next_at is not None and row.media_next_at > services.clock.now()
    fake_wechat.set_mode(down=False)
    services.jobs.check_photos()  # not due yet
    assert not fake_wechat.media_checks and _state(services, photo["id"]) == "queued"
    services.clock = Clock(offset_seconds=31)
    _checked(services, photo["id"], "pass")


def test_a_check_whose_verdict_never_came_is_asked_again(
    client: Any, services: Any, live: Live, fake_wechat: Any
) -> None:
    fake_wechat.set_mode(hold_media_verdicts=True)
    photo = upload_photo(client, login(client, "mc-lost"))
    services.jobs = Jobs(services)
    services.jobs.check_photos()
    assert _state(services, photo["id"]) == "sent"
    services.jobs.check_photos()  # still waiting: not asked again yet
    assert len(fake_wechat.media_checks) == 1
    fake_wechat.set_mode(hold_media_verdicts=False)
    later = int(timedelta(hours=1, seconds=1).total_seconds())
    services.clock = Clock(offset_seconds=later)
    live.fake.configure_push(live.callback, "test-push-token", clock_offset=later)  # WeChat's time, as ours
    _checked(services, photo["id"], "pass")
    assert len(fake_wechat.media_checks) == 2


def test_without_a_public_address_a_photo_stays_unchecked(
    client: Any, services: Any, fake_wechat: Any
) -> None:
    services.photo_links.public_base_url = ""
    photo = upload_photo(client, login(client, "mc-nowhere"))
    _ = Jobs(services).check_photos()
    assert _state(services, photo["id"]) == "unchecked"
    assert not fake_wechat.media_checks
    with services.db.uow() as uow:
        assert uow.session.scalar(select(Photo.media_next_at).where(Photo.id == photo["id"])) is None
