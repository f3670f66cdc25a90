"""The photo pipeline: decode, orient, strip, re-encode, thumbnail, store.

A photo is evidence and may carry its author's location: the stored copies
keep no metadata at all. An image is an image because Pillow decodes it, not
because of its name or type. A large JPEG is decoded at a reduced scale with
``draft()``: we ask for the smallest box the result may have (long side
1024), so the decoder picks the largest reduction (1/2, 1/4, 1/8) that still
covers it; anything still longer than 2048 px is then resized down. A 4000x3000
phone photo thus decodes at 2000x1500 and is stored at that size.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.ports import PhotoRejected, ProcessedPhoto

# MPO (multi-picture JPEG from some phones) opens through the JPEG plugin.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MIN_LONG_SIDE = 1024


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_side: int = 2048
    thumb_side: int = 400
    quality: int = 85
    thumb_quality: int = 80


DEFAULT_LIMITS = PhotoLimits()


def _open(data: bytes, limits: PhotoLimits) -> Image.Image:
    if len(data) > limits.max_bytes:
        raise PhotoRejected("photo_too_large", "图片超过 10MB，请压缩后重试")
    if not data:
        raise PhotoRejected("photo_empty", "图片内容为空")
    Image.init()  # registers every plugin once, so MPO and WEBP can be named below
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(
            "photo_too_many_pixels", "图片像素过多（上限 5000 万像素），请缩小后重试"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PhotoRejected("photo_not_image", "文件不是可识别的图片，请上传 JPG 或 PNG 照片") from exc
    width, height = image.size
    if width * height > limits.max_pixels:
        raise PhotoRejected("photo_too_many_pixels", "图片像素过多（上限 5000 万像素），请缩小后重试")
    if width < 1 or height < 1:
        raise PhotoRejected("photo_invalid", "图片尺寸无效")
    return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block just means "upright"
        return 1


def _reduce_box(width: int, height: int) -> tuple[int, int]:
    """The smallest box (in the file's own orientation) a stored copy may have."""
    long_side = max(width, height)
    if long_side <= MIN_LONG_SIDE:
        return width, height
    scale = MIN_LONG_SIDE / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode(
    data: bytes, limits: PhotoLimits = DEFAULT_LIMITS, use_draft: bool = True
) -> tuple[Image.Image, float]:
    """The upright RGB image and the decoder's scale (1, 1/2, 1/4 or 1/8)."""
    image = _open(data, limits)
    orientation = _orientation(image)
    full_width = image.size[0]
    scale = 1.0
    if use_draft and image.format in ("JPEG", "MPO"):
        # draft works in the file's own orientation; the box is chosen there too.
        image.draft("RGB", _reduce_box(*image.size))
        scale = image.size[0] / full_width
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(
            "photo_too_many_pixels", "图片像素过多（上限 5000 万像素），请缩小后重试"
        ) from exc
    except OSError as exc:
        raise PhotoRejected("photo_truncated", "图片不完整或已损坏，请重新选择照片") from exc
    if orientation != 1:
        image.getexif()[0x0112] = orientation
        image = ImageOps.exif_transpose(image)
    return _to_rgb(image), scale


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


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # Pillow carries some metadata over from ``info`` (a JPEG comment, say):
    # drop it all; no exif, icc_profile or XMP is passed, so none is written.
    image.info = {}
    image.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
    return out.getvalue()


def _finish(data: bytes, image: Image.Image, limits: PhotoLimits) -> ProcessedPhoto:
    if max(image.size) > limits.max_side:
        image = image.copy()
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    display = _encode(image, limits.quality)
    thumb_image = image.copy()
    thumb_image.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    thumb = _encode(thumb_image, limits.thumb_quality)
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        display=display,
        thumb=thumb,
        width=image.size[0],
        height=image.size[1],
        thumb_width=thumb_image.size[0],
        thumb_height=thumb_image.size[1],
    )


def process_upload(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> ProcessedPhoto:
    image, _scale = decode(data, limits, use_draft=True)
    return _finish(data, image, limits)


def naive_process(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> ProcessedPhoto:
    """Full decode, orient, resize, save: the benchmark's baseline."""
    image, _scale = decode(data, limits, use_draft=False)
    return _finish(data, image, limits)
