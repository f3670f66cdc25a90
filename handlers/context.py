"""What a handler is given: the unit of work, the clock, the county's
configuration (the version of the responsibility list in effect, and the way
to any other version) and the ports it may use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from app.db import UnitOfWork
from handlers.ports import (
    Clock,
    Metrics,
    MiniProgramAPI,
    OutboxWaker,
    PhotoLinker,
    PhotoProcessor,
    PhotoStore,
    RoutingVersions,
    SeenStamps,
    WeComAPI,
)
from routing import CountyConfig


def _nobody() -> None:
    """No sender to wake (a command-line run; the worker's timer finds the rows)."""


class NoMetrics:
    """Counts nothing (command-line runs, tests that do not look)."""

    def case_filed(self, category: str) -> None:
        pass

    def notification_sent(self, channel: str) -> None:
        pass

    def notification_failed(self, reason: str) -> None:
        pass

    def escalated(self, step: str, count: int = 1) -> None:
        pass

    def sweep_took(self, seconds: float) -> None:
        pass


@dataclass
class Context:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    county: CountyConfig
    # Outside services: real adapters chosen by configuration (app/services.py),
    # in-memory fakes in the handlers' unit tests (tests/fakes.py).
    photos: PhotoStore
    process_photo: PhotoProcessor
    wechat: MiniProgramAPI
    photo_links: PhotoLinker
    # Signed WeChat pushes already accepted (replays are refused).
    seen_stamps: SeenStamps
    wecom: WeComAPI | None = None
    # Called after a commit that wrote outbox rows, to wake the sender.
    wake_outbox: OutboxWaker = _nobody
    # How long a sender's claim on a notification lasts before another may retry it.
    outbox_lease_seconds: int = 60
    # Every published version of the responsibility list; ``county`` is the one
    # in effect when this context was made. None: ``county`` is the only one.
    routing: RoutingVersions | None = None
    # What the operators count, told after each commit (app/metrics.py).
    metrics: Metrics = field(default_factory=NoMetrics)
    # A unit of work that only reads (on SQLite: no write lock, so readers
    # never queue behind a filing; they only give way, 50 ms at most, to a
    # writer of their own process mid-transaction). None: reads use ``uow``.
    reader: Callable[[], UnitOfWork] | None = None
    # A Core connection that only reads (app/db.py Database.reading, or a
    # request's RequestReader), for a statement or two without an ORM
    # session. None: the connection of ``read``.
    connect_reader: Callable[[], AbstractContextManager[Connection]] | None = None

    def read(self) -> UnitOfWork:
        """A unit of work for a query: it must not write."""
        return self.reader() if self.reader is not None else self.uow()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a query in Core: it must not write."""
        if self.connect_reader is not None:
            with self.connect_reader() as conn:
                yield conn
            return
        with self.read() as uow:
            yield uow.session.connection()

    def now(self) -> datetime:
        return self.clock.now()

    def county_of(self, version: str) -> CountyConfig:
        """The version a case was routed under: its clocks, ladders and
        categories stay that version's when a newer one takes effect."""
        if version == self.county.version or self.routing is None:
            return self.county
        return self.routing.named(version) or self.county
