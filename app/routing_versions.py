"""The versions of the responsibility list as one process knows them.

Every web and worker process asks which version is in effect at most every
``check_seconds`` (5 s): one indexed query on a tiny table, never one per
request. A version's document never changes once published, so each is
parsed once per process and kept. A new version thus routes new cases in
every process within seconds of its ``effective_from``, without a restart.
An empty table gets the ``CASES_CONFIG`` file as its first version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.db import UnitOfWork
from handlers.admin.routing import record_first_version, stored_document, version_in_effect
from routing import CountyConfig, parse_document
from routing.config import read_text

log = logging.getLogger(__name__)


class CountyVersions:
    """``handlers.ports.RoutingVersions`` over the ``routing_versions`` table."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        read: Callable[[], UnitOfWork],
        now: Callable[[], datetime],
        first_document: str,
        check_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        # Lookups read only, so a handler inside its own transaction may ask
        # for a version (SQLite: no second write lock in the same thread).
        self._uow, self._read = uow, read
        self._now = now
        self._first_document = first_document  # the CASES_CONFIG path
        self.check_seconds = check_seconds
        self._monotonic = monotonic  # the interval's clock (a test steps it)
        self._parsed: dict[str, CountyConfig] = {}
        self._current: str | None = None
        self._checked = float("-inf")
        self._lock = threading.RLock()

    def in_effect(self) -> CountyConfig:
        with self._lock:
            if self._current is None or self._monotonic() - self._checked >= self.check_seconds:
                self._look()
            assert self._current is not None
            return self._parsed[self._current]

    def named(self, version: str) -> CountyConfig | None:
        with self._lock:
            if version not in self._parsed:
                with self._read() as uow:
                    text = stored_document(uow.session, version)
                if text is None:
                    return None
                self._parsed[version] = parse_document(text)
            return self._parsed[version]

    def changed(self) -> None:
        with self._lock:
            self._checked = float("-inf")

    def _look(self) -> None:
        try:
            name = self._current_name()
        except SQLAlchemyError:
            if self._current is None:
                raise
            # The database is away: keep routing by the version we know.
            log.warning("cannot look up the routing version in effect; keeping %s", self._current)
            self._checked = self._monotonic()
            return
        if self.named(name) is None:
            raise LookupError(f"routing version {name} vanished")
        if name != self._current:
            log.info("routing version in effect: %s", name)
        self._current, self._checked = name, self._monotonic()

    def _current_name(self) -> str:
        with self._read() as uow:
            name = version_in_effect(uow.session, self._now())
        if name is not None:
            return name
        text = read_text(self._first_document)
        try:
            with self._uow() as uow:
                name = record_first_version(uow.session, text, self._now())
                uow.commit()
        except IntegrityError:  # another process recorded it first
            with self._uow() as uow:
                name = version_in_effect(uow.session, self._now())
        assert name is not None
        return name
