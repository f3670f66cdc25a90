"""Waking the outbox sender: the web process announces committed outbox rows
(Redis pub/sub when ``REDIS_URL`` is set, else PostgreSQL NOTIFY), and the
worker waits on the same channel instead of polling; its timer is only the
fallback. Implements ``handlers.ports.OutboxWaker`` for the announcing side.

Either side may lose its dependency for a while: the announcer then stays
quiet (the worker's timer finds the rows) and asks again with backoff; the
worker's ``listen`` loop reconnects with backoff, logs the outage once and its
end once, and sends at once after reconnecting, for what was announced while
it was away.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.dependencies import DATABASE, FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, REDIS, Outage, dependency_away
from handlers.retry import backoff_seconds

log = logging.getLogger(__name__)

CHANNEL = "cases_outbox"


def _quietly(outage: Outage, announce: Callable[[], None]) -> Callable[[], None]:
    """An announcer that never raises: an outage is noted (and the next tries
    spaced out), the timer is the fallback."""

    def wake() -> None:
        if not outage.should_try():
            return
        try:
            announce()
        except Exception as exc:  # noqa: BLE001 - the worker's timer is the fallback
            if dependency_away(exc) is None:
                log.warning("could not announce new outbox rows", exc_info=True)
            outage.failed(exc)
            return
        outage.recovered()

    return wake


def make_announcer(redis: Any, engine: Engine, outages: dict[str, Outage]) -> Callable[[], None] | None:
    """What the web process calls after committing outbox rows; None when
    neither Redis nor PostgreSQL can carry it (the timer does)."""
    if redis is not None:
        return _quietly(outages[REDIS], lambda: redis.publish(CHANNEL, b"1"))
    if engine.dialect.name == "postgresql":
        # Outside a transaction: the NOTIFY alone, not BEGIN, NOTIFY, COMMIT.
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

        def notify() -> None:
            with autocommit.connect() as conn:
                conn.exec_driver_sql(f"NOTIFY {CHANNEL}")

        return _quietly(outages[DATABASE], notify)
    return None


def listener_kind(redis: Any, engine: Engine) -> str:
    if redis is not None:
        return "redis"
    return "postgres" if engine.dialect.name == "postgresql" else "timer"


class Listener:
    """One connection that blocks until new outbox rows are announced or a
    timeout passes; raises when its connection is lost."""

    def __init__(self, redis: Any, engine: Engine):
        self.kind = listener_kind(redis, engine)
        self._pubsub: Any = None
        self._conn: Any = None
        if self.kind == "redis":
            self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(CHANNEL)
        elif self.kind == "postgres":
            import psycopg

            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            # Keepalives find a server that vanished without closing the socket.
            self._conn = psycopg.connect(
                url, autocommit=True, connect_timeout=5, keepalives=1, keepalives_idle=10, keepalives_count=3
            )
            self._conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Whether an announcement came within ``timeout`` seconds."""
        if self.kind == "redis":
            return self._pubsub.get_message(timeout=timeout) is not None
        got = any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        if not got:
            self._conn.execute("SELECT 1")  # a dead connection raises here, not never
        return got

    def close(self) -> None:
        for connection in (self._pubsub, self._conn):
            if connection is not None:
                with contextlib.suppress(Exception):  # it is gone already
                    connection.close()


def listen(
    redis: Any,
    engine: Engine,
    outage: Outage,
    interval: float,
    send: Callable[[], None],
    stop: threading.Event,
) -> None:
    """Run ``send`` whenever outbox rows are announced, until ``stop``; the
    connection is made again (with backoff) whenever it is lost."""
    listener: Listener | None = None
    mistakes = 0
    while not stop.is_set():
        try:
            if listener is None:
                listener = Listener(redis, engine)
                outage.recovered()
                send()  # what was announced while we were not listening
            if listener.wait(interval):
                send()
            mistakes = 0
        except Exception as exc:  # noqa: BLE001 - reconnect below, whatever it was
            if listener is not None:
                listener.close()
                listener = None
            if dependency_away(exc) is not None:
                outage.pause(outage.failed(exc), stop)
                continue
            mistakes += 1
            log.exception("wake-up listener failed; reconnecting")
            stop.wait(backoff_seconds(mistakes, FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS))
    if listener is not None:
        listener.close()
