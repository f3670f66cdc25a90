"""What a handler is given: the unit of work, the clock, the county's
configuration and the ports it may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.db import UnitOfWork
from handlers.ports import (
    Clock,
    MiniProgramAPI,
    OutboxWaker,
    PhotoLinker,
    PhotoProcessor,
    PhotoStore,
    SeenStamps,
    WeComAPI,
)
from routing import CountyConfig


def _nobody() -> None:
    """No sender to wake (a command-line run; the worker's timer finds the rows)."""


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

    def now(self) -> datetime:
        return self.clock.now()
