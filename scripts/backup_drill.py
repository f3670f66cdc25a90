"""Back up, restore and check: the database (``pg_dump -Fc``; on SQLite its
online ``.backup``) and a manifest of the photo store, then a restore into a
new database and a check that cases, timelines and photos all came back.

    python scripts/backup_drill.py backup  --out DIR [--database-url URL]
    python scripts/backup_drill.py restore --from DIR --target-url URL
    python scripts/backup_drill.py check   --from DIR --database-url URL
    python scripts/backup_drill.py drill   --out DIR [--database-url URL] [--target-url URL] [--keep]

The database defaults to ``DATABASE_URL``; the photo store is the one the
environment names (``PHOTO_STORAGE``, ``PHOTO_DIR`` or ``S3_*``/``AWS_*``), as
for the web and worker processes. Exit 0 only when everything matches."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from app import backup as figures  # noqa: E402
from app.settings import Settings  # noqa: E402
from handlers.errors import DomainError  # noqa: E402

PG_DUMP, SQLITE_COPY = "database.dump", "database.sqlite3"
MANIFEST, SUMMARY = "photos-manifest.tsv", "summary.json"


class DrillError(Exception):
    """A step could not be done (a tool failed, a target database exists)."""


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DrillError(f"not an SQLite file: {url}")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore, the password in the environment
    rather than on the command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise DrillError(f"{command[0]} not found: install the PostgreSQL client tools") from exc
    if done.returncode != 0:
        raise DrillError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def _store() -> Any:
    from app.services import Services

    return Services(Settings.from_env()).photos


# -- backup ------------------------------------------------------------------------


def _backup_postgres(url: str, out: Path) -> dict[str, Any]:
    """pg_dump in the snapshot the figures are read in: both see the same rows
    even while the product keeps writing."""
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            conninfo, env = _libpq(url)
            _run(["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(out / PG_DUMP), conninfo], env)
            return figures.summarize(conn)
    finally:
        engine.dispose()


def _backup_sqlite(url: str, out: Path) -> dict[str, Any]:
    if not _sqlite_path(url).is_file():
        raise DrillError(f"no database at {_sqlite_path(url)}")
    copy = out / SQLITE_COPY
    copy.unlink(missing_ok=True)
    source = sqlite3.connect(_sqlite_path(url))
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    # The copy is the snapshot: read the figures from it.
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as conn:
            return figures.summarize(conn)
    finally:
        engine.dispose()


def backup(url: str, out: Path, store: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    summary = _backup_sqlite(url, out) if _is_sqlite(url) else _backup_postgres(url, out)
    # After the snapshot: every photo row in it has its object stored already.
    objects = figures.write_manifest(store, out / MANIFEST)
    summary |= {
        "taken_at": datetime.now(UTC).isoformat(),
        "database": make_url(url).render_as_string(hide_password=True),
        "photo_objects": objects,
    }
    (out / SUMMARY).write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    events = sum(t["events"] for t in summary["timelines"].values())
    cases = sum(summary["cases_by_status"].values())
    print(f"backup in {out}: {cases} cases, {events} timeline events, {objects} photo objects")


# -- restore -----------------------------------------------------------------------


def _on_server(url: str, statement: str) -> Any:
    """Run ``statement`` on the server's maintenance database (``:name`` is
    the target database's name) and answer its first row."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = '"' + str(target.database).replace('"', '""') + '"'
            result = conn.execute(text(statement.replace("{db}", quoted)), {"name": target.database})
            return result.first() if result.returns_rows else None
    finally:
        admin.dispose()


def exists(url: str) -> bool:
    if _is_sqlite(url):
        return _sqlite_path(url).exists()
    return _on_server(url, "SELECT 1 FROM pg_database WHERE datname = :name") is not None


def restore(source: Path, target_url: str) -> None:
    if exists(target_url):
        raise DrillError(f"{make_url(target_url).database} exists: restore into a new database")
    if _is_sqlite(target_url):
        path = _sqlite_path(target_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SQLITE_COPY, path)
    else:
        _on_server(target_url, "CREATE DATABASE {db}")
        conninfo, env = _libpq(target_url)
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d", conninfo]
        _run([*command, str(source / PG_DUMP)], env)
    print(f"restored into {make_url(target_url).render_as_string(hide_password=True)}")


def drop(target_url: str) -> None:
    if _is_sqlite(target_url):
        _sqlite_path(target_url).unlink(missing_ok=True)
    else:
        _on_server(target_url, "DROP DATABASE IF EXISTS {db} WITH (FORCE)")


# -- check -------------------------------------------------------------------------


def check(source: Path, url: str, store: Any) -> figures.Verdict:
    expected = json.loads((source / SUMMARY).read_text(encoding="utf-8"))
    manifest = figures.read_manifest(source / MANIFEST)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            actual = figures.summarize(conn)
            keys = figures.photo_keys(conn)
    finally:
        engine.dispose()
    verdict = figures.Verdict()
    figures.compare_cases(expected, actual, verdict)
    figures.compare_photos(keys, manifest, store, verdict)
    for line in verdict.lines:
        print(line)
    for problem in verdict.problems[:50]:
        print(f"  MISMATCH {problem}")
    print("check passed" if verdict.ok else f"check FAILED: {len(verdict.problems)} problem(s)")
    return verdict


def _drill_target(url: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    parsed = make_url(url)
    if _is_sqlite(url):
        path = _sqlite_path(url)
        return f"sqlite:///{path.with_name(f'{path.stem}-drill-{stamp}{path.suffix}')}"
    return parsed.set(database=f"{parsed.database}_drill_{stamp}").render_as_string(hide_password=False)


def drill(url: str, out: Path, target_url: str | None, keep: bool, store: Any) -> bool:
    target_url = target_url or _drill_target(url)
    if exists(target_url):
        raise DrillError(f"{make_url(target_url).database} exists: the drill restores into a new database")
    backup(url, out, store)
    try:
        restore(out, target_url)
        verdict = check(out, target_url, store)
    finally:
        if not keep:
            drop(target_url)  # it did not exist before: the drill made it
    print("drill passed" if verdict.ok else "drill FAILED")
    return verdict.ok


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="备份、恢复与核对演练 (backup, restore, check)")
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {
        "backup": "导出数据库并记录照片清单和核对数字",
        "restore": "恢复到一个新库并核对",
        "check": "核对一个库和照片存储是否与备份一致",
        "drill": "备份、恢复到临时库、核对、删除临时库",
    }
    for name, about in helps.items():
        cmd = sub.add_parser(name, help=about, description=about)
        if name in ("backup", "drill"):
            cmd.add_argument("--out", type=Path, required=True, help="备份目录")
        if name in ("restore", "check"):
            cmd.add_argument("--from", dest="source", type=Path, required=True, help="备份目录")
        if name != "restore":
            cmd.add_argument("--database-url", default=None, help="默认 DATABASE_URL")
        if name in ("restore", "drill"):
            cmd.add_argument("--target-url", required=(name == "restore"), help="恢复到的新数据库")
        if name == "drill":
            cmd.add_argument("--keep", action="store_true", help="保留演练恢复出的数据库")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = getattr(args, "database_url", None) or Settings.from_env().database_url
    try:
        if args.command == "backup":
            backup(url, args.out, _store())
        elif args.command == "restore":
            restore(args.source, args.target_url)
            return 0 if check(args.source, args.target_url, _store()).ok else 1
        elif args.command == "check":
            return 0 if check(args.source, url, _store()).ok else 1
        else:
            return 0 if drill(url, args.out, args.target_url, args.keep, _store()) else 1
    except (DrillError, DomainError, OSError, SQLAlchemyError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
