"""Photo URLs that cannot be guessed and stop working.

``<image src>`` and ``wx.previewImage`` in the mini-program cannot send an
Authorization header, so a photo's URL carries its own proof: an HMAC of the
photo id, the variant and an expiry, handed out only in answers to the
case's parties. Without it, a bearer token of such a party works too.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app

LIFETIME_SECONDS = 24 * 3600


def _sign(photo_id: str, variant: str, expires: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    msg = f"{photo_id}:{variant}:{expires}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def signed_url(photo_id: str, variant: str) -> str:
    # Round the expiry so the same photo keeps the same URL for an hour and
    # the client's image cache works.
    expires = (int(time.time()) // 3600 + 1) * 3600 + LIFETIME_SECONDS
    suffix = "" if variant == "display" else "/thumb"
    return f"/api/v1/photos/{photo_id}{suffix}?e={expires}&s={_sign(photo_id, variant, expires)}"


def signature_ok(photo_id: str, variant: str, expires: str | None, sig: str | None) -> bool:
    if not expires or not sig or not expires.isdigit():
        return False
    if int(expires) < time.time():
        return False
    return hmac.compare_digest(_sign(photo_id, variant, int(expires)), sig)
