"""The photo pipeline: what is accepted, what is stripped, what is stored."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from app.api.errors import status_of
from app.photos import LocalPhotoStorage, decode, keep_image_memory, naive_process, plan_size, process_upload
from app.photos.pipeline import (
    DEFAULT_LIMITS,
    IMAGE_BLOCK_SIZE,
    IMAGE_BLOCKS_KEPT,
    _encode,
    _side,
    _thumbnail,
)
from handlers.cases.photos import REJECTED_AS, storage_keys
from handlers.errors import Invalid
from handlers.ports import PhotoRejected
from tests.fixtures_images import big_jpeg, bomb_png, cmyk_jpeg, exif_jpeg, gif, png, truncated_jpeg


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_orientation_is_applied_and_every_metadata_block_is_gone() -> None:
    result = process_upload(exif_jpeg((400, 300), orientation=6))
    display = _open(result.display)
    # Orientation 6 turns the landscape file into an upright portrait photo.
    assert display.size == (300, 400) == (result.width, result.height)
    # The red half (left in the file) is on top once rotated 90° clockwise.
    r, g, b = display.getpixel((150, 50))  # type: ignore[misc]
    assert r > 200 and b < 60
    for data in (result.display, result.thumb):
        image = _open(data)
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        assert b"Exif" not in data and b"GPS" not in data and b"secret comment" not in data


def test_the_content_hash_is_the_uploads_and_names_the_stored_files() -> None:
    data = exif_jpeg()
    first, second = process_upload(data), process_upload(data)
    assert first.sha256 == second.sha256
    assert storage_keys(first.sha256)[0].endswith(f"{first.sha256}.jpg")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"hello, this is not an image", 415, "photo_not_image"),
        (b"%PDF-1.4 fake", 415, "photo_not_image"),
        (truncated_jpeg(), 422, "photo_truncated"),
        (bomb_png(), 413, "photo_too_many_pixels"),
        (bomb_png(8000, 7000), 413, "photo_too_many_pixels"),
        (b"\xff" * (10 * 1024 * 1024 + 1), 413, "photo_too_large"),
        (b"", 400, "photo_empty"),
    ],
)
def test_what_is_not_a_usable_image_is_refused(data: bytes, status: int, code: str) -> None:
    with pytest.raises(PhotoRejected) as refused:
        process_upload(data)
    assert refused.value.code == code
    # The status the resident gets, through the handler's kind and the web edge's table.
    assert status_of(REJECTED_AS.get(code, Invalid)(refused.value.message, code)) == status
    assert refused.value.message  # a Chinese sentence for the resident


@pytest.mark.parametrize("data", [png("RGBA"), png("L"), png("I;16"), cmyk_jpeg(), gif()])
def test_odd_modes_become_plain_rgb_jpegs(data: bytes) -> None:
    result = process_upload(data)
    assert _open(result.display).mode == "RGB"
    assert _open(result.display).format == "JPEG"


def test_small_images_are_not_upscaled_and_thumbnails_are_about_400() -> None:
    result = process_upload(png("RGB", (300, 200)))
    assert (result.width, result.height) == (300, 200)
    big = process_upload(big_jpeg((3000, 2000)))
    assert max(big.thumb_width, big.thumb_height) == 400


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_stored_between_1024_and_2048() -> None:
    image, scale = decode(big_jpeg((4000, 3000)))
    assert scale == 0.5 and image.size == (2000, 1500)
    image, scale = decode(big_jpeg((8000, 6000)))
    assert scale == 0.25 and image.size == (2000, 1500)
    for size in ((4000, 3000), (3000, 4000), (2500, 1000)):
        result = process_upload(big_jpeg(size))
        assert 1024 <= max(result.width, result.height) <= 2048


@pytest.mark.parametrize(
    ("size", "planned", "scale"),
    [
        ((300, 200), (300, 200), 1),
        ((2048, 1536), (2048, 1536), 1),
        ((2049, 1000), (1025, 500), 2),
        ((4000, 3000), (2000, 1500), 2),
        ((3000, 4000), (1500, 2000), 2),
        ((4001, 3001), (2001, 1501), 2),
        ((5000, 4000), (1250, 1000), 4),
        ((8000, 6000), (2000, 1500), 4),
        ((16384, 100), (2048, 13), 8),
        ((17000, 600), (2048, 72), 8),
    ],
)
def test_the_display_size_is_planned_from_the_header(
    size: tuple[int, int], planned: tuple[int, int], scale: int
) -> None:
    assert plan_size(*size) == (planned, scale)
    assert max(planned) <= 2048 and (max(planned) >= 1024 or planned == size)


def test_a_jpeg_past_eight_times_the_display_is_drafted_then_resized_once() -> None:
    image, scale = decode(big_jpeg((17000, 600)))
    assert scale == 0.125 and image.size == (2048, 72)


@pytest.mark.parametrize(
    ("orientation", "size", "point"),
    [
        (1, (400, 300), (50, 150)),
        (3, (400, 300), (350, 150)),
        (6, (300, 400), (150, 50)),
        (8, (300, 400), (150, 350)),
    ],
)
def test_each_orientation_puts_the_red_half_where_the_camera_saw_it(
    orientation: int, size: tuple[int, int], point: tuple[int, int]
) -> None:
    result = process_upload(exif_jpeg((400, 300), orientation=orientation))
    display = _open(result.display)
    assert display.size == size
    r, g, b = display.getpixel(point)  # type: ignore[misc]
    assert r > 200 and b < 60


def test_a_png_beyond_the_non_jpeg_limit_is_refused_from_its_header() -> None:
    # 20 megapixels declared over a few bytes of data: decoding it would fail as
    # truncated, so this code proves the header was read and nothing decoded.
    with pytest.raises(PhotoRejected) as refused:
        process_upload(bomb_png(5000, 4000))
    assert refused.value.code == "photo_too_many_pixels"
    assert "1600 万像素" in refused.value.message
    assert status_of(REJECTED_AS["photo_too_many_pixels"](refused.value.message, "x")) == 413


def test_a_jpeg_of_the_same_pixels_is_still_accepted() -> None:
    result = process_upload(big_jpeg((5000, 4000)))
    assert (result.width, result.height) == (1250, 1000)


def test_a_large_png_within_the_limit_gets_one_resize_to_the_planned_size() -> None:
    result = process_upload(png("RGBA", (4000, 3000)))
    assert (result.width, result.height) == (2000, 1500)
    assert (result.thumb_width, result.thumb_height) == (400, 300)
    assert _open(result.display).getpixel((10, 10)) != (255, 255, 255)  # type: ignore[comparison-overlap]


def test_the_benchmarks_naive_baseline_makes_the_same_sizes() -> None:
    for data in (exif_jpeg((4000, 3000), orientation=6), big_jpeg((3000, 2000)), png("RGB", (300, 200))):
        ours, naive = process_upload(data), naive_process(data)
        assert (ours.width, ours.height, ours.thumb_width, ours.thumb_height) == (
            naive.width,
            naive.height,
            naive.thumb_width,
            naive.thumb_height,
        )


@pytest.mark.parametrize(
    "data",
    [exif_jpeg((4000, 3000), orientation=6), exif_jpeg((300, 200), orientation=3), png("RGBA", (900, 700))],
)
def test_the_side_threads_give_the_bytes_of_one_step_after_the_other(data: bytes) -> None:
    display, _scale = decode(data)
    thumb = _thumbnail(display, DEFAULT_LIMITS)
    result = process_upload(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.display == _encode(display, DEFAULT_LIMITS.quality, DEFAULT_LIMITS.subsampling)
    assert result.thumb == _encode(thumb, DEFAULT_LIMITS.thumb_quality, DEFAULT_LIMITS.subsampling)
    assert (result.thumb_width, result.thumb_height) == thumb.size


def test_a_forked_child_processes_uploads_with_its_own_side_threads() -> None:
    both = threading.Barrier(2)  # the parent's pool has both its threads, idle, before the fork
    for waited in [_side().submit(both.wait, 5) for _ in range(2)]:
        waited.result()
    process_upload(exif_jpeg())
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only when an upload completes
        code = 1
        try:
            process_upload(exif_jpeg())
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's upload never finished")


def test_the_image_memory_kept_between_uploads_is_bounded() -> None:
    blocks, size = Image.core.get_blocks_max(), Image.core.get_block_size()
    try:
        keep_image_memory()
        assert Image.core.get_blocks_max() == IMAGE_BLOCKS_KEPT
        assert Image.core.get_block_size() == IMAGE_BLOCK_SIZE
        assert IMAGE_BLOCKS_KEPT * IMAGE_BLOCK_SIZE <= 32 * 1024 * 1024
        for _ in range(3):
            process_upload(exif_jpeg((4000, 3000), orientation=6))
        assert Image.core.get_stats()["blocks_cached"] <= IMAGE_BLOCKS_KEPT
    finally:
        Image.core.set_blocks_max(blocks)
        Image.core.set_block_size(size)


def test_local_storage_stores_a_key_once_and_atomically(tmp_path: Path) -> None:
    storage = LocalPhotoStorage(tmp_path)
    storage.put("ab/abc.jpg", b"one")
    storage.put("ab/abc.jpg", b"two")
    assert storage.get("ab/abc.jpg") == b"one"
    assert storage.get("ab/missing.jpg") is None
    assert not [p for p in tmp_path.rglob(".tmp-*")]
    with pytest.raises(ValueError):
        storage.put("../escape.jpg", b"x")
