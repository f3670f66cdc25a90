"""What a handler is given: the unit of work and the ports it may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.clock import Clock
from app.db import UnitOfWork

if TYPE_CHECKING:
    from routing import CountyConfig


@dataclass
class Context:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    county: CountyConfig
    # Outside services, each with a real and a fake implementation chosen by
    # configuration (app/services.py builds them).
    photos: Any = None  # app.photos.PhotoStorage
    wechat: Any = None  # app.wechat.MiniProgram
    wecom: Any = None  # app.wechat.WeCom
    # Called after a commit that wrote outbox rows, to wake the sender.
    wake_outbox: Callable[[], None] = lambda: None
    # How long a sender's claim on a notification lasts before another may retry it.
    outbox_lease_seconds: int = 60

    def now(self) -> datetime:
        return self.clock.now()
