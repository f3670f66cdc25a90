"""Rate limits with Flask-Limiter: per user, counted in Redis when
``REDIS_URL`` is set (every process and host shares the count), in this
process's memory otherwise. A refusal is a 429 with a Chinese message."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name

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


def _limited(endpoint: str) -> bool:
    """Whether a limit may apply to the endpoint's requests: a limit of the
    whole application, a default or a blueprint's, or one its view is
    decorated with (Flask-Limiter's own tests; Flask-Limiter==4.1.1)."""
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits or manager._blueprint_limits:
        return True
    if limiter._meta_limits:
        return True
    view = current_app.view_functions.get(endpoint)
    name = get_qualified_name(view) if view is not None else ""
    return name in limiter._marked_for_limiting or manager.has_hints(endpoint)


_LIMITED: dict[str, bool] = {}


def limit_applies() -> bool:
    """Whether a limit may apply to this request's endpoint (asked once per endpoint)."""
    endpoint = request.endpoint
    if endpoint is None:
        return True
    if endpoint not in _LIMITED:
        _LIMITED[endpoint] = _limited(endpoint)
    return _LIMITED[endpoint]


def _check_where_limited() -> None:
    """Flask-Limiter's check before every view, for the requests a limit may
    apply to: it resolves and evaluates the limits of every request, which
    was a quarter of a light request's time (GET /categories) for nothing."""
    if limit_applies():
        limiter._check_request_limit()


def _after_where_limited(inject: Callable[[Response], Response]) -> Callable[[Response], Response]:
    """Flask-Limiter's after-request (its headers, off here, and deductions
    on a condition, none here), for the requests a limit may apply to."""

    def after(response: Response) -> Response:
        return inject(response) if limit_applies() else response

    return after


def _teardown_where_limited(release: Callable[[BaseException | None], None]) -> Callable[..., None]:
    """Flask-Limiter's teardown (its request context reset), for the
    requests a limit may apply to: the others never made one."""

    def teardown(exc: BaseException | None = None) -> None:
        if limit_applies():
            release(exc)

    return teardown


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
    # Flask-Limiter's hooks run for every request; ours only where a limit may apply.
    before = app.before_request_funcs.setdefault(None, [])
    if limiter._check_request_limit in before:
        before[before.index(limiter._check_request_limit)] = _check_where_limited
    after = app.after_request_funcs.setdefault(None, [])
    for k, hook in enumerate(after):
        if (
            isinstance(hook, partial)
            and hook.args == (limiter,)
            and hook.func.__name__.endswith("inject_headers")
        ):
            after[k] = _after_where_limited(hook)
    # Its teardown makes the request's limiter context only to reset it.
    teardown = app.teardown_request_funcs.setdefault(None, [])
    release = limiter._Limiter__release_context  # type: ignore[attr-defined]
    if release in teardown:
        teardown[teardown.index(release)] = _teardown_where_limited(release)
    app.register_error_handler(RateLimitExceeded, _too_many)
