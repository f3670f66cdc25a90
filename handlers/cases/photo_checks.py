"""WeChat's image check of every photo, and the removal of photos nobody used.

An upload is queued for ``media_check_async`` (v2) like a notification in the
outbox: the worker sends it with a signed public link WeChat fetches itself,
and sends it again with backoff while WeChat is away, so no check is lost.
The verdict comes back later as a ``wxa_media_check`` push, by trace id,
handled once; a verdict that has not come within an hour (a push lost, or
one that came before we had stored its trace id) is asked for again: a risky photo is hidden from all but its uploader and the
supervisors (``handlers/cases/access.py: photo_visible_to``), and a risky or
doubtful one marks its case ``needs_review`` (now, or when it is attached).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.models import Case, Photo, User
from app.models.cases import (
    MEDIA_FAILED,
    MEDIA_FLAGGED,
    MEDIA_QUEUED,
    MEDIA_SENT,
    MEDIA_UNCHECKED,
    MEDIA_VERDICTS,
)
from handlers.context import Context
from handlers.ports import WeChatUnavailable

BATCH = 50
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
# About a day of tries; then a person looks at the photo instead.
MAX_ATTEMPTS = 30
# How long a sent check waits for its verdict before it is sent again.
VERDICT_WAIT = timedelta(hours=1)
PENDING = (MEDIA_QUEUED, MEDIA_SENT)
UNATTACHED_FOR = timedelta(hours=24)
# How long one sender holds a photo's check while it asks WeChat.
CLAIM = timedelta(seconds=60)
# WeChat's scene for content others read in comments and posts.
SCENE = 2


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to an hour."""
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def _flag_case(s: Session, photo: Photo) -> None:
    if photo.case_id is not None:
        case = s.get(Case, photo.case_id)
        if case is not None:
            case.needs_review = True


def _ask_wechat(ctx: Context, photo_id: str) -> tuple[str | None, str | None]:
    """(public link, trace id): no link without a public address; no trace id
    when WeChat could not be reached."""
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        owner = uow.session.get(User, photo.owner_id) if photo is not None else None
        if photo is None or owner is None or photo.media_check not in PENDING:
            return None, None
        openid = owner.openid
    url = ctx.photo_links.public_url(photo_id)
    if url is None:
        return None, None
    try:
        return url, ctx.wechat.check_media(url, openid, SCENE)
    except WeChatUnavailable:
        return url, None


def _claim(ctx: Context, photo_id: str) -> bool:
    """Take this photo's check for one send (compare-and-set on its due time),
    so two workers, or a wake-up and a tick of one worker, never both ask."""
    now = ctx.now()
    with ctx.uow() as uow:
        taken = uow.session.execute(
            update(Photo)
            .where(Photo.id == photo_id, Photo.media_check.in_(PENDING), Photo.media_next_at <= now)
            .values(media_next_at=now + CLAIM)
        )
        uow.commit()
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def send_photo_check(ctx: Context, photo_id: str) -> str | None:
    """Send one photo to WeChat's image check (again, for one still waiting
    for its verdict) if no one else is; answers its state after."""
    if not _claim(ctx, photo_id):
        return None
    url, trace_id = _ask_wechat(ctx, photo_id)
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        photo = s.get(Photo, photo_id, with_for_update=True)
        if photo is None or photo.media_check not in PENDING:
            return photo.media_check if photo is not None else None
        photo.media_attempts += 1
        if url is None:
            photo.media_check, photo.media_next_at = MEDIA_UNCHECKED, None
        elif trace_id is not None:
            photo.media_check, photo.media_trace_id = MEDIA_SENT, trace_id
            photo.media_next_at = now + VERDICT_WAIT
        else:
            photo.media_next_at = now + retry_delay(photo.media_attempts)
            if photo.media_attempts >= MAX_ATTEMPTS:
                photo.media_check, photo.media_next_at = MEDIA_FAILED, None
                _flag_case(s, photo)
        state = photo.media_check
        uow.commit()
    return state


def send_due_photo_checks(ctx: Context) -> int:
    """The worker's job: every check whose time has come (queued, to retry,
    or still without a verdict); answers how many were sent."""
    now = ctx.now()
    with ctx.uow() as uow:
        due = list(
            uow.session.scalars(
                select(Photo.id)
                .where(Photo.media_check.in_(PENDING), Photo.media_next_at <= now)
                .order_by(Photo.media_next_at, Photo.created_at)
                .limit(BATCH)
            )
        )
    return sum(1 for photo_id in due if send_photo_check(ctx, photo_id) == MEDIA_SENT)


def record_media_verdict(ctx: Context, trace_id: str, suggest: str) -> bool:
    """A ``wxa_media_check`` push. Handled once per trace id (WeChat retries
    pushes); an unknown trace id changes nothing. Answers whether it counted."""
    verdict = suggest if suggest in MEDIA_VERDICTS else "review"
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        photo = s.scalar(select(Photo).where(Photo.media_trace_id == trace_id).with_for_update())
        if photo is None or photo.media_check != MEDIA_SENT:
            return False
        photo.media_check, photo.media_checked_at, photo.media_next_at = verdict, now, None
        if verdict in MEDIA_FLAGGED:
            _flag_case(s, photo)
        uow.commit()
    return True


def _unused_keys(s: Session, keys: set[str]) -> set[str]:
    """Of ``keys``, those no photo row points at any more (an object is shared
    by every upload of the same bytes)."""
    used = s.execute(
        select(Photo.display_key, Photo.thumb_key).where(
            or_(Photo.display_key.in_(keys), Photo.thumb_key.in_(keys))
        )
    )
    return keys - {key for row in used for key in row}


def _remove_batch(ctx: Context, cutoff: datetime) -> int:
    with ctx.uow() as uow:
        s = uow.session
        rows = list(
            s.execute(
                select(Photo.id, Photo.display_key, Photo.thumb_key)
                .where(Photo.case_id.is_(None), Photo.created_at < cutoff)
                .order_by(Photo.created_at)
                .limit(BATCH)
            )
        )
        # The rows go first, and only while still unattached: a photo filed
        # this instant keeps its row and its bytes.
        s.execute(delete(Photo).where(Photo.id.in_([r.id for r in rows]), Photo.case_id.is_(None)))
        uow.commit()
    with ctx.uow() as uow:
        unused = _unused_keys(uow.session, {key for r in rows for key in (r.display_key, r.thumb_key)})
    for key in sorted(unused):
        ctx.photos.delete(key)
    return len(rows)


def remove_unattached_photos(ctx: Context) -> int:
    """The worker's job: photos never attached to a case, 24 hours after their
    upload, rows and stored objects. Answers how many were removed."""
    cutoff = ctx.now() - UNATTACHED_FOR
    removed = 0
    while True:
        done = _remove_batch(ctx, cutoff)
        removed += done
        if done < BATCH:
            return removed
