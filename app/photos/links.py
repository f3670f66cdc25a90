"""Photo URLs that cannot be guessed and stop working, on the one clock.

``<image src>`` and ``wx.previewImage`` in the mini-program cannot send an
Authorization header, so a photo's URL carries its own proof: an HMAC of the
photo id, the variant, an expiry and whether it is a restricted link (a
photo WeChat found risky opens only through links handed to its uploader and
the supervisors after the verdict). Expiries are read from the product's
clock, so ``CLOCK_OFFSET_SECONDS`` ages links like everything else.
Implements ``handlers.ports.PhotoLinker``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

LIFETIME_SECONDS = 24 * 3600
# WeChat's image check fetches the photo itself, perhaps after our retries.
FETCH_LIFETIME_SECONDS = 3 * 24 * 3600


class PhotoLinks:
    def __init__(self, secret_key: str, now: Callable[[], datetime], public_base_url: str = ""):
        self._key = secret_key.encode()
        self._clock = now  # the product's one clock, read at each use
        self.public_base_url = public_base_url.rstrip("/")

    def _now(self) -> int:
        return int(self._clock().timestamp())

    def _sign(self, photo_id: str, variant: str, expires: int, restricted: bool) -> str:
        msg = f"{photo_id}:{variant}:{expires}" + (":restricted" if restricted else "")
        return hmac.new(self._key, msg.encode(), hashlib.sha256).hexdigest()[:32]

    def path(
        self, photo_id: str, variant: str, restricted: bool = False, lifetime: int = LIFETIME_SECONDS
    ) -> str:
        # Round the expiry so the same photo keeps the same URL for an hour and
        # the client's image cache works.
        expires = (self._now() // 3600 + 1) * 3600 + lifetime
        suffix = "" if variant == "display" else "/thumb"
        flag = "&r=1" if restricted else ""
        sig = self._sign(photo_id, variant, expires, restricted)
        return f"/api/v1/photos/{photo_id}{suffix}?e={expires}&s={sig}{flag}"

    def verify(
        self, photo_id: str, variant: str, expires: int | None, sig: str | None, restricted: bool
    ) -> bool:
        if expires is None or not sig or expires < self._now():
            return False
        return hmac.compare_digest(self._sign(photo_id, variant, expires, restricted), sig)

    def public_url(self, photo_id: str) -> str | None:
        if not self.public_base_url:
            return None
        return self.public_base_url + self.path(photo_id, "display", lifetime=FETCH_LIFETIME_SECONDS)
