"""Signed photo URLs for the answers, and their check, through the
application's ``PhotoLinks`` (app/photos/links.py: HMAC, expiry on the one
clock). Handed out only in answers to those who may see the photo."""

from __future__ import annotations

from flask import current_app

from app.photos.links import PhotoLinks


def _links() -> PhotoLinks:
    return current_app.extensions["services"].photo_links  # type: ignore[no-any-return]


def signed_url(photo_id: str, variant: str, restricted: bool = False) -> str:
    return _links().path(photo_id, variant, restricted)


def signature_ok(
    photo_id: str, variant: str, expires: int | None, sig: str | None, restricted: bool = False
) -> bool:
    return _links().verify(photo_id, variant, expires, sig, restricted)
