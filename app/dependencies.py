"""The database and Redis going away and coming back.

- ``dependency_away(exc)``: which dependency an error says is unreachable
  (``database``, ``redis``), or None for an error that is a bug of ours. The
  web edge answers the first kind with a 503; workers wait and retry.
- ``Outage``: one dependency's state in a process. The first
  failure logs one warning (no traceback), the first success after it one
  line saying it is back; in between, callers ask ``should_try()`` and wait
  with a capped exponential backoff with jitter instead of hammering it.
- ``redis_client(url)``: the one way a process makes its Redis client, with
  short timeouts and one immediate retry (a connection the restart killed),
  so a Redis that is away costs a request milliseconds, not seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.db import database_away
from handlers.retry import backoff_seconds

log = logging.getLogger("app.dependencies")

DATABASE = "database"
REDIS = "redis"
# Reconnecting: 0.25 s doubling, capped at 4 s (±20 %): a dependency that is
# back is used again within seconds, one that is away is asked a few times a
# second at first and then every few seconds.
FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 4.0


def redis_away(exc: BaseException) -> bool:
    from redis import exceptions

    return isinstance(exc, exceptions.ConnectionError | exceptions.TimeoutError | exceptions.ReadOnlyError)


def dependency_away(exc: BaseException) -> str | None:
    """``database`` or ``redis`` when ``exc`` (or the error it was raised
    from) means that dependency cannot be reached now; None otherwise."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            break
        if database_away(seen):
            return DATABASE
        if redis_away(seen):
            return REDIS
        seen = seen.__cause__
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


class Outage:
    """One dependency as this process sees it: up, or away since when."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._back = threading.Event()
        self._back.set()
        self.since: float | None = None
        self.failures = 0
        self._next_try = 0.0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> float:
        """Note a failure; answers how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            if self.since is None:
                self.since = now
                self._back.clear()
                log.warning("%s unavailable, retrying with backoff: %s", self.name, first_line(exc))
            self.failures += 1
            wait = backoff_seconds(self.failures, FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS)
            self._next_try = now + wait
            return wait

    def recovered(self) -> None:
        if self.since is None:  # the common case: no lock, no log
            return
        with self._lock:
            if self.since is None:
                return
            log.info("%s available again after %.1f s", self.name, self._clock() - self.since)
            self.since, self.failures, self._next_try = None, 0, 0.0
            self._back.set()

    def should_try(self) -> bool:
        """Whether a caller that can skip (a timer's tick) should try now."""
        return self.since is None or self._clock() >= self._next_try

    def pause(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Wait ``seconds``, less if the dependency is seen back or ``stop`` is set."""
        deadline = time.monotonic() + seconds
        while not (stop is not None and stop.is_set()):
            left = deadline - time.monotonic()
            if left <= 0 or self._back.wait(min(left, 0.1)):
                return


def redis_client(url: str) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_connect_timeout=1,
        socket_timeout=2,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
    )


def check_dependencies(services: Any) -> dict[str, str]:
    """``{"database": "up"|"down", "redis": ...}`` (Redis only when configured);
    a dependency found down is noted as an outage (logged once)."""
    from sqlalchemy import text

    def database() -> None:
        with services.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    checks: dict[str, Callable[[], Any]] = {DATABASE: database}
    if services.redis is not None:
        checks[REDIS] = services.redis.ping
    report = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            if dependency_away(exc) is None:
                log.warning("health check of %s failed", name, exc_info=True)
            services.outages[name].failed(exc)
            report[name] = "down"
        else:
            services.outages[name].recovered()
            report[name] = "up"
    return report
