"""SQLite's writers queue on the gate beside the database file (app/db.py:
WriterGate): the next writer starts as soon as the last one's COMMIT or
ROLLBACK returns, instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db import Database, WriterGate, writer_gate


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return db


def test_a_second_writer_waits_for_the_first_commit_then_goes_at_once(tmp_path: Path) -> None:
    db = _database(tmp_path)
    first_in, first_done, order = threading.Event(), threading.Event(), []

    def first() -> None:
        with db.uow() as uow:
            uow.session.execute(text("INSERT INTO t VALUES (1)"))
            first_in.set()
            time.sleep(0.3)
            order.append("first commits")
            uow.commit()
        first_done.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    started = time.monotonic()
    with db.uow() as uow:
        uow.session.execute(text("INSERT INTO t VALUES (2)"))
        order.append("second writes")
        uow.commit()
    waited = time.monotonic() - started
    thread.join(5)
    assert order == ["first commits", "second writes"]
    assert 0.15 < waited < 5, waited  # it waited for the first's commit, in the gate
    assert (tmp_path / "gate.db-writer.lock").exists()
    with db.read() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM t")).scalar() == 2
    db.dispose()


def test_the_gate_is_left_on_rollback_on_error_and_when_a_connection_is_closed(tmp_path: Path) -> None:
    db = _database(tmp_path)
    gate = writer_gate(db.engine)
    assert gate is not None
    try:
        with db.uow() as uow:
            uow.session.execute(text("INSERT INTO t VALUES (1)"))
            assert gate._held
            raise RuntimeError("the command fails")
    except RuntimeError:
        pass
    assert not gate._held
    with db.uow() as uow:
        uow.session.execute(text("INSERT INTO t VALUES (2)"))  # left without commit: rolled back
    assert not gate._held
    conn = db.engine.connect()
    conn.execute(text("INSERT INTO t VALUES (3)"))
    assert gate._held
    conn.invalidate()  # a connection thrown away while it writes
    assert not gate._held and not gate._files
    # A reader never queues, even while a writer holds the gate.
    with db.uow() as uow:
        uow.session.execute(text("INSERT INTO t VALUES (4)"))
        with db.read() as reader:
            assert reader.session.execute(text("SELECT count(*) FROM t")).scalar() == 0
        uow.commit()
    db.dispose()


def test_a_writer_that_cannot_pass_falls_back_to_sqlites_own_lock(tmp_path: Path) -> None:
    """Another holder of the gate (here a file descriptor of this test) that
    never leaves: after ``wait`` the writer goes on to BEGIN IMMEDIATE, which
    SQLite grants since nobody holds its lock."""
    import fcntl
    import os

    db = _database(tmp_path)
    gate = writer_gate(db.engine)
    assert gate is not None
    gate.wait = 0.2
    fd = os.open(gate.path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with db.uow() as uow:
            uow.session.execute(text("INSERT INTO t VALUES (1)"))
            uow.commit()
        assert 0.2 <= time.monotonic() - started < 2
    finally:
        os.close(fd)
    # The writer that gave up on the gate left this process's queue too.
    started = time.monotonic()
    with db.uow() as uow:
        uow.session.execute(text("INSERT INTO t VALUES (2)"))
        uow.commit()
    assert time.monotonic() - started < 0.2 and not gate._held
    db.dispose()


def test_a_child_forked_while_a_writer_of_its_parent_is_in_the_gate_passes_on_its_own(
    tmp_path: Path,
) -> None:
    """The process's queue is its own: a child forked while a writer of the
    parent holds its place (here the parent's thread of the queue, the file
    lock not taken) does not wait for a writer it does not have."""
    import os

    gate = WriterGate(str(tmp_path / "gate.db-writer.lock"), wait=2.0)
    writer = object()  # stands for a DB-API connection
    assert gate._ours.acquire()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            started = time.monotonic()
            gate.enter(writer)
            passed = gate._held and time.monotonic() - started < 1
            gate.forget(writer)
            code = 0 if passed else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    gate._ours.release()
    assert os.waitstatus_to_exitcode(status) == 0


def test_no_gate_for_a_database_in_memory() -> None:
    assert WriterGate.for_url("sqlite://") is None
    assert WriterGate.for_url("sqlite:///:memory:") is None
    assert WriterGate.for_url("sqlite:////srv/cases/cases.db").path == "/srv/cases/cases.db-writer.lock"  # type: ignore[union-attr]


def test_the_log_is_checkpointed_by_the_gates_thread_not_in_a_writers_commit(tmp_path: Path) -> None:
    db = _database(tmp_path)
    gate = writer_gate(db.engine)
    assert gate is not None
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    main = tmp_path / "gate.db"
    before = main.stat().st_size
    with db.uow() as uow:
        uow.session.execute(text("CREATE TABLE blobs (b BLOB)"))
        uow.session.execute(text("INSERT INTO blobs VALUES (zeroblob(4000000))"))
        uow.commit()
    assert main.stat().st_size - before < 1_000_000  # committed into the log only
    deadline = time.monotonic() + 5
    while main.stat().st_size - before < 4_000_000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert main.stat().st_size - before >= 4_000_000  # copied into the database by the thread
    thread = gate._checkpointer
    assert thread is not None and thread.is_alive() and thread.name == "sqlite-checkpoint"
    db.dispose()
    assert not thread.is_alive()


def test_a_reader_gives_way_to_a_writer_of_its_process_for_a_moment_only(tmp_path: Path) -> None:
    db = _database(tmp_path)
    gate = writer_gate(db.engine)
    assert gate is not None
    writing, done, order = threading.Event(), threading.Event(), []

    def writer(hold: float) -> None:
        with db.uow() as uow:
            uow.session.execute(text("INSERT INTO t VALUES (1)"))
            # The writer's own reads never wait for it.
            with db.read() as mine:
                mine.session.execute(text("SELECT 1"))
            writing.set()
            time.sleep(hold)
            order.append("writer commits")
            uow.commit()
        done.set()

    thread = threading.Thread(target=writer, args=(0.02,))
    thread.start()
    writing.wait(5)
    with db.read() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM t")).scalar() == 1  # after the commit
        order.append("reader read")
    thread.join(5)
    assert order == ["writer commits", "reader read"]
    # A transaction longer than the reader gives way for: it reads the last commit meanwhile.
    writing.clear()
    thread = threading.Thread(target=writer, args=(1.0,))
    thread.start()
    writing.wait(5)
    started = time.monotonic()
    with db.read() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    assert gate.GIVE_WAY_SECONDS <= time.monotonic() - started < 0.5
    thread.join(5)
    db.dispose()


def test_a_request_begins_once_its_processs_writer_has_committed(
    app: Any, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that reads nothing from the database (the categories, kept
    in memory) still waits for this process's writer mid-transaction (here
    for up to 5 s, so a slow machine cannot make it go first)."""
    gate = writer_gate(services.db.engine)
    if gate is not None:
        monkeypatch.setattr(gate, "GIVE_WAY_SECONDS", 5.0)
    client = app.test_client()
    assert client.get("/api/v1/categories").status_code == 200  # the answer made and kept
    writing, order = threading.Event(), []

    def writer() -> None:
        with services.db.uow() as uow:
            uow.session.execute(text("SELECT 1 FROM users"))
            writing.set()
            time.sleep(0.2)
            order.append("writer commits")
            uow.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(5)
    assert client.get("/api/v1/categories").status_code == 200
    order.append("request answered")
    thread.join(5)
    # PostgreSQL has no writer gate: there the request does not wait.
    waits = not services.db.url.startswith("postgresql")
    assert order == (
        ["writer commits", "request answered"] if waits else ["request answered", "writer commits"]
    )
