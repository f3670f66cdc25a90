"""handlers/cases/photos.py: an upload is normalised, stored once under its
content hash, recorded per upload, and opened only by those who may."""

from __future__ import annotations

import hashlib

import pytest

from app.models import Photo
from handlers.cases.photos import open_photo, storage_keys, upload_photo
from handlers.errors import BadRequest, DomainError, Invalid, NotFound, TooLarge, Unsupported
from handlers.ports import PhotoProcessor, PhotoRejected, ProcessedPhoto
from tests.unit.handlers.conftest import World


def test_an_upload_is_stored_under_its_hash_with_its_thumbnail(world: World) -> None:
    owner = world.user("owner")
    photo = upload_photo(world.ctx, owner.id, b"JPEG one")
    digest = hashlib.sha256(b"JPEG one").hexdigest()
    assert (photo.sha256, photo.owner_id, photo.width, photo.height) == (digest, owner.id, 1600, 1200)
    assert (photo.display_key, photo.thumb_key) == storage_keys(digest)
    assert storage_keys(digest) == (f"{digest[:2]}/{digest}.jpg", f"{digest[:2]}/{digest}_t.jpg")
    assert world.photos.objects == {
        photo.display_key: b"display:JPEG one",
        photo.thumb_key: b"thumb:JPEG one",
    }
    assert photo.case_id is None and len(photo.id) == 22


def test_the_same_photo_twice_is_stored_once_and_recorded_twice(world: World) -> None:
    owner = world.user("owner")
    first = upload_photo(world.ctx, owner.id, b"JPEG same")
    second = upload_photo(world.ctx, owner.id, b"JPEG same")
    assert first.id != second.id and first.display_key == second.display_key
    assert len(world.photos.objects) == 2
    assert world.count(Photo) == 2


def _refusing(code: str) -> PhotoProcessor:
    def process(data: bytes) -> ProcessedPhoto:
        raise PhotoRejected(code, "照片不符合要求")

    return process


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("photo_too_large", TooLarge),
        ("photo_too_many_pixels", TooLarge),
        ("photo_not_image", Unsupported),
        ("photo_empty", BadRequest),
        ("photo_something_else", Invalid),
    ],
)
def test_a_refused_upload_keeps_its_reason_and_nothing_is_stored(
    world: World, code: str, kind: type[DomainError]
) -> None:
    owner = world.user("owner")
    world.ctx.process_photo = _refusing(code)
    with pytest.raises(kind) as refused:
        upload_photo(world.ctx, owner.id, b"whatever")
    assert (refused.value.code, refused.value.message) == (code, "照片不符合要求")
    assert world.photos.objects == {}
    assert world.count(Photo) == 0


def test_the_fake_pipeline_refuses_what_is_not_a_photo(world: World) -> None:
    owner = world.user("owner")
    with pytest.raises(Unsupported):
        upload_photo(world.ctx, owner.id, b"GIF89a")
    with pytest.raises(BadRequest):
        upload_photo(world.ctx, owner.id, b"")


def test_the_uploader_always_opens_their_own_photo(world: World) -> None:
    owner = world.user("owner")
    photo = upload_photo(world.ctx, owner.id, b"JPEG mine")
    assert open_photo(world.ctx, photo.id, owner, thumb=False) == b"display:JPEG mine"
    assert open_photo(world.ctx, photo.id, owner, thumb=True) == b"thumb:JPEG mine"


def test_an_unattached_photo_is_nobody_elses_to_open(world: World) -> None:
    owner, supervisor = world.user("owner"), world.user("office", "住建局", "supervisor")
    photo = upload_photo(world.ctx, owner.id, b"JPEG mine")
    for other in (world.user("neighbour"), supervisor):
        with pytest.raises(NotFound) as refused:
            open_photo(world.ctx, photo.id, other, thumb=False)
        assert refused.value.code == "photo_not_found"


def test_once_attached_the_cases_parties_open_it_and_outsiders_do_not(world: World) -> None:
    reporter = world.user("reporter")
    photo = upload_photo(world.ctx, reporter.id, b"JPEG evidence")
    world.file(reporter.id, photo_ids=[photo.id])
    for party in (
        world.user("enforcement", "综合执法局"),
        world.user("town", "杨和镇"),
        world.user("office", "住建局", "supervisor"),
    ):
        assert open_photo(world.ctx, photo.id, party, thumb=True) == b"thumb:JPEG evidence"
    for outsider in (world.user("neighbour"), world.user("police", "公安局")):
        with pytest.raises(NotFound):
            open_photo(world.ctx, photo.id, outsider, thumb=True)


def test_a_signed_link_opens_the_photo_without_a_user(world: World) -> None:
    owner = world.user("owner")
    photo = upload_photo(world.ctx, owner.id, b"JPEG linked")
    assert open_photo(world.ctx, photo.id, None, thumb=False) == b"display:JPEG linked"


def test_an_unknown_photo_or_a_lost_file_is_not_found(world: World) -> None:
    owner = world.user("owner")
    with pytest.raises(NotFound) as unknown:
        open_photo(world.ctx, "no-such-photo", owner, thumb=False)
    assert unknown.value.code == "photo_not_found"
    photo = upload_photo(world.ctx, owner.id, b"JPEG lost")
    world.photos.delete(photo.display_key)
    with pytest.raises(NotFound) as lost:
        open_photo(world.ctx, photo.id, owner, thumb=False)
    assert lost.value.code == "photo_missing"
    assert open_photo(world.ctx, photo.id, owner, thumb=True) == b"thumb:JPEG lost"
