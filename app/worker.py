"""Background work: the escalation sweep, the outbox sender, auto-closing.

``flask --app app worker`` runs the jobs in the foreground; with
``SCHEDULER_ENABLED=1`` the web process runs them itself. Any number of
workers may run: each job takes a lease so idle workers skip it, and every
step it takes is guarded by a unique row, so nothing happens twice.

When the database or Redis goes away the worker keeps running: a job that
finds it away logs the outage once (no traceback) and the timer's next runs
wait with backoff until it answers again; the wake-up listener reconnects by
itself (``app/wakeup.py``).
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

from app.dependencies import DATABASE, REDIS, dependency_away
from handlers.locks import try_lease

log = logging.getLogger("app.worker")


class Jobs:
    """The jobs of one worker process, each calling one handler."""

    def __init__(self, services: Any):
        self.services = services
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # One sender per process: a wake-up or a tick while it runs asks it
        # to go round once more, and returns at once.
        self._sending = threading.Lock()
        self._wanted = threading.Event()
        self._background: threading.Thread | None = None

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

    def run_all_once(self) -> None:
        for job in (self.sweep, self.close, self.check_photos, self.tidy_photos):
            self._safely(job)
        self.send_now()

    def _safely(self, job: Callable[[], Any], gate: bool = True) -> None:
        """Run ``job``; a failure is retried on a later tick. While the
        database is away a gated run (a timer's tick) is skipped until its
        backoff has passed; a wake-up is never skipped (a commit just proved
        the database answers)."""
        from app.logs import request_scope

        outages = self.services.outages
        if gate and not outages[DATABASE].should_try():
            return
        name = getattr(job, "__name__", "job")
        try:
            # One id per run: its lines and the outbox rows it writes carry it.
            with request_scope(f"job-{name}-{uuid.uuid4().hex[:12]}"):
                job()
        except Exception as exc:  # noqa: BLE001 - a failed run is retried on the next tick
            away = dependency_away(exc)
            if away is None:
                log.exception("job %s failed", getattr(job, "__name__", job))
            else:
                outages[away].failed(exc)

    def send_now(self, gate: bool = False) -> None:
        """Send what is due, here, or have the send that is running go round
        once more."""
        self._wanted.set()
        if self._sending.acquire(blocking=False):
            self._send_rounds(gate)

    def send_on_tick(self) -> None:
        self.send_now(gate=True)

    def wake(self) -> None:
        """New rows were announced: send in the background, so the caller (the
        wake-up listener) is back listening at once and notices a lost
        connection whatever the sender is doing (it may be holding a record
        while the database is away)."""
        self._wanted.set()
        if self._sending.acquire(blocking=False):
            self._background = threading.Thread(
                target=self._send_rounds, args=(False,), daemon=True, name="outbox-send"
            )
            self._background.start()

    def _send_rounds(self, gate: bool) -> None:
        """Holding the sending lock: send until nobody asks again, then let go."""
        while True:
            try:
                while self._wanted.is_set():
                    self._wanted.clear()
                    self._safely(self.send, gate=gate)
                    self._safely(self.check_photos, gate=gate)  # uploads wake the worker too
                    gate = False  # asked again meanwhile: by a wake-up, or a tick that waited
            finally:
                self._sending.release()
            # Asked between the last round and the release: go round again.
            if not (self._wanted.is_set() and self._sending.acquire(blocking=False)):
                return

    def finish(self, timeout: float) -> None:
        """Let a send running in the background end (it may hold a record)."""
        if self._background is not None:
            self._background.join(timeout)


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
        jobs.send_on_tick, "interval", seconds=settings.outbox_interval_seconds, id="send", **common
    )
    return scheduler


def _listen_for_wakeups(jobs: Jobs, stop: threading.Event) -> None:
    """Send as soon as new notifications are committed, instead of polling hard."""
    from app.wakeup import listen

    services = jobs.services
    outage = services.outages[REDIS if services.redis is not None else DATABASE]
    interval = services.settings.outbox_interval_seconds
    listen(services.redis, services.db.engine, outage, interval, jobs.wake, stop)


def _log_to_stderr() -> None:
    """The worker's own lines (outages, their end) on stderr, unless logging
    was set up already; the scheduler's per-run chatter stays out."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_worker(app: Flask, once: bool = False) -> None:
    from app.wakeup import listener_kind

    _log_to_stderr()
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
    if listener_kind(services.redis, services.db.engine) != "timer":
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
    jobs.finish(timeout=services.settings.outbox_lease_seconds)
    log.warning("worker %s stopped", jobs.holder)


def start_in_web_process(app: Flask) -> None:
    """SCHEDULER_ENABLED=1: one process runs the API and the jobs (developer setup)."""
    services = app.extensions["services"]
    jobs = Jobs(services)
    services.on_outbox_write(jobs.wake)
    scheduler = build_scheduler(jobs)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    app.extensions["jobs"] = jobs


def stop_in_web_process(app: Flask, timeout: float = 10.0) -> None:
    """Stop the jobs ``start_in_web_process`` started: the scheduler, then a
    send running in the background (it holds a database connection until it
    ends, so the pool is closed only after it)."""
    app.extensions["scheduler"].shutdown(wait=True)
    app.extensions["jobs"].finish(timeout)
