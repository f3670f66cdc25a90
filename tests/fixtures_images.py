"""Test images made in memory: EXIF orientation and GPS, odd modes, broken files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def exif_jpeg(size: tuple[int, int] = (400, 300), orientation: int = 6, gps: bool = True) -> bytes:
    """A JPEG whose left half is red and right half blue, with EXIF orientation and GPS."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    if gps:
        exif[0x8825] = {1: "N", 2: (38.0, 15.0, 30.0), 3: "E", 4: (106.0, 14.0, 10.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90, comment=b"secret comment")
    return out.getvalue()


def png(mode: str = "RGBA", size: tuple[int, int] = (300, 200)) -> bytes:
    color: object = (10, 200, 30, 128) if mode == "RGBA" else 200 if mode in ("L", "I;16") else (10, 200, 30)
    image = Image.new(mode, size, color)  # type: ignore[arg-type]
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (200, 100), (0, 128, 255, 0)).save(out, "JPEG")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = exif_jpeg((800, 600), gps=False)
    return data[: len(data) // 2]


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header declares a huge image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    frames = [Image.new("P", (120, 80), i * 40) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def big_jpeg(size: tuple[int, int]) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
