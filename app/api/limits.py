"""Rate limits with Flask-Limiter: per user, counted in Redis when
``REDIS_URL`` is set (every process and host shares the count), in this
process's memory otherwise. A refusal is a 429 with a Chinese message."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from app.api.errors import error
from app.api.security import authenticated_user
from handlers.errors import DomainError

UPLOADS_PER_MINUTE = 30
UPLOAD_LIMIT = f"{UPLOADS_PER_MINUTE} per minute"
UPLOAD_MESSAGE = f"上传太频繁：每人每分钟最多 {UPLOADS_PER_MINUTE} 张照片，请稍后再试"


def per_user() -> str:
    """The caller's user id; an unknown caller counts by address (and gets
    its 401 from the view)."""
    try:
        return f"user:{authenticated_user().id}"
    except DomainError:
        return f"address:{request.remote_addr or '-'}"


# Headers off: they would stamp a Retry-After on every answer of a limited
# route (a 503 included); the 429 sets its own.
limiter = Limiter(key_func=per_user, strategy="moving-window", headers_enabled=False)


def _too_many(exc: RateLimitExceeded) -> Response:
    response = error("rate_limited", exc.description or "操作太频繁，请稍后再试", 429)
    response.headers["Retry-After"] = "60"
    return response


def init_limits(app: Flask, redis_url: str) -> None:
    app.config.update(
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
        # Redis away: count in this process rather than fail the upload (the
        # limit guards against abuse; a Redis outage must not stop residents
        # sending evidence), and never let the limiter's own error through.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_KEY_PREFIX="cases",
    )
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
