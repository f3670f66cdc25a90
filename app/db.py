"""Engine, session and unit of work.

One transaction per command: a handler opens ``with uow:``, changes rows,
and calls ``uow.commit()``; leaving the block without committing rolls back.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ClauseElement,
    Connection,
    DateTime,
    Engine,
    Insert,
    Table,
    Update,
    bindparam,
    create_engine,
    event,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.dml import OnConflictDoNothing
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, configure_mappers, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

# What SQLite reports as an OperationalError although it is a bug in our SQL
# or a schema that was not migrated, not a database that went away.
_SQLITE_MISTAKES = ("no such table", "no such column", "has no column named", "syntax error")
# How long a new PostgreSQL connection may take before the request gives up
# (503) instead of hanging on a server that does not answer.
CONNECT_TIMEOUT_SECONDS = 5
# The execution option a read-only unit of work carries.
READ_ONLY = "cases_read_only"
PIPELINE = "cases_pipeline"  # Connection.info: the pipeline the block of ``pipelined`` runs in
log = logging.getLogger(__name__)
T = TypeVar("T")
_GATES: WeakKeyDictionary[Engine, WriterGate] = WeakKeyDictionary()
# How SQLAlchemy writes a datetime to SQLite unless told otherwise.
SQLITE_STORAGE_FORMAT = sqlite.DATETIME._storage_format


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no offset, so values are stored as naive UTC there; PostgreSQL
    gets ``timestamptz``. A naive datetime reaching the database is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Any) -> Callable[[datetime | None], Any] | None:
        # SQLite stores the UTC time as text in SQLAlchemy's default format,
        # "2026-06-03 08:00:00.000000": written here in one C call instead of
        # the two processors' dict formatting (every datetime of every row).
        impl = self.impl_instance
        if dialect.name != "sqlite" or getattr(impl, "_storage_format", None) != SQLITE_STORAGE_FORMAT:
            return super().bind_processor(dialect)

        # The last moment written and its text: a command writes its ``now``
        # in most of its rows (the case, its assignments, events, messages).
        last: list[tuple[datetime | None, str]] = [(None, "")]

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            seen = last[0]
            if value == seen[0]:  # the same instant (a naive value never equals an aware one)
                return seen[1]
            text = sqlite_moment(value)
            last[0] = (value, text)
            return text

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sqlite_moment(value: datetime) -> str:
    """What UTCDateTime stores on SQLite: the UTC time as naive text,
    microseconds always written ("2026-06-03 08:00:00.000000"); a naive
    time refused."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def json_value(value: Any) -> Any:
    """A value as a JSON parameter carries it to PostgreSQL: a moment as ISO
    8601 in UTC (a naive one refused, as UTCDateTime refuses it), a date as
    its ISO text; anything else as it is."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


def built(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a mapped class with ``values`` put straight into its
    attributes, as the ORM fills one it loads from a row: no attribute event
    per value (the constructor's cost, 30 µs for a case, falls to 2 µs).
    For objects written in Core or read in Core and then only read (to shape
    an answer), never added to a session; a relationship given here is only
    read back too."""
    manager = cls._sa_class_manager  # type: ignore[attr-defined]
    if not manager.mapper.configured:  # the constructor would configure the mappers first
        configure_mappers()
    obj: T = manager.new_instance()
    obj.__dict__.update(values)
    return obj


def make_engine(url: str, **kwargs: Any) -> Engine:
    # A pooled connection the server dropped (restart, failover, admin
    # shutdown) is found by the ping at checkout and replaced, so a restart
    # that is over costs the next request nothing.
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        gate = WriterGate.for_url(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let pysqlite leave transactions to us so BEGIN IMMEDIATE works,
            # and let several processes (web, workers) share one file.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            if gate is not None:
                # A thread of the gate checkpoints the log (WriterGate), not
                # the writer whose COMMIT crosses a thousand pages.
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock up front: two writers never deadlock on upgrade.
            # A reader (Database.read) takes none: in WAL mode it reads the last
            # commit, even while this very thread holds the write lock elsewhere;
            # it only gives way to another thread of its process mid-write.
            reader = conn.get_execution_options().get(READ_ONLY, False)
            if reader and gate is not None:
                gate.give_way()
            elif gate is not None:
                gate.enter(conn.connection.dbapi_connection)
            begin = "BEGIN" if reader else "BEGIN IMMEDIATE"
            if _listened(conn):
                conn.exec_driver_sql(begin)
            else:
                _on_cursor(conn, begin, ())  # SQLAlchemy's execution is most of a BEGIN's cost

        if gate is not None:
            gate.install(engine)
            _GATES[engine] = gate
        return engine
    if url.startswith("postgresql") and "connect_timeout" not in url:
        kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, **kwargs)


def writer_gate(engine: Engine) -> WriterGate | None:
    """The gate of an engine on a SQLite file, if it has one."""
    return _GATES.get(engine)


class WriterGate:
    """Writers of one SQLite file queue on an ``flock`` of a file beside it
    before ``BEGIN IMMEDIATE``, and leave it once their COMMIT or ROLLBACK is
    done.

    SQLite's own busy handler makes a writer that finds the lock taken sleep
    1, 2, 5, 10, 15, 20, 25 ms and on, whatever the holder's transaction
    takes: with two web workers filing at once (a write transaction takes
    2-3 ms) that sleep, not the work, made the slowest filings' time. Here
    the writers of one process queue on a lock of the process (the next one
    woken the moment it is free), and the one at its head tries the file
    every half millisecond, so a writer of another process gets it within
    that of its release.
    SQLite's lock stays the arbiter: a writer that does not pass the gate
    (another program) is still excluded by it, and a writer that cannot pass
    in ``wait`` seconds goes on to ``BEGIN IMMEDIATE`` and its busy timeout.
    The kernel drops a dead process's ``flock``.

    A reader of the process gives way to the process's writer while that one
    is in its transaction (``give_way``, 50 ms at most): every writer of every
    process waits for that transaction, and a thread that begins reading then
    takes the GIL from it; a request of the process gives way the same
    (``create_app``). Measured with bench/api.py: filings 7 % faster and 4 %
    less CPU each for the readers, 6 % and 3 % more for the requests.

    Checkpoints: SQLite copies its write-ahead log back into the database
    (and syncs both files) in the COMMIT of the writer that takes the log
    past 1,000 pages, every forty filings or so, while that writer still
    holds the write lock and every other writer waits. Here the engine's
    connections do not checkpoint; a thread of the gate does, every half
    second after a commit, on a connection of its own (PASSIVE: it never
    blocks a writer or a reader). It starts at the process's first commit and
    stops with ``stop_checkpoints`` (``Database.dispose``) or when the engine
    is gone; the last connection to close checkpoints what is left."""

    POLL_SECONDS = 0.0005
    CHECKPOINT_SECONDS = 0.5
    GIVE_WAY_SECONDS = 0.05

    def __init__(self, path: str, wait: float = 30.0) -> None:
        self.path = path
        self.wait = wait
        self._files: dict[int, int] = {}  # id of a DB-API connection -> its lock file
        self._held: set[int] = set()
        # The writers of this process queue on a lock first (woken the moment
        # it is free, without polling), so only one of them at a time polls
        # the file lock against the other processes.
        self._ours = threading.Lock()
        self._writing: tuple[int, threading.Lock] | None = None
        self._ours_checkpoint = threading.Lock()
        self._pid = os.getpid()
        self.commits = 0
        self._engine: weakref.ref[Engine] | None = None
        self._checkpointer: threading.Thread | None = None
        self._checkpointer_pid = 0
        self._stop = threading.Event()

    @classmethod
    def for_url(cls, url: str) -> WriterGate | None:
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return cls(f"{database}-writer.lock")

    def install(self, engine: Engine) -> None:
        """Leave the gate once the DB-API COMMIT or ROLLBACK has returned (the
        dialect's, so a commit that fails still leaves), and when a connection
        is closed or thrown away."""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback
        self._engine = weakref.ref(engine)

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.leave(dbapi_connection)
            self.commits += 1
            if self._checkpointer_pid != os.getpid():
                self._start_checkpoints()

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.leave(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        for name in ("close", "close_detached", "invalidate"):
            event.listen(engine, name, lambda dbapi_connection, *_: self.forget(dbapi_connection))

    @staticmethod
    def _key(connection: Any) -> int:
        # The dialect is handed the pool's proxy, the events the DB-API connection.
        return id(getattr(connection, "dbapi_connection", connection))

    def enter(self, dbapi_connection: Any) -> None:
        key = self._key(dbapi_connection)
        if key in self._held:
            return
        if self._pid != os.getpid():  # a forked child: no writer of its own holds the lock
            self._ours, self._pid, self._writing = threading.Lock(), os.getpid(), None
        fd = self._files.get(key)
        if fd is None:
            fd = self._files[key] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        if not self._ours.acquire(timeout=self.wait):
            return  # SQLite's busy timeout decides from here
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._ours.release()
                    return
                time.sleep(self.POLL_SECONDS)
                continue
            self._held.add(key)
            # Held while this writer is in its transaction (readers give way).
            in_transaction = threading.Lock()
            in_transaction.acquire()
            self._writing = (threading.get_ident(), in_transaction)
            return

    def give_way(self) -> None:
        """A reader about to begin (or a request, app/__init__.py) gives way
        to a writer of this process (another thread) that is in its
        transaction, for at most ``GIVE_WAY_SECONDS``: begun now, it would
        take the GIL from the one transaction every writer of every process
        waits for. Nothing waits for a writer that waits, nor for another
        process's."""
        writing = self._writing
        if writing is None or writing[0] == threading.get_ident() or self._pid != os.getpid():
            return
        if writing[1].acquire(timeout=self.GIVE_WAY_SECONDS):
            writing[1].release()

    def leave(self, dbapi_connection: Any) -> None:
        key = self._key(dbapi_connection)
        if key in self._held:
            self._held.discard(key)
            writing, self._writing = self._writing, None
            fcntl.flock(self._files[key], fcntl.LOCK_UN)
            if writing is not None:
                writing[1].release()
            self._ours.release()

    def _start_checkpoints(self) -> None:
        # A lock taken in another thread when this process was forked is never
        # released here: the next commit tries again.
        if not self._ours_checkpoint.acquire(timeout=0.1):
            return
        try:
            if self._checkpointer_pid == os.getpid():
                return
            self._checkpointer_pid = os.getpid()
            self._stop = threading.Event()
            self._checkpointer = threading.Thread(
                target=self._checkpoints, args=(self._stop,), name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()
        finally:
            self._ours_checkpoint.release()

    def _checkpoints(self, stop: threading.Event) -> None:
        database = self.path.removesuffix("-writer.lock")
        conn = sqlite3.connect(database, check_same_thread=False)
        done = self.commits
        try:
            while not stop.wait(self.CHECKPOINT_SECONDS):
                if self._engine is None or self._engine() is None:
                    return  # the engine is gone: nothing of this process writes any more
                if self.commits == done:
                    continue
                done = self.commits
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except (
                    sqlite3.Error
                ) as exc:  # the file gone (a test's), a disk error: the next commit tries again
                    log.warning("SQLite checkpoint failed: %s", exc)
        finally:
            conn.close()

    def stop_checkpoints(self) -> None:
        """Stop the checkpoint thread (it checkpoints no more; the engine's
        last connection to close does what is left)."""
        self._stop.set()
        thread = self._checkpointer
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._checkpointer, self._checkpointer_pid = None, 0

    def forget(self, dbapi_connection: Any) -> None:
        self.leave(dbapi_connection)
        fd = self._files.pop(self._key(dbapi_connection), None)
        if fd is not None:
            os.close(fd)


def _with_defaults(stmt: Insert, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows with each left-out column's Python-side default computed (per
    row, as SQLAlchemy would: the request id an outbox row carries), and the
    scalar defaults, the same for every row."""
    fixed, computed = _defaults(stmt.table, tuple(rows[0]))  # type: ignore[arg-type]
    for key, compute in computed:
        rows = [{**row, key: compute(None)} for row in rows]
    return rows, fixed


# Which defaults a table's rows take, by the keys they are given: worked out
# once per (table, keys), a statement's rows always carrying the same keys.
DEFAULTS_KEPT = 256
_defaults_of: dict[
    tuple[Table, tuple[str, ...]], tuple[dict[str, Any], list[tuple[str, Callable[[Any], Any]]]]
] = {}


def _defaults(
    table: Table, keys: tuple[str, ...]
) -> tuple[dict[str, Any], list[tuple[str, Callable[[Any], Any]]]]:
    known = _defaults_of.get((table, keys))
    if known is not None:
        return known
    fixed: dict[str, Any] = {}
    computed: list[tuple[str, Callable[[Any], Any]]] = []
    for column in table.columns:
        default = column.default
        if column.key in keys or default is None:
            continue
        if default.is_scalar:
            fixed[column.key] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            computed.append((column.key, default.arg))  # type: ignore[attr-defined]
        else:
            raise ValueError(f"executemany: give {column.key}, its default is computed in SQL")
    if len(_defaults_of) < DEFAULTS_KEPT:
        _defaults_of[(table, keys)] = (fixed, computed)
    return fixed, computed


def executemany(conn: Connection, stmt: Insert | Update, rows: list[dict[str, Any]]) -> int:
    """Run an INSERT or UPDATE for many rows with one DB-API executemany;
    answers the rows it touched (an INSERT's ON CONFLICT DO NOTHING counts
    the skipped as 0).

    The same SQL and the same value conversions (each column type's bind
    processor: aware datetimes, JSON) as ``conn.execute(stmt, rows)``, but the
    statement is compiled once and each value converted by a function chosen
    once per column, not by SQLAlchemy's per-row parameter building, which
    costs more than the database's own work for thousands of small rows.
    Every row carries the same keys; an INSERT's columns left out take their
    scalar defaults (a column whose default is computed must be given)."""
    if not rows:
        return 0
    dialect = conn.dialect
    fixed: dict[str, Any] = {}
    if isinstance(stmt, Insert):
        rows, fixed = _with_defaults(stmt, rows)
    keys = list(rows[0])
    if dialect.name == "postgresql" and isinstance(stmt, Insert):
        return _insert_from_json(conn, stmt, rows, fixed)
    plan = _plan(stmt, dialect, tuple(keys), tuple(fixed))
    convert, bind_names, positional = plan.convert, plan.bind_names, plan.positional
    params: list[Any] = []
    # A moment is converted once per call however many rows carry it (the
    # command's ``now`` is in every row).
    moments: dict[tuple[str, datetime], Any] = {}
    for row in rows:
        values = []
        for _, key, convert_one in convert:
            value = row[key] if key in row else fixed[key]
            if convert_one is None:
                values.append(value)
            elif type(value) is datetime:
                known = moments.get((key, value), moments)
                if known is moments:
                    known = moments[(key, value)] = convert_one(value)
                values.append(known)
            else:
                values.append(convert_one(value))
        params.append(tuple(values) if positional else dict(zip(bind_names, values, strict=True)))
    return int(conn.exec_driver_sql(plan.sql, params).rowcount)


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for ``executemany`` or ``fetch``: its SQL, and for
    each of its parameters in order the name it is bound as, the row key that
    gives it and the column type's bind processor; for ``fetch``, the row
    type of its result columns and each one's result processor."""

    sql: str
    convert: list[tuple[str, str, Callable[[Any], Any] | None]]
    bind_names: list[str]
    positional: bool
    row: type | None = None
    results: tuple[Callable[[Any], Any] | None, ...] = ()


# Plans kept: a command's statements are module constants, made once, so the
# few dozen a process runs are compiled once each (a statement made anew for
# every call, as ``update_rows`` makes, takes a place and is pushed out).
PLANS_KEPT = 64
_plans: OrderedDict[tuple[Any, ...], _Plan] = OrderedDict()
_plans_lock = threading.Lock()


def _plan(stmt: ClauseElement, dialect: Any, keys: tuple[str, ...], fixed: tuple[str, ...]) -> _Plan:
    key = (stmt, dialect.name, keys, fixed)
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect, column_keys=[*keys, *fixed]))
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
    given = set(keys) | set(fixed)
    convert: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    for name in names:
        bind = compiled.binds[name]
        if bind.expanding:
            raise ValueError(f"{name}: a list parameter (IN) is not planned; execute the statement instead")
        row_key = bind.key if bind.key in given else name
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        convert.append((compiled.escaped_bind_names.get(name, name), row_key, process))
    row, results = _result_columns(stmt, dialect)
    plan = _Plan(
        compiled.string, convert, [n for n, _, _ in convert], bool(compiled.positional), row, results
    )
    with _plans_lock:
        _plans[key] = plan
        while len(_plans) > PLANS_KEPT:
            _plans.popitem(last=False)
    return plan


def _result_columns(
    stmt: ClauseElement, dialect: Any
) -> tuple[type | None, tuple[Callable[[Any], Any] | None, ...]]:
    """A named tuple of the statement's result columns (a SELECT's, or the
    RETURNING of an INSERT), and each column type's result processor."""
    columns = getattr(stmt, "selected_columns", None)
    if columns is None:
        columns = stmt.exported_columns if getattr(stmt, "_returning", ()) else None  # type: ignore[attr-defined]
    if not columns:
        return None, ()
    keys = list(columns.keys())
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return namedtuple("Row", keys, rename=True), results  # type: ignore[misc]


def fetch(conn: Connection, stmt: ClauseElement, params: dict[str, Any]) -> list[Any]:
    """One statement (a SELECT, or an INSERT with RETURNING) and its rows, as
    named tuples of converted values: what ``conn.execute(stmt, params).all()``
    answers, with the same SQL and the same conversions both ways (each
    type's bind and result processors), for a fifth of SQLAlchemy's own work
    per statement.

    The statement is compiled once (``_plan``). On SQLite it runs on the
    DB-API cursor itself, inside the connection's transaction (begun as
    SQLAlchemy begins it, so the writer gate's hooks run), and a driver error
    is raised as SQLAlchemy raises it (``IntegrityError``,
    ``OperationalError``). Where cursor events are listened to (statement
    counting in ``bench/filing.py``) or on PostgreSQL, it goes through
    ``exec_driver_sql``. An INSERT's columns left out take their scalar or
    Python-side defaults."""
    dialect = conn.dialect
    fixed: dict[str, Any] = {}
    if isinstance(stmt, Insert):
        rows, fixed = _with_defaults(stmt, [params])
        params = rows[0]
    plan = _plan(stmt, dialect, tuple(params), tuple(fixed))
    given = fixed | params
    values = [given[key] if process is None else process(given[key]) for _, key, process in plan.convert]
    bound: Any = tuple(values) if plan.positional else dict(zip(plan.bind_names, values, strict=True))
    raw = _cursor_rows(conn, plan.sql, bound)
    if plan.row is None:
        return []
    make, results = plan.row._make, plan.results  # type: ignore[attr-defined]
    if not any(results):
        return [make(r) for r in raw]
    return [make([v if p is None else p(v) for v, p in zip(r, results, strict=True)]) for r in raw]


def _cursor_rows(conn: Connection, sql: str, params: Any) -> list[Any]:
    if PIPELINE in conn.info:
        return _on_cursor(conn, sql, params)  # fetching its rows waits for the statements before it
    if conn.dialect.name != "sqlite" or _listened(conn):
        result = conn.exec_driver_sql(sql, params)
        return list(result.fetchall()) if result.returns_rows else []
    if not conn.in_transaction():
        conn.begin()  # as ``execute`` begins: the engine's begin hooks run
    return _on_cursor(conn, sql, params)


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, the statements of the block go out without waiting for
    each one's answer (psycopg's pipeline mode): one round trip for them all,
    at the block's end, where an error of any is raised as SQLAlchemy raises
    it (and the transaction is then failed). ``executemany`` answers -1
    inside (the counts come at the end); ``fetch`` waits for what was sent
    before it. On SQLite nothing changes."""
    if conn.dialect.name != "postgresql" or PIPELINE in conn.info:
        yield
        return
    driver = conn.connection.driver_connection
    error = conn.dialect.loaded_dbapi.Error
    # Held here: once the connection is lost inside the block, ``conn.info``
    # itself raises (a rollback pending), which would hide the lost connection.
    info = conn.info
    try:
        with driver.pipeline() as pipeline:  # type: ignore[union-attr]
            info[PIPELINE] = pipeline
            try:
                yield
            finally:
                info.pop(PIPELINE, None)
    except sa_exc.DBAPIError as exc:  # a statement of the block, raised by SQLAlchemy
        if not exc.connection_invalidated and _lost(driver):
            conn.invalidate(exc.orig)
            exc.connection_invalidated = True
        raise
    except error as exc:  # the block's end
        lost = _lost(driver)
        if lost:
            conn.invalidate(exc)
        raise sa_exc.DBAPIError.instance(
            "(pipeline)", None, exc, error, dialect=conn.dialect, connection_invalidated=lost
        ) from exc


def _lost(driver: Any) -> bool:
    """Whether psycopg's connection is gone: what SQLAlchemy's psycopg dialect
    asks (closed or broken), and libpq's status, since in pipeline mode
    psycopg may not mark it broken. As SQLAlchemy does for a statement, a lost
    connection is invalidated, so the rollback that follows does not ask the
    dead one (and the pool's reset does not log a traceback)."""
    from psycopg import pq

    return bool(driver.closed or driver.broken or driver.pgconn.status == pq.ConnStatus.BAD)


def _listened(conn: Connection) -> bool:
    """Whether cursor events are listened to (then statements go through SQLAlchemy, to be seen)."""
    return bool(conn.dispatch.before_cursor_execute or conn.engine.dispatch.before_cursor_execute)


def _on_cursor(conn: Connection, sql: str, params: Any) -> list[Any]:
    """The statement on the DB-API cursor of ``conn``, its rows fetched; a
    driver error raised as SQLAlchemy raises it."""
    dialect = conn.dialect
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except dialect.loaded_dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(
            sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        cursor.close()


def update_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str = "id") -> int:
    """Set columns of many rows, each found by ``key``: every row carries
    ``key`` and the same columns to set. One executemany (SQLite), or one
    UPDATE ... FROM the rows as a JSON parameter (PostgreSQL, where a
    statement a row costs more than the update itself); answers the rows
    updated."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c != key]
    dialect = conn.dialect
    if dialect.name != "postgresql":
        stmt = (
            update(table)
            .where(table.c[key] == bindparam(f"k_{key}"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        renamed = [{f"k_{key}": r[key]} | {f"v_{c}": r[c] for c in columns} for r in rows]
        return executemany(conn, stmt, renamed)
    quote = dialect.identifier_preparer.quote
    typed = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=dialect)}" for c in [key, *columns])
    sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    target = quote(str(table.name))
    sql = (
        f"UPDATE {target} SET {sets} FROM json_to_recordset(%(rows)s::json) AS v({typed}) "
        f"WHERE {target}.{quote(key)} = v.{quote(key)}"
    )
    records = [{c: json_value(v) for c, v in r.items()} for r in rows]
    return int(conn.exec_driver_sql(sql, {"rows": json.dumps(records, ensure_ascii=False)}).rowcount)


def _insert_from_json(
    conn: Connection, stmt: Insert, rows: list[dict[str, Any]], fixed: dict[str, Any]
) -> int:
    """PostgreSQL: the rows as one JSON parameter, unpacked by the server
    (``json_populate_recordset``) into one INSERT ... SELECT. Sending each
    value as its own parameter (executemany, or multi-row VALUES) costs the
    client and the server more per value than the insert itself. Values go
    through the columns' own bind processors first, as they would otherwise.
    An ON CONFLICT DO NOTHING of the statement is kept."""
    dialect = conn.dialect
    table = stmt.table
    quote = dialect.identifier_preparer.quote
    names = list(rows[0]) + list(fixed)
    processors = {}
    for name in names:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        processors[name] = processor
    records = []
    for row in rows:
        record = {}
        for name in names:
            value = row[name] if name in row else fixed[name]
            if isinstance(value, date):  # a moment or a date
                value = json_value(value)
            elif isinstance(value, dict | list):
                pass  # a JSON column's value, nested as it is
            elif processors[name] is not None and value is not None:
                value = processors[name](value)  # type: ignore[misc]
            record[name] = value
        records.append(record)
    columns = ", ".join(quote(n) for n in names)
    target = quote(str(table.name))
    sql = f"INSERT INTO {target} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{target}, %(rows)s::json)"
    clause = getattr(stmt, "_post_values_clause", None)
    if isinstance(clause, OnConflictDoNothing):
        sql += " ON CONFLICT DO NOTHING"
    elif clause is not None:
        raise ValueError("executemany: only ON CONFLICT DO NOTHING is carried to PostgreSQL's JSON insert")
    return int(conn.exec_driver_sql(sql, {"rows": json.dumps(records, ensure_ascii=False)}).rowcount)


def database_away(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached now (refused,
    shut down, a dead connection, a timeout, locked) rather than a mistake in
    what we asked: the caller may try again later."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return not any(m in str(exc.orig) for m in _SQLITE_MISTAKES)
        return False
    # The wake-up listener talks to PostgreSQL through psycopg directly.
    import psycopg

    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


class RequestReader:
    """A request's reads on one pooled connection, taken at the first read and
    given back when the request ends (``close``): on PostgreSQL each checkout
    is a round trip (the ping), and a filing reads twice (the caller, then
    what the filing needs). The connection is in autocommit there, so keeping
    it holds no transaction and no snapshot. A read that fails gives the
    connection back at once; the next read takes a new one."""

    def __init__(self, connect: Callable[[], Connection]):
        self._connect = connect
        self._conn: Connection | None = None

    @contextmanager
    def __call__(self) -> Iterator[Connection]:
        if self._conn is None:
            self._conn = self._connect()
        try:
            yield self._conn
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class UnitOfWork:
    """A session for one command; commits only when told to."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]):
        self._factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends the transaction (uncommitted work is discarded) and
        # detaches the objects with what they had loaded, so a handler may hand
        # them to the web edge for shaping.
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


class Database:
    def __init__(self, url: str, answered: Callable[[], None] | None = None, **kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if answered is not None:
            # A connection handed out (after its ping) is the database
            # answering: the end of an outage is noted here.
            event.listen(self.engine, "checkout", lambda *_: answered())
        reading: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            # No BEGIN and no ROLLBACK around a read: two round trips fewer a
            # checkout. The same reads: under READ COMMITTED each statement
            # takes its own snapshot inside a transaction too.
            reading["isolation_level"] = "AUTOCOMMIT"
        self._read_only = self.engine.execution_options(**reading)
        self._readers = sessionmaker(self._read_only, expire_on_commit=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def read(self) -> UnitOfWork:
        """A unit of work that only reads: on SQLite it takes no write lock, so
        it may run while a command of the same thread holds one."""
        return UnitOfWork(self._readers)

    def reading(self) -> Connection:
        """A connection that only reads, for a statement or two read in Core
        (``with db.reading() as conn``): what ``read`` does without an ORM
        session. Its transaction ends, rolled back, when the block does."""
        return self._read_only.connect()

    def request_reader(self) -> RequestReader | None:
        """On PostgreSQL, one read-only connection for all of a request's reads
        (see ``RequestReader``); None on SQLite, where a read is a transaction
        of its own and holding it would hold back the log's checkpoints."""
        if self.engine.dialect.name != "postgresql":
            return None
        return RequestReader(self.reading)

    def dispose(self) -> None:
        gate = writer_gate(self.engine)
        if gate is not None:
            gate.stop_checkpoints()
        self.engine.dispose()
