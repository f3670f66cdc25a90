"""Kept answers: public reads that are the same bytes for every caller until
another version of the responsibility list takes effect (GET
/api/v1/categories, GET /api/v1/labels: the mini-program asks for both at
every launch).

Their view builds the answer once per version (``KeptAnswers.body``) and
the bytes are kept. While the version they were built for is in effect,
the next requests for them are answered here, ahead of Flask: Flask's
request context, routing, hooks and response object were 45 % of such a
request's CPU (py-spy), for bytes already made. What those hooks do for
every request is done here too, by the same functions:

- the request's id (the caller's ``X-Request-ID`` when sane, else a new
  one) goes back in ``X-Request-ID``, where gunicorn's access line reads it;
- the request is timed in the same ``http_request_duration_seconds`` series as the
  view's (its rule, the method, the status);
- like every request, it gives way to its process's writer (``WriterGate``).

The status, headers and body are the view's (tests compare both ways).
Anything else goes to Flask as before: another method (HEAD, OPTIONS), a
request with a body, a path spelled otherwise, an answer not built yet or
built for a version no longer in effect (the view then builds the new one),
and a route a rate limit applies to (never kept).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, request

from app.logs import ENVIRON_HEADER, HEADER, new_request_id, sane_request_id
from app.metrics import instruments
from routing import CountyConfig

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON = "application/json"


class KeptAnswers:
    """The answers kept per path, and the WSGI layer that serves them."""

    def __init__(
        self, inner: WSGIApp, in_effect: Callable[[], CountyConfig], give_way: Callable[[], None]
    ) -> None:
        self._inner = inner
        self._in_effect = in_effect
        self._give_way = give_way
        # path -> (the version it was built for, the body, its length as a header value, the route)
        self._kept: dict[str, tuple[CountyConfig, bytes, str, str]] = {}
        self._lock = threading.Lock()

    def body(self, county: CountyConfig, build: Callable[[], bytes], keep: bool = True) -> bytes:
        """The view's body for this request's path and version: the kept one,
        or built (and kept, unless ``keep`` is false)."""
        kept = self._kept.get(request.path)
        if kept is not None and kept[0] is county:
            return kept[1]
        body = build()
        if keep and request.url_rule is not None:
            with self._lock:
                self._kept[request.path] = (county, body, str(len(body)), request.url_rule.rule)
        return body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        kept = self._kept.get(environ.get("PATH_INFO", ""))
        if (
            kept is None
            or environ["REQUEST_METHOD"] != "GET"
            or environ.get("CONTENT_LENGTH", "") not in ("", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            return self._inner(environ, start_response)
        started = time.perf_counter()
        self._give_way()
        if kept[0] is not self._in_effect():
            return self._inner(environ, start_response)
        request_id = sane_request_id(environ.get(ENVIRON_HEADER)) or new_request_id()
        start_response("200 OK", [("Content-Type", JSON), ("Content-Length", kept[2]), (HEADER, request_id)])
        instruments().http_series(kept[3], "GET", 200).observe(time.perf_counter() - started)
        return [kept[1]]


def init_kept_answers(
    app: Flask, in_effect: Callable[[], CountyConfig], give_way: Callable[[], None]
) -> None:
    """The layer goes in front of the application's own WSGI callable."""
    kept = KeptAnswers(app.wsgi_app, in_effect, give_way)
    app.extensions["kept_answers"] = kept
    app.wsgi_app = kept  # type: ignore[method-assign]


def kept_json(county: CountyConfig, build: Callable[[], bytes]) -> Response:
    """A view's JSON answer, built once per version of the list and then
    kept, unless a rate limit may apply to the route."""
    from app.api.limits import limit_applies

    kept: KeptAnswers = current_app.extensions["kept_answers"]
    return Response(kept.body(county, build, keep=not limit_applies()), content_type=JSON)
