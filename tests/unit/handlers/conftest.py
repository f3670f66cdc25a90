"""Handlers on an in-memory SQLite unit of work with fake ports: no HTTP
server, no subprocess, no files. The county is the shipped file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import count

import pytest
from sqlalchemy.pool import StaticPool

from app.clock import FixedClock
from app.db import Database
from app.models import Base, User
from app.settings import ROOT
from handlers.accounts import bind_staff, invite_staff
from handlers.context import Context
from handlers.seed import seed_reference
from routing import CountyConfig, load_config
from tests.fakes import (
    CountingWaker,
    FakeMiniProgram,
    FakePhotoLinks,
    FakeWeCom,
    MemoryPhotoStore,
    MemoryStamps,
    fake_processor,
)

_codes = count(1)
# A Tuesday morning, county time 10:00.
START = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)


@cache
def county() -> CountyConfig:
    return load_config(ROOT / "config" / "county.yaml")


@dataclass
class World:
    """A context and its fakes, as a test sees them."""

    ctx: Context
    db: Database
    clock: FixedClock
    wechat: FakeMiniProgram
    wecom: FakeWeCom
    photos: MemoryPhotoStore
    waker: CountingWaker
    stamps: MemoryStamps
    links: FakePhotoLinks

    def user(self, name: str, department: str | None = None, role: str = "handler") -> User:
        """A resident, or staff of ``department`` bound by a one-time code."""
        from handlers.accounts import login_with_wechat

        user = login_with_wechat(self.ctx, f"user-{name}:{next(_codes)}")
        if department is None:
            return user
        code, _ = invite_staff(self.ctx, department, role)
        return bind_staff(self.ctx, user.id, code)


@pytest.fixture
def world() -> Iterator[World]:
    db = Database("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(db.engine)
    clock = FixedClock(START)
    wechat, wecom, photos, waker = FakeMiniProgram(), FakeWeCom(), MemoryPhotoStore(), CountingWaker()
    stamps, links = MemoryStamps(), FakePhotoLinks()
    ctx = Context(
        uow=db.uow,
        clock=clock,
        county=county(),
        photos=photos,
        process_photo=fake_processor,
        wechat=wechat,
        photo_links=links,
        seen_stamps=stamps,
        wecom=wecom,
        wake_outbox=waker,
    )
    seed_reference(ctx)
    yield World(ctx, db, clock, wechat, wecom, photos, waker, stamps, links)
    db.dispose()
