"""Uploading a photo: normalise it, store it under its content hash, record it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.models import Case, Photo, User
from app.models.cases import MEDIA_QUEUED, MEDIA_RISKY
from handlers.cases.access import can_see_photos_of, photo_visible_to
from handlers.context import Context
from handlers.errors import BadRequest, DomainError, Invalid, NotFound, TooLarge, Unavailable, Unsupported
from handlers.ports import PhotoRejected, StorageUnavailable

# What a refused upload is, by the pipeline's verdict.
REJECTED_AS: dict[str, type[DomainError]] = {
    "photo_too_large": TooLarge,
    "photo_too_many_pixels": TooLarge,
    "photo_not_image": Unsupported,
    "photo_empty": BadRequest,
}


@contextmanager
def _store_reachable() -> Iterator[None]:
    try:
        yield
    except StorageUnavailable as exc:
        raise Unavailable("照片存储暂时不可用，请稍后重试", "photo_storage_unavailable") from exc


def storage_keys(sha256: str) -> tuple[str, str]:
    """(display key, thumbnail key), derived from the upload's content hash."""
    return f"{sha256[:2]}/{sha256}.jpg", f"{sha256[:2]}/{sha256}_t.jpg"


def upload_photo(ctx: Context, owner_id: int, data: bytes) -> Photo:
    try:
        processed = ctx.process_photo(data)
    except PhotoRejected as exc:
        raise REJECTED_AS.get(exc.code, Invalid)(exc.message, exc.code) from exc
    display_key, thumb_key = storage_keys(processed.sha256)
    with _store_reachable():
        # The same photo twice is stored once; each upload still gets its own
        # record so ownership and attachment stay per upload.
        ctx.photos.put(display_key, processed.display)
        ctx.photos.put(thumb_key, processed.thumb)
    with ctx.uow() as uow:
        photo = Photo(
            id=secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")[:22],
            sha256=processed.sha256,
            owner_id=owner_id,
            width=processed.width,
            height=processed.height,
            display_key=display_key,
            thumb_key=thumb_key,
            created_at=ctx.now(),
            # WeChat's image check is sent by the worker, like a notification
            # (handlers/cases/photo_checks.py): an upload never waits on WeChat.
            media_check=MEDIA_QUEUED,
            media_next_at=ctx.now(),
        )
        uow.session.add(photo)
        uow.commit()
        uow.session.expunge(photo)
    ctx.wake_outbox()
    return photo


def _may_open(s: Session, photo: Photo, user: User | None, restricted_link: bool) -> bool:
    if user is None:
        # A signed link proved the right to see it; a photo WeChat found risky
        # opens only through the restricted links its uploader and the
        # supervisors are handed after the verdict.
        return photo.media_check != MEDIA_RISKY or restricted_link
    if not photo_visible_to(photo, user):
        return False
    if photo.owner_id == user.id:
        return True
    case = s.get(Case, photo.case_id) if photo.case_id is not None else None
    return case is not None and can_see_photos_of(s, case, user)


def open_photo(
    ctx: Context, photo_id: str, user: User | None, thumb: bool, restricted_link: bool = False
) -> bytes:
    """The stored bytes. ``user`` is the caller, who must be the uploader, a
    party to the photo's case or to a case referred from it (else 404); None
    when a signed link already proved the right to see it."""
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        if photo is None or not _may_open(uow.session, photo, user, restricted_link):
            raise NotFound("找不到该照片", "photo_not_found")
        key = photo.thumb_key if thumb else photo.display_key
    with _store_reachable():
        data = ctx.photos.get(key)
    if data is None:
        raise NotFound("照片文件已丢失", "photo_missing")
    return data
