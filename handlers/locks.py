"""Leases that let one worker at a time run a job, across processes and hosts.

Correctness never rests on them (each escalation step and each send is
guarded by its own row); they only keep idle workers from doing the same work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.models import JobLock


def try_lease(db: Database, name: str, holder: str, now: datetime, ttl_seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False if another holds it."""
    until = now + timedelta(seconds=ttl_seconds)
    with db.uow() as uow:
        taken = uow.session.execute(
            update(JobLock)
            .where(JobLock.name == name, or_(JobLock.holder == holder, JobLock.expires_at < now))
            .values(holder=holder, expires_at=until)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            uow.commit()
            return True
        uow.rollback()
    with db.uow() as uow:
        uow.session.add(JobLock(name=name, holder=holder, expires_at=until))
        try:
            uow.commit()
        except IntegrityError:
            return False
    return True


def release(db: Database, name: str, holder: str) -> None:
    with db.uow() as uow:
        uow.session.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        )
        uow.commit()
