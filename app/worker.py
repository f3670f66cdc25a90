"""Background work: the escalation sweep, the outbox sender, auto-closing.

``flask --app app worker`` runs the jobs in the foreground; with
``SCHEDULER_ENABLED=1`` the web process runs them itself. Any number of
workers may run: each job takes a lease so idle workers skip it, and every
step it takes is guarded by a unique row, so nothing happens twice.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from handlers.locks import try_lease

log = logging.getLogger("app.worker")


class Jobs:
    """The jobs of one worker process, each calling one handler."""

    def __init__(self, services: Any):
        self.services = services
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake = threading.Event()
        self._sending = threading.Lock()

    def _leased(self, name: str, ttl: float, job: Callable[[], Any]) -> Any:
        if not try_lease(self.services.db, name, self.holder, self.services.clock.now(), ttl):
            return None
        return job()

    def sweep(self) -> Any:
        from handlers.supervision.escalation import sweep

        interval = self.services.settings.escalation_interval_seconds
        # The lease outlives one tick, so a killed leader delays the ladder by
        # at most two intervals; the unique rows keep an overlap harmless.
        return self._leased("escalation", max(3, interval * 2 + 1), lambda: sweep(self.services.context()))

    def send(self) -> Any:
        from handlers.notifications.sender import send_due

        # The timer and the wake-up listener share one sender per process.
        with self._sending:
            return send_due(self.services.context(), self.holder)

    def close(self) -> Any:
        from handlers.cases.closing import close_expired

        return self._leased("auto-close", 120, lambda: close_expired(self.services.context()))

    def check_photos(self) -> Any:
        """WeChat's image check of new photos (queued like notifications)."""
        from handlers.cases.photo_checks import send_due_photo_checks

        return self._leased("photo-checks", 60, lambda: send_due_photo_checks(self.services.context()))

    def tidy_photos(self) -> Any:
        """Photos never attached to a case, 24 hours on."""
        from handlers.cases.photo_checks import remove_unattached_photos

        return self._leased("photo-tidy", 600, lambda: remove_unattached_photos(self.services.context()))

    def on_wakeup(self) -> None:
        """New outbox rows or photos were committed."""
        self._safely(self.send)
        self._safely(self.check_photos)

    def run_all_once(self) -> None:
        for job in (self.sweep, self.close, self.send, self.check_photos, self.tidy_photos):
            self._safely(job)

    def _safely(self, job: Callable[[], Any]) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - a failed run is retried on the next tick
            log.exception("job %s failed", getattr(job, "__name__", job))


def build_scheduler(jobs: Jobs) -> BackgroundScheduler:
    settings = jobs.services.settings
    scheduler = BackgroundScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(
        jobs._safely,
        "interval",
        args=[jobs.sweep],
        seconds=settings.escalation_interval_seconds,
        id="sweep",
        **common,
    )
    scheduler.add_job(jobs._safely, "interval", args=[jobs.close], seconds=300, id="close", **common)
    scheduler.add_job(jobs._safely, "interval", args=[jobs.tidy_photos], seconds=600, id="tidy", **common)
    scheduler.add_job(
        jobs._safely,
        "interval",
        args=[jobs.check_photos],
        seconds=settings.outbox_interval_seconds,
        id="check-photos",
        **common,
    )
    scheduler.add_job(
        jobs._safely,
        "interval",
        args=[jobs.send],
        seconds=settings.outbox_interval_seconds,
        id="send",
        **common,
    )
    return scheduler


def _listen_for_wakeups(jobs: Jobs, stop: threading.Event) -> None:
    """Send as soon as new notifications are committed, instead of polling hard."""
    from app.wakeup import Listener

    services = jobs.services
    listener: Listener | None = None
    while not stop.is_set():
        try:
            if listener is None:
                listener = Listener(services.settings.redis_url, services.db.engine)
            if listener.wait(services.settings.outbox_interval_seconds, stop):
                jobs.on_wakeup()
        except Exception:  # noqa: BLE001
            log.exception("wake-up listener failed; retrying")
            stop.wait(1)


def run_worker(app: Flask, once: bool = False) -> None:
    services = app.extensions["services"]
    services.settings.safe()  # a worker refuses weak secrets in production as the web does
    jobs = Jobs(services)
    if services.settings.clock_offset_seconds:
        log.warning("worker clock shifted by CLOCK_OFFSET_SECONDS=%s", services.settings.clock_offset_seconds)
    if once:
        jobs.run_all_once()
        return
    stop = threading.Event()
    scheduler = build_scheduler(jobs)
    scheduler.start()
    listener = threading.Thread(
        target=_listen_for_wakeups, args=(jobs, stop), daemon=True, name="outbox-wake"
    )
    listener.start()
    log.warning("worker %s started", jobs.holder)
    jobs.run_all_once()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.warning("worker %s stopped", jobs.holder)


def start_in_web_process(app: Flask) -> None:
    """SCHEDULER_ENABLED=1: one process runs the API and the jobs (developer setup)."""
    services = app.extensions["services"]
    jobs = Jobs(services)
    services.on_outbox_write(lambda: threading.Thread(target=jobs.on_wakeup, daemon=True).start())
    scheduler = build_scheduler(jobs)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
