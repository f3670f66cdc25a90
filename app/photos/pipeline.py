"""The photo pipeline: decode, orient, strip, re-encode, thumbnail, store.

A photo is evidence and may carry its author's location: the stored copies
keep no metadata at all. An image is an image because Pillow decodes it, not
because of its name or type.

The display copy's size is planned from the header first (``plan_size``): a
source up to 2048 px keeps its size; a larger one is reduced by the largest
power of two (2, 4, 8) that keeps its long side at least 1024, so a
4000x3000 phone photo is stored at 2000x1500. A JPEG is drafted to exactly
that box, so libjpeg's DCT scaling does the reduction while decoding; other
formats (and JPEGs past 8x) get one resize. Then the EXIF orientation is
applied to the pixels, and the thumbnail is made from the display copy: an
integer box reduction (``reducing_gap``), then LANCZOS for any remainder.
Filters and encoder settings were chosen by measurement
(``bench/photos.py --options``).

Memory: a JPEG is decoded at its reduced size, so the 50-megapixel limit
costs little. Other formats decode at full size (PNG has no reduced
decoding), about 4 bytes a pixel and as much again for the RGB copy: they
are limited to 16 megapixels, checked from the header like the JPEG limit, so
a small PNG that declares 49 megapixels is refused before it is decoded.

Pillow's own memory arena is set by ``keep_image_memory`` (``create_app``
calls it): a process keeps up to 32 freed 1 MB image blocks instead of
handing each decoded and rotated 12 MB image back to the system, which had to
map it afresh, page by page, for the next upload (5,800 page faults a photo).
The cost is bounded: at most 32 MB kept per process.

The upload's SHA-256 is computed beside the decode, and the thumbnail beside
the display's encode, on a small pool of threads (hashlib and Pillow release
the GIL): an upload takes less time when a core is free, the same CPU.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from handlers.ports import PhotoRejected, ProcessedPhoto

# MPO (multi-picture JPEG from some phones) opens through the JPEG plugin.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
DRAFT_FORMATS = ("JPEG", "MPO")
MIN_LONG_SIDE = 1024
TOO_MANY_PIXELS = "图片像素过多（上限 5000 万像素），请缩小后重试"
TOO_MANY_PIXELS_NOT_JPEG = "PNG、WebP、GIF 图片像素过多（上限 1600 万像素），请截图分段或转为 JPG 后重试"
# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000
    # Formats decoded at full size: bounds a worker's memory per upload.
    max_pixels_not_jpeg: int = 16_000_000
    max_side: int = 2048
    thumb_side: int = 400
    quality: int = 85
    thumb_quality: int = 80
    subsampling: int = 2  # 4:2:0, libjpeg's default
    # The thumbnail: a box reduction by the whole factor (5 from 2000 px), then
    # the filter for what remains; as sharp as LANCZOS alone at a fifth of the cost.
    thumb_reducing_gap: float | None = 1.0
    thumb_resample: Image.Resampling = Image.Resampling.LANCZOS
    # The one resize of a source the decoder could not reduce (PNG, or a JPEG past 8x).
    resize_reducing_gap: float | None = 2.0


DEFAULT_LIMITS = PhotoLimits()

# Pillow's arena: image memory comes in blocks of IMAGE_BLOCK_SIZE, and up to
# IMAGE_BLOCKS_KEPT freed blocks are kept for the next image. Blocks of 1 MB
# (not Pillow's 16 MB, where a 12 MB image is one block) are all about the
# same size, so a kept block serves the next image as it is; with 16 MB blocks
# the thumbnail's small image takes a kept 12 MB block, shrinks it, and the
# next decode grows it back, page by page. 32 blocks cover a 12 MP upload's
# decoded and rotated images (2 x 12 MB) and the thumbnail's.
IMAGE_BLOCK_SIZE = 1024 * 1024
IMAGE_BLOCKS_KEPT = 32
_side_lock = threading.Lock()
_side_pool: ThreadPoolExecutor | None = None


def keep_image_memory(block_size: int = IMAGE_BLOCK_SIZE, blocks: int = IMAGE_BLOCKS_KEPT) -> None:
    """Set Pillow's memory arena for this process (at most ``block_size *
    blocks`` bytes kept between images); the web application's factory calls
    it. Process-wide, for every Pillow image of the process."""
    Image.core.set_block_size(block_size)
    Image.core.set_blocks_max(blocks)


def _side() -> ThreadPoolExecutor:
    """The threads that hash and make the thumbnail beside the main work;
    made at a process's first upload, two per process."""
    global _side_pool
    with _side_lock:
        if _side_pool is None:
            _side_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo")
        return _side_pool


def _forget_side_pool() -> None:
    """In a forked child the pool's threads are gone (a pool that thinks it
    has them would never run a task): the child makes its own."""
    global _side_lock, _side_pool
    _side_lock, _side_pool = threading.Lock(), None


os.register_at_fork(after_in_child=_forget_side_pool)


def _open(data: bytes, limits: PhotoLimits) -> Image.Image:
    if len(data) > limits.max_bytes:
        raise PhotoRejected("photo_too_large", "图片超过 10MB，请压缩后重试")
    if not data:
        raise PhotoRejected("photo_empty", "图片内容为空")
    Image.init()  # registers every plugin once, so MPO and WEBP can be named below
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("photo_too_many_pixels", TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PhotoRejected("photo_not_image", "文件不是可识别的图片，请上传 JPG 或 PNG 照片") from exc
    width, height = image.size
    if width * height > limits.max_pixels:
        raise PhotoRejected("photo_too_many_pixels", TOO_MANY_PIXELS)
    if image.format not in DRAFT_FORMATS and width * height > limits.max_pixels_not_jpeg:
        raise PhotoRejected("photo_too_many_pixels", TOO_MANY_PIXELS_NOT_JPEG)
    if width < 1 or height < 1:
        raise PhotoRejected("photo_invalid", "图片尺寸无效")
    return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block just means "upright"
        return 1


def plan_size(width: int, height: int, limits: PhotoLimits = DEFAULT_LIMITS) -> tuple[tuple[int, int], int]:
    """The display copy's size for a source of this size, and the JPEG decoder's
    reduction (1, 2, 4 or 8) that reaches it: the largest whose long side still
    covers ``MIN_LONG_SIDE``. Past 8x (a long side over 16384) one resize does
    the rest. Sizes are in the file's own orientation, where draft works."""
    long_side = max(width, height)
    if long_side <= limits.max_side:
        return (width, height), 1
    scale = 1
    while scale < 8 and -(-long_side // (scale * 2)) >= MIN_LONG_SIDE:
        scale *= 2
    size = (-(-width // scale), -(-height // scale))
    if max(size) > limits.max_side:
        factor = limits.max_side / max(size)
        size = (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))
    return size, scale


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("photo_too_many_pixels", TOO_MANY_PIXELS) from exc
    except OSError as exc:
        raise PhotoRejected("photo_truncated", "图片不完整或已损坏，请重新选择照片") from exc


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """EXIF orientation applied to the pixels (the tag itself is dropped with
    the rest of the metadata)."""
    method = UPRIGHT.get(orientation)
    return image if method is None else image.transpose(method)


def decode(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> tuple[Image.Image, float]:
    """The upright RGB display image and the decoder's scale (1, 1/2, 1/4 or 1/8).

    A JPEG is drafted to the box the display will have, so the decoder's
    DCT scaling does the reduction; anything else (and a JPEG past 8x) gets
    one resize to that box."""
    image = _open(data, limits)
    orientation = _orientation(image)
    full_width = image.size[0]
    target, scale = plan_size(*image.size, limits)
    if scale > 1 and image.format in DRAFT_FORMATS:
        # Pillow picks the largest reduction whose size covers the box on both sides.
        image.draft("RGB", (max(1, image.size[0] // scale), max(1, image.size[1] // scale)))
    # The whole upload in one read: libjpeg's fast Huffman path needs a few KB
    # ahead of each MCU, and Pillow's 64 KB reads send the tail of every read
    # (5 % of the file) through the slow one, in 70-odd Python round trips.
    if isinstance(image, ImageFile.ImageFile):
        image.decodermaxblock = len(data) + 1
    _load(image)
    decoded_scale = image.size[0] / full_width
    image = _to_rgb(image)
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=limits.resize_reducing_gap)
    return _upright(image, orientation), decoded_scale


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L") if image.mode != "I" else image.convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    # Pillow carries some metadata over from ``info`` (a JPEG comment, say):
    # drop it all; no exif, icc_profile or XMP is passed, so none is written.
    image.info = {}
    image.save(out, "JPEG", quality=quality, subsampling=subsampling, optimize=False, progressive=False)
    return out.getvalue()


def _thumbnail(display: Image.Image, limits: PhotoLimits) -> Image.Image:
    """From the display copy: an integer box reduction, then the filter."""
    width, height = display.size
    if max(width, height) <= limits.thumb_side:
        return display
    factor = limits.thumb_side / max(width, height)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return display.resize(size, limits.thumb_resample, reducing_gap=limits.thumb_reducing_gap)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _thumbnail_jpeg(display: Image.Image, limits: PhotoLimits) -> tuple[bytes, tuple[int, int]]:
    thumb = _thumbnail(display, limits)
    if thumb is display:  # a small photo: its own thumbnail, encoded at the thumbnail's quality
        thumb = display.copy()
    return _encode(thumb, limits.thumb_quality, limits.subsampling), thumb.size


def process_upload(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> ProcessedPhoto:
    """The hash beside the decode and the thumbnail beside the display's encode;
    each on a side thread, so the same bytes as one after the other."""
    side = _side()
    sha256 = side.submit(_sha256, data)
    display, _scale = decode(data, limits)
    display.info = {}  # read by the thumbnail while the display is encoded: cleared before
    thumb = side.submit(_thumbnail_jpeg, display, limits)
    display_jpeg = _encode(display, limits.quality, limits.subsampling)
    thumb_jpeg, (thumb_width, thumb_height) = thumb.result()
    return ProcessedPhoto(
        sha256=sha256.result(),
        display=display_jpeg,
        thumb=thumb_jpeg,
        width=display.size[0],
        height=display.size[1],
        thumb_width=thumb_width,
        thumb_height=thumb_height,
    )


def naive_process(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> ProcessedPhoto:
    """The benchmark's baseline, the same output by the obvious route: a full
    decode, ``exif_transpose``, a LANCZOS resize to the same display size,
    save; the thumbnail by ``thumbnail()`` from the display copy."""
    image = _open(data, limits)
    orientation = _orientation(image)
    target, _scale = plan_size(*image.size, limits)
    _load(image)
    if orientation != 1:
        image.getexif()[0x0112] = orientation
        image = ImageOps.exif_transpose(image)
        if orientation in (5, 6, 7, 8):
            target = (target[1], target[0])
    image = _to_rgb(image)
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS)
    display = _encode(image, limits.quality, 2)
    thumb = image.copy()
    thumb.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        display=display,
        thumb=_encode(thumb, limits.thumb_quality, 2),
        width=image.size[0],
        height=image.size[1],
        thumb_width=thumb.size[0],
        thumb_height=thumb.size[1],
    )
