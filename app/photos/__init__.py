"""Photos: the pipeline (decode, orient, strip, re-encode, thumbnail) and
where the bytes are kept. Adapters of ``handlers.ports.PhotoProcessor`` and
``handlers.ports.PhotoStore``."""

from app.photos.pipeline import (
    DEFAULT_LIMITS,
    PhotoLimits,
    decode,
    keep_image_memory,
    naive_process,
    plan_size,
    process_upload,
)
from app.photos.storage import LocalPhotoStorage

__all__ = [
    "DEFAULT_LIMITS",
    "LocalPhotoStorage",
    "PhotoLimits",
    "decode",
    "keep_image_memory",
    "naive_process",
    "plan_size",
    "process_upload",
]
