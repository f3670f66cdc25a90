"""Handlers on an in-memory SQLite unit of work with fake ports: no HTTP
server, no subprocess, no files. The county is the shipped file.

The schema and the seed are built once per session in a template database;
each test gets a copy of it (sqlite3's backup API) in one shared in-memory
database, so the engine and its compiled-statement cache live for the whole
session and a test costs what its own handlers cost.
"""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import count
from typing import Any, Literal, TypeVar

import pytest
from sqlalchemy import ColumnElement, func, inspect, select
from sqlalchemy.pool import StaticPool

from app.clock import FixedClock
from app.db import Database
from app.models import Base, Case, CaseEvent, Community, Notification, User
from app.settings import ROOT
from handlers.accounts import bind_staff, invite_staff, login_with_wechat
from handlers.cases import handling
from handlers.cases.photos import upload_photo
from handlers.cases.submit import NewCase, submit_case
from handlers.context import Context
from handlers.seed import seed_reference
from routing import CountyConfig, load_config, parse_config, read_yaml
from tests.fakes import (
    CountingMetrics,
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
COUNTY_FILE = ROOT / "config" / "county.yaml"
# The demo community most tests file in (杨和镇, 宁苑物业, four stars).
HOME = "幸福里小区"

M = TypeVar("M", bound=Base)
Verdict = Literal["confirmed", "denied"]


@cache
def county() -> CountyConfig:
    return load_config(COUNTY_FILE)


@cache
def _county_file() -> dict[str, Any]:
    raw = read_yaml(COUNTY_FILE)
    assert isinstance(raw, dict)
    return raw


def county_with(**sections: Any) -> CountyConfig:
    """The shipped county with some sections of its file replaced, checked
    as ``routing check`` would check them."""
    return parse_config(copy.deepcopy(_county_file()) | sections)


def _context(db: Database, clock: FixedClock) -> Context:
    return Context(
        uow=db.uow,
        reader=db.read,
        clock=clock,
        county=county(),
        photos=MemoryPhotoStore(),
        process_photo=fake_processor,
        wechat=FakeMiniProgram(),
        photo_links=FakePhotoLinks(),
        seen_stamps=MemoryStamps(),
        wecom=FakeWeCom(),
        wake_outbox=CountingWaker(),
        metrics=CountingMetrics(),
    )


def _copy(source: Database, target: Database) -> None:
    """Replace ``target``'s whole content with ``source``'s."""
    src, dst = source.engine.raw_connection(), target.engine.raw_connection()
    try:
        assert isinstance(src.driver_connection, sqlite3.Connection)
        assert isinstance(dst.driver_connection, sqlite3.Connection)
        src.driver_connection.backup(dst.driver_connection)
    finally:
        src.close()
        dst.close()


@cache
def _template() -> Database:
    """The schema and the shipped county's reference data, built once."""
    db = Database("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(db.engine)
    seed_reference(_context(db, FixedClock(START)))
    return db


@cache
def _shared() -> Database:
    """The one database every test runs on, refilled from the template before each."""
    return Database("sqlite://", poolclass=StaticPool)


@dataclass
class World:
    """A context and its fakes, as a test sees them, with small factories."""

    ctx: Context
    db: Database
    clock: FixedClock
    wechat: FakeMiniProgram
    wecom: FakeWeCom
    photos: MemoryPhotoStore
    waker: CountingWaker
    stamps: MemoryStamps
    links: FakePhotoLinks
    metrics: CountingMetrics

    # -- people ------------------------------------------------------------------------

    def user(self, name: str, department: str | None = None, role: str = "handler") -> User:
        """A resident, or staff of ``department`` bound by a one-time code."""
        user = login_with_wechat(self.ctx, f"user-{name}:{next(_codes)}")
        if department is None:
            return user
        code, _ = invite_staff(self.ctx, department, role)
        return bind_staff(self.ctx, user.id, code)

    # -- cases -------------------------------------------------------------------------

    def community(self, name: str = HOME) -> Community:
        found = self.one(Community, Community.name == name)
        assert found is not None, name
        return found

    def file(
        self,
        reporter_id: int,
        category: str = "dog_unleashed",
        community: str = HOME,
        key: str | None = None,
        **fields: Any,
    ) -> Case:
        """A case filed through ``submit_case``, as a resident would."""
        body: dict[str, Any] = {
            "description": "小区里有人遛狗不拴绳，孩子很害怕",
            "location_text": "3号楼东侧",
        }
        body.update(fields)
        cmd = NewCase(category=category, community_id=self.community(community).id, **body)
        case, _created = submit_case(self.ctx, reporter_id, cmd, key)
        return case

    def photo(self, owner_id: int, data: bytes | None = None) -> str:
        return upload_photo(self.ctx, owner_id, data or f"JPEG {next(_codes)}".encode()).id

    def accept(self, case_id: int, user_id: int) -> None:
        handling.accept_case(self.ctx, case_id, user_id)

    def resolve(self, case_id: int, user_id: int, violation: Verdict | None = None) -> None:
        cmd = handling.Resolve(note="已现场整改", photo_ids=[self.photo(user_id)], violation=violation)
        handling.resolve_case(self.ctx, case_id, user_id, cmd)

    # -- reading what was written ------------------------------------------------------

    def rows(self, model: type[M], *where: ColumnElement[bool]) -> list[M]:
        """Rows of ``model`` (detached), oldest first."""
        with self.db.uow() as uow:
            found = list(uow.session.scalars(select(model).where(*where).order_by(*_key(model))))
            uow.session.expunge_all()
        return found

    def one(self, model: type[M], *where: ColumnElement[bool]) -> M | None:
        found = self.rows(model, *where)
        assert len(found) <= 1, found
        return found[0] if found else None

    def count(self, model: type[Base], *where: ColumnElement[bool]) -> int:
        with self.db.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def case(self, case_id: int) -> Case:
        found = self.one(Case, Case.id == case_id)
        assert found is not None
        return found

    def events(self, case_id: int, kind: str | None = None) -> list[CaseEvent]:
        where = [CaseEvent.case_id == case_id] + ([CaseEvent.kind == kind] if kind else [])
        return self.rows(CaseEvent, *where)

    def kinds(self, case_id: int) -> list[str]:
        return [e.kind for e in self.events(case_id)]

    def outbox(self, purpose: str | None = None, case_id: int | None = None) -> list[Notification]:
        where = []
        if purpose is not None:
            where.append(Notification.purpose == purpose)
        if case_id is not None:
            where.append(Notification.case_id == case_id)
        return self.rows(Notification, *where)

    def told(self, purpose: str | None = None, case_id: int | None = None) -> set[int]:
        """The users the outbox holds a message for."""
        return {n.user_id for n in self.outbox(purpose, case_id)}


def _key(model: type[Base]) -> list[Any]:
    return list(inspect(model).primary_key)


@pytest.fixture
def world() -> Iterator[World]:
    db = _shared()
    _copy(_template(), db)
    clock = FixedClock(START)
    ctx = _context(db, clock)
    assert isinstance(ctx.wechat, FakeMiniProgram) and isinstance(ctx.wecom, FakeWeCom)
    assert isinstance(ctx.photos, MemoryPhotoStore) and isinstance(ctx.wake_outbox, CountingWaker)
    assert isinstance(ctx.seen_stamps, MemoryStamps) and isinstance(ctx.photo_links, FakePhotoLinks)
    assert isinstance(ctx.metrics, CountingMetrics)
    yield World(
        ctx,
        db,
        clock,
        ctx.wechat,
        ctx.wecom,
        ctx.photos,
        ctx.wake_outbox,
        ctx.seen_stamps,
        ctx.photo_links,
        ctx.metrics,
    )
