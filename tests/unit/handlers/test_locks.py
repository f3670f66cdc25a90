"""handlers/locks.py: leases that let one worker at a time run a job."""

from __future__ import annotations

from datetime import timedelta

from app.models import JobLock
from handlers.locks import release, try_lease
from tests.unit.handlers.conftest import START, World


def _holder(world: World, name: str = "sweep") -> tuple[str, object]:
    lock = world.one(JobLock, JobLock.name == name)
    assert lock is not None
    return lock.holder, lock.expires_at


def test_the_first_worker_takes_the_lease_and_others_wait(world: World) -> None:
    assert try_lease(world.db, "sweep", "worker-a", START, 60) is True
    assert try_lease(world.db, "sweep", "worker-b", START + timedelta(seconds=30), 60) is False
    assert _holder(world) == ("worker-a", START + timedelta(seconds=60))


def test_the_holder_renews_its_own_lease(world: World) -> None:
    try_lease(world.db, "sweep", "worker-a", START, 60)
    assert try_lease(world.db, "sweep", "worker-a", START + timedelta(seconds=50), 60) is True
    assert _holder(world) == ("worker-a", START + timedelta(seconds=110))
    assert try_lease(world.db, "sweep", "worker-b", START + timedelta(seconds=100), 60) is False


def test_an_expired_lease_passes_to_the_next_worker(world: World) -> None:
    try_lease(world.db, "sweep", "worker-a", START, 60)
    assert try_lease(world.db, "sweep", "worker-b", START + timedelta(seconds=61), 60) is True
    assert _holder(world)[0] == "worker-b"
    assert try_lease(world.db, "sweep", "worker-a", START + timedelta(seconds=62), 60) is False


def test_a_released_lease_is_free_at_once_but_only_its_holder_releases_it(world: World) -> None:
    try_lease(world.db, "sweep", "worker-a", START, 60)
    release(world.db, "sweep", "worker-b")
    assert try_lease(world.db, "sweep", "worker-b", START + timedelta(seconds=1), 60) is False
    release(world.db, "sweep", "worker-a")
    assert try_lease(world.db, "sweep", "worker-b", START + timedelta(seconds=1), 60) is True


def test_each_job_has_its_own_lease(world: World) -> None:
    assert try_lease(world.db, "sweep", "worker-a", START, 60) is True
    assert try_lease(world.db, "outbox", "worker-b", START, 60) is True
    assert world.count(JobLock) == 2
