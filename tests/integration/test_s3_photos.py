"""Photos in an S3-compatible bucket (moto's server on loopback): the store
itself, the API on top of it, and the move from the local folder."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.photos import LocalPhotoStorage
from app.photos.s3 import S3Location, S3PhotoStorage
from app.settings import Settings
from handlers.cases.photos import storage_keys
from tests.fixtures_images import exif_jpeg
from tests.helpers import jpeg_bytes, login, upload_photo
from tests.s3fake import CREDENTIALS, MotoS3


def _store(moto_s3: MotoS3, bucket: str, prefix: str = "photos") -> S3PhotoStorage:
    return S3PhotoStorage(
        S3Location(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=moto_s3.endpoint_url,
            region=CREDENTIALS["AWS_REGION"],
            access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
    )


def test_the_bucket_stores_reads_lists_and_deletes_photos_under_its_prefix(
    moto_s3: MotoS3, s3_bucket: str
) -> None:
    store = _store(moto_s3, s3_bucket, prefix="/county-a/")
    store.put("ab/abc.jpg", b"display bytes")
    store.put("ab/abc_t.jpg", b"thumb bytes")
    assert store.get("ab/abc.jpg") == b"display bytes"
    assert store.get("ab/missing.jpg") is None
    assert sorted(store.keys()) == ["ab/abc.jpg", "ab/abc_t.jpg"]
    raw = moto_s3.client()
    head = raw.head_object(Bucket=s3_bucket, Key="county-a/ab/abc.jpg")
    assert head["ContentType"] == "image/jpeg"
    # Another prefix in the same bucket is another store.
    assert list(_store(moto_s3, s3_bucket, prefix="county-b").keys()) == []
    store.delete("ab/abc.jpg")
    store.delete("ab/never-there.jpg")
    assert store.get("ab/abc.jpg") is None
    assert list(store.keys()) == ["ab/abc_t.jpg"]


def test_a_put_of_a_key_already_there_keeps_the_first_bytes(moto_s3: MotoS3, s3_bucket: str) -> None:
    store = _store(moto_s3, s3_bucket, prefix="")
    store.put("cd/cde.jpg", b"first")
    store.put("cd/cde.jpg", b"second")
    assert store.get("cd/cde.jpg") == b"first"
    assert list(store.keys()) == ["cd/cde.jpg"]


def test_keys_that_climb_out_of_the_prefix_are_refused(moto_s3: MotoS3, s3_bucket: str) -> None:
    store = _store(moto_s3, s3_bucket)
    for bad in ("../other/x.jpg", "/x.jpg", "ab//x.jpg", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


def test_listing_pages_through_the_whole_bucket(moto_s3: MotoS3, s3_bucket: str) -> None:
    raw = moto_s3.client()
    keys = [f"{i:02x}/{i}.jpg" for i in range(7)]
    for key in keys:
        raw.put_object(Bucket=s3_bucket, Key=f"p/{key}", Body=b"")
    raw.put_object(Bucket=s3_bucket, Key="elsewhere.jpg", Body=b"")
    store = _store(moto_s3, s3_bucket, prefix="p")
    store.page_size = 3  # three listing requests
    assert sorted(store.keys()) == sorted(keys)


def test_s3_without_a_bucket_stops_the_start_naming_the_variable() -> None:
    with pytest.raises(SystemExit, match="S3_BUCKET"):
        Settings.from_env({"PHOTO_STORAGE": "s3"})
    with pytest.raises(SystemExit, match="PHOTO_STORAGE"):
        Settings.from_env({"PHOTO_STORAGE": "ftp"})
    assert Settings.from_env({}).photo_storage == "local"


# -- the API on the bucket ------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings, moto_s3: MotoS3, s3_bucket: str) -> Settings:
    """The suite's settings with photos in the bucket."""
    return moto_s3.use_bucket(settings, s3_bucket)


def test_a_photo_uploaded_through_the_api_lives_in_the_bucket_and_opens_by_its_signed_url(
    client: Any, services: Any, settings: Settings
) -> None:
    headers = login(client, "s3-resident")
    upload = exif_jpeg((1600, 1200), gps=True)
    photo = upload_photo(client, headers, upload)
    assert photo["sha256"] == hashlib.sha256(upload).hexdigest()
    display_key, thumb_key = storage_keys(photo["sha256"])
    store = services.photos
    assert isinstance(store, S3PhotoStorage)
    assert sorted(store.keys()) == sorted([display_key, thumb_key])
    assert not Path(settings.photo_dir).exists() or not any(Path(settings.photo_dir).rglob("*.jpg"))
    for url, key in ((photo["url"], display_key), (photo["thumb_url"], thumb_key)):
        opened = client.get(url)  # no Authorization: the signature is the right to see it
        assert opened.status_code == 200
        assert opened.mimetype == "image/jpeg"
        assert opened.data == store.get(key)
        image = Image.open(io.BytesIO(opened.data))
        assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    # Orientation 6 turned the 1600x1200 source upright.
    assert (photo["width"], photo["height"]) == (1200, 1600)


def test_a_photo_missing_from_the_bucket_is_a_404_not_a_crash(client: Any, services: Any) -> None:
    headers = login(client, "s3-lost")
    photo = upload_photo(client, headers, jpeg_bytes(color=(9, 99, 199)))
    services.photos.delete(storage_keys(photo["sha256"])[0])
    answer = client.get(photo["url"])
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "photo_missing"


# -- moving the local folder into the bucket ------------------------------------------


def _fill_local(root: Path, count: int) -> dict[str, bytes]:
    local = LocalPhotoStorage(root)
    objects = {}
    for i in range(count):
        data = jpeg_bytes(color=(i * 40 % 255, 10, 200))
        sha = hashlib.sha256(data).hexdigest()
        for key in storage_keys(sha):
            local.put(key, data)
            objects[key] = data
    return objects


def test_migrate_to_s3_copies_every_photo_checks_it_and_can_run_again(
    app: Any, services: Any, settings: Settings, moto_s3: MotoS3
) -> None:
    objects = _fill_local(Path(settings.photo_dir), 3)
    bucket = services.photos
    # A run interrupted after one object: the next run resumes.
    first_key = sorted(objects)[0]
    bucket.put(first_key, objects[first_key])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["photos", "migrate-to-s3"])
    assert result.exit_code == 0, result.output
    assert "copied: 5, already there: 1, mismatched: 0, failed: 0, total: 6" in result.output
    for key, data in objects.items():
        assert bucket.get(key) == data
    again = runner.invoke(args=["photos", "migrate-to-s3"])
    assert again.exit_code == 0, again.output
    assert "copied: 0, already there: 6" in again.output


def test_migrate_to_s3_reports_an_object_with_other_bytes_and_leaves_it(
    app: Any, services: Any, settings: Settings
) -> None:
    objects = _fill_local(Path(settings.photo_dir), 1)
    key = sorted(objects)[0]
    services.photos.put(key, b"not the same photo")
    result = app.test_cli_runner().invoke(args=["photos", "migrate-to-s3"])
    assert result.exit_code == 1
    assert "copied: 1, already there: 0, mismatched: 1" in result.output
    assert key in result.output
    assert services.photos.get(key) == b"not the same photo"


def test_migrate_to_s3_works_before_the_switch_and_needs_a_bucket(
    settings: Settings, fake_wechat: Any, moto_s3: MotoS3, s3_bucket: str
) -> None:
    from app import create_app

    local_settings = settings.but(photo_storage="local")
    objects = _fill_local(Path(settings.photo_dir), 1)
    app = create_app(local_settings)
    result = app.test_cli_runner().invoke(args=["photos", "migrate-to-s3"])
    assert result.exit_code == 0, result.output
    assert "copied: 2" in result.output
    assert sorted(_store(moto_s3, settings.s3_bucket).keys()) == sorted(objects)
    no_bucket = create_app(local_settings.but(s3_bucket=""))
    failed = no_bucket.test_cli_runner().invoke(args=["photos", "migrate-to-s3"])
    assert failed.exit_code != 0
    assert "S3_BUCKET" in failed.output + str(failed.exception)


def test_an_upload_while_the_bucket_is_unreachable_is_a_503_to_retry(
    settings: Settings, fake_wechat: Any, moto_s3: MotoS3
) -> None:
    from app import create_app
    from handlers.seed import seed_reference
    from tests.ownservers import free_port

    app = create_app(settings.but(s3_endpoint_url=f"http://127.0.0.1:{free_port()}"))
    seed_reference(app.extensions["services"].context())
    client = app.test_client()
    headers = login(client, "s3-away")
    answer = client.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(jpeg_bytes()), "photo.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.get_json()["error"]["code"] == "photo_storage_unavailable"
    app.extensions["services"].close()


def test_photos_never_attached_leave_the_bucket_after_a_day(client: Any, services: Any) -> None:
    from app.clock import Clock
    from app.worker import Jobs
    from tests.helpers import file_case

    resident = login(client, "s3-tidy")
    kept = upload_photo(client, resident, jpeg_bytes(color=(1, 99, 1)))
    file_case(client, resident, photo_ids=[kept["id"]])
    gone = upload_photo(client, resident, jpeg_bytes(color=(220, 30, 160)))
    assert len(list(services.photos.keys())) == 4
    services.clock = Clock(offset_seconds=25 * 3600)
    Jobs(services).tidy_photos()
    assert sorted(services.photos.keys()) == sorted(storage_keys(kept["sha256"]))
    headers = login(client, "s3-tidy")
    assert client.get(f"/api/v1/photos/{gone['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/photos/{kept['id']}", headers=headers).status_code == 200
