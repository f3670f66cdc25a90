"""Many rows of one table written with one statement, from plain tuples.

``app.db.executemany`` takes a dict a row and converts every value; the
escalation sweep writes thousands of small rows a batch, where that per-value
work in Python costs more than the database's own. Here each column's
conversion is chosen once per statement and only the columns that need one (a
moment, a JSON document) are converted, a moment once however many rows carry
it. SQLite gets one DB-API executemany of tuples; PostgreSQL one statement over
the rows sent as a single JSON parameter and unpacked by the server
(``json_to_recordset``), which costs both sides less than a parameter a value.
The conversions are the columns' own (their types' bind processors), so what
is stored is what an ORM write of the same values stores.

``Writes`` sends such statements one after another. On PostgreSQL it does so
in pipeline mode: no statement waits for the answer to the one before, so the
server writes while this process prepares the next rows, and the row counts
are known when the block ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Select, Table
from sqlalchemy.types import TypeDecorator

from app.db import json_value, sqlite_moment

Row = Sequence[Any]
Convert = Callable[[Any], Any]
Statement = tuple[str, Any]  # SQL and its parameters, as the driver takes them


def _impl(column_type: Any) -> Any:
    return column_type.impl if isinstance(column_type, TypeDecorator) else column_type


def _memo(convert: Convert) -> Convert:
    """``convert`` computed once per distinct value (a batch's rows share
    moments: the command's ``now``, a deadline told to several people)."""
    known: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        if value is None:
            return None
        found = known.get(value, known)
        if found is known:
            found = known[value] = convert(value)
        return found

    return once


class _Columns:
    """The named columns of ``table`` and how each value goes to the driver."""

    def __init__(self, conn: Connection, table: Table, names: Sequence[str]):
        self.dialect = conn.dialect
        self.pg = self.dialect.name == "postgresql"
        self.names = list(names)
        self.columns = [table.c[n] for n in self.names]
        self.convert: list[Convert | None] = [self._converter(c.type) for c in self.columns]

    def _converter(self, column_type: Any) -> Convert | None:
        moment = isinstance(_impl(column_type), DateTime)
        if self.pg:
            # The JSON parameter: a moment as text, a JSON column's value nested
            # as it is; the server converts to the column's type.
            return _memo(json_value) if moment else None
        process = column_type.dialect_impl(self.dialect).bind_processor(self.dialect)
        if process is None:
            return None
        if moment:
            sample = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
            # The column's own conversion, or the same text made in one step.
            same = process(sample) == sqlite_moment(sample) and process(sample.replace(microsecond=0)) == (
                sqlite_moment(sample.replace(microsecond=0))
            )
            return _memo(sqlite_moment if same else process)
        return process if isinstance(_impl(column_type), JSON) else _memo(process)

    def sql_type(self, i: int) -> str:
        return str(self.columns[i].type.compile(dialect=self.dialect))

    def values(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        return _converted(rows, [(i, f) for i, f in enumerate(self.convert) if f is not None])

    def json(self, rows: Sequence[Row]) -> str:
        names = self.names
        return json.dumps([dict(zip(names, r, strict=True)) for r in self.values(rows)], ensure_ascii=False)

    def typed(self) -> str:
        """The record's columns as ``json_to_recordset`` declares them."""
        quote = self.dialect.identifier_preparer.quote
        return ", ".join(f"{quote(n)} {self.sql_type(i)}" for i, n in enumerate(self.names))


def _defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns not given, computed once for
    the statement (a callable one too: the rows are one command's)."""
    fixed: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        if default.is_scalar:
            fixed[column.key] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            fixed[column.key] = default.arg(None)  # type: ignore[attr-defined]
        else:
            raise ValueError(f"insert: give {column.key}, its default is computed in SQL")
    return fixed


def insert_statement(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Row],
    same: dict[str, Any] | None = None,
    conflict: Sequence[str] | None = None,
) -> Statement:
    """The INSERT of ``rows`` (tuples of the ``names`` columns); ``same``:
    columns whose value every row shares; the other columns take their
    defaults. ``conflict``: the unique key whose duplicates are skipped (ON
    CONFLICT ... DO NOTHING)."""
    shared = {**_defaults(table, [*names, *(same or {})]), **(same or {})}
    rowwise = _Columns(conn, table, names)
    fixed = _Columns(conn, table, list(shared))
    quote = conn.dialect.identifier_preparer.quote
    target = quote(str(table.name))
    every = ", ".join(quote(n) for n in [*names, *shared])
    tail = f" ON CONFLICT ({', '.join(quote(n) for n in conflict)}) DO NOTHING" if conflict else ""
    constants = fixed.values([list(shared.values())])[0]
    if rowwise.pg:
        # A shared value goes as its own parameter, cast to its column's type.
        picks = [quote(n) for n in names] + [
            f"CAST(%(s{i})s AS {fixed.sql_type(i)})" for i in range(len(constants))
        ]
        sql = (
            f"INSERT INTO {target} ({every}) SELECT {', '.join(picks)} "
            f"FROM json_to_recordset(%(rows)s::json) AS v({rowwise.typed()}){tail}"
        )
        return sql, {"rows": rowwise.json(rows), **{f"s{i}": v for i, v in enumerate(constants)}}
    marks = ", ".join("?" for _ in [*names, *shared])
    sql = f"INSERT INTO {target} ({every}) VALUES ({marks}){tail}"
    return sql, [(*r, *constants) for r in rowwise.values(rows)]


def update_statement(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> Statement:
    """The UPDATE setting columns of many rows found by their first column
    (the key): ``rows`` are tuples of the ``names`` columns, key first."""
    columns = _Columns(conn, table, names)
    quote = conn.dialect.identifier_preparer.quote
    target = quote(str(table.name))
    key, *rest = [quote(n) for n in names]
    if columns.pg:
        sets = ", ".join(f"{n} = v.{n}" for n in rest)
        sql = (
            f"UPDATE {target} SET {sets} FROM json_to_recordset(%(rows)s::json) AS v({columns.typed()}) "
            f"WHERE {target}.{key} = v.{key}"
        )
        return sql, {"rows": columns.json(rows)}
    sets = ", ".join(f"{n} = ?" for n in rest)
    return f"UPDATE {target} SET {sets} WHERE {key} = ?", [(*r[1:], r[0]) for r in columns.values(rows)]


def _moment_reader(column_type: Any, conn: Connection) -> Convert | None:
    """How a moment read from the driver becomes what the column type answers
    (an aware UTC datetime): its own result processor, or the same in one step."""
    dialect = conn.dialect
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None or not isinstance(_impl(column_type), DateTime):
        return process
    sample = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
    if dialect.name == "sqlite":
        fast: Convert = _sqlite_read
        raw: Any = sqlite_moment(sample)
    else:
        fast, raw = _utc, sample
    return fast if fast(raw) == process(raw) else process


def _sqlite_read(value: str | None) -> datetime | None:
    # The offset parsed with the text: a tenth of what ``replace`` costs.
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def select_rows(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a Core select as plain tuples, fetched at once.

    ``conn.execute`` builds a Row a row and runs each value through its
    column's type (on psycopg fetching row by row); for a thousand due cases
    that costs more than the query. Here the compiled SQL runs with its
    parameters converted as SQLAlchemy converts them, and of what comes back
    only the columns whose type converts are converted (a moment to an aware
    UTC datetime, as ``UTCDateTime`` answers it)."""
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError(
            "select_rows: a parameter rendered at execution time (an expanding IN) is not supported"
        )
    given = compiled.construct_params()
    values: dict[str, Any] = {}
    for name, value in given.items():
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        values[name] = process(value) if process is not None else value
    if compiled.positional:
        params: Any = tuple(values[n] for n in compiled.positiontup or [])
    else:
        params = {compiled.escaped_bind_names.get(n, n): v for n, v in values.items()}
    rows = conn.exec_driver_sql(compiled.string, params).all()
    readers = [(i, r) for i, c in enumerate(stmt.selected_columns) if (r := _moment_reader(c.type, conn))]
    return _converted(rows, readers)


def _converted(rows: Sequence[Any], converters: list[tuple[int, Convert]]) -> list[tuple[Any, ...]]:
    """Rows as tuples, each listed column's value passed through its converter."""
    if not converters:
        return [tuple(r) for r in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, f in converters:
            values[i] = f(values[i])
        out.append(tuple(values))
    return out


class Writes:
    """Set-wise statements run in order in the connection's transaction;
    ``counts`` holds each one's row count once the block has ended.

    On PostgreSQL the block is a pipeline: each statement is sent without
    waiting for the answer to the one before, and the block's end waits for
    them all (an error in any fails the block, and the transaction with it).
    Nothing else may use the connection inside the block."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.counts: list[int] = []
        self._pipeline: Any = None
        self._cursors: list[Any] = []

    def __enter__(self) -> Writes:
        if self.conn.dialect.name == "postgresql":
            driver = self.conn.connection.driver_connection
            assert driver is not None
            self._driver = driver
            self._pipeline = driver.pipeline()
            self._pipeline.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pipeline is not None:
            self._pipeline.__exit__(exc_type, exc, tb)
            if exc_type is None:
                self.counts = [int(c.rowcount) for c in self._cursors]
            for cursor in self._cursors:
                cursor.close()

    def _run(self, statement: Statement) -> None:
        sql, params = statement
        if self._pipeline is None:
            self.counts.append(int(self.conn.exec_driver_sql(sql, params).rowcount))
            return
        cursor = self._driver.cursor()
        cursor.execute(sql, params)
        self._cursors.append(cursor)

    def insert(
        self,
        table: Table,
        names: Sequence[str],
        rows: Sequence[Row],
        same: dict[str, Any] | None = None,
        conflict: Sequence[str] | None = None,
    ) -> int:
        """Queue ``insert_statement``; answers its place in ``counts``
        (nothing is sent for no rows: its count is 0)."""
        return self._queue(insert_statement(self.conn, table, names, rows, same, conflict) if rows else None)

    def update(self, table: Table, names: Sequence[str], rows: Sequence[Row]) -> int:
        """Queue ``update_statement``; answers its place in ``counts``."""
        return self._queue(update_statement(self.conn, table, names, rows) if rows else None)

    def _queue(self, statement: Statement | None) -> int:
        place = len(self.counts) + len(self._cursors)
        if statement is None:
            if self._pipeline is None:
                self.counts.append(0)
            else:
                self._cursors.append(_Nothing())
            return place
        self._run(statement)
        return place


class _Nothing:
    """The place of a statement not sent (no rows) among a pipeline's cursors."""

    rowcount = 0

    def close(self) -> None:
        pass
