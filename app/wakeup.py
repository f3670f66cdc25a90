"""Waking the outbox sender: the web process announces committed outbox rows
(Redis pub/sub when ``REDIS_URL`` is set, else PostgreSQL NOTIFY), and the
worker waits on the same channel instead of polling; its timer is only the
fallback. Implements ``handlers.ports.OutboxWaker`` for the announcing side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

CHANNEL = "cases_outbox"


def make_announcer(redis_url: str, engine: Engine) -> Callable[[], None] | None:
    """What the web process calls after committing outbox rows; None when
    neither Redis nor PostgreSQL can carry it (the timer does)."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2)

        def wake_redis() -> None:
            try:
                client.publish(CHANNEL, b"1")
            except Exception:  # noqa: BLE001 - the worker's timer is the fallback
                log.warning("could not publish outbox wake-up", exc_info=True)

        return wake_redis
    if engine.dialect.name == "postgresql":

        def wake_pg() -> None:
            try:
                with engine.connect() as conn:
                    conn.execute(text(f"NOTIFY {CHANNEL}"))
                    conn.commit()
            except Exception:  # noqa: BLE001
                log.warning("could not NOTIFY the outbox", exc_info=True)

        return wake_pg
    return None


class Listener:
    """Blocks until new outbox rows are announced or a timeout passes."""

    def __init__(self, redis_url: str, engine: Engine):
        self.kind = "timer"
        self._pubsub: Any = None
        self._conn: Any = None
        if redis_url:
            import redis

            self._pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(CHANNEL)
            self.kind = "redis"
        elif engine.dialect.name == "postgresql":
            import psycopg

            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._conn = psycopg.connect(url, autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
            self.kind = "postgres"

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Whether to run the sender now (woken, or the timer ran out)."""
        if self.kind == "redis":
            return self._pubsub.get_message(timeout=timeout) is not None
        if self.kind == "postgres":
            got = False
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                got = True
            return got
        stop.wait(timeout)
        return True
