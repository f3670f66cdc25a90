"""Where one filing's time goes, in process: POST /api/v1/cases through Flask's
test client (no HTTP server), on a fresh seeded database, with the fake WeChat
on loopback for content security and a handler and a head for each department
the case reaches (so the outbox rows are written as in a county).

    .venv/bin/python bench/filing.py [-n 300] [--pg URL] [--cases N] [--top 25] [--dump FILE.prof]

Prints the median wall time of one filing (no listener attached, as in
production), the SQL statements and transactions per filing (counted with
engine event listeners over as many filings again) by kind and table, the time
spent in the database, then the cumulative time per filing of each part of the
request under cProfile (which slows everything down about alike: read the
shares, not the absolute figures) and the top functions. The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.api import CATEGORY, DAILY_LIMIT, prepare  # noqa: E402

WARMUP = 20
TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)

# The parts of a filing, by the function that does each: (label, file suffix, function).
PARTS = [
    ("the whole view (file_case)", "app/api/resident.py", "file_case"),
    ("  headers and body validation (_validate_request)", "flask_openapi3/request.py", "_validate_request"),
    ("  token and user (authenticated_user)", "app/api/security.py", "authenticated_user"),
    ("  file_case (handlers)", "handlers/cases/submit.py", "file_case"),
    ("    the read before: key, place, departments (_look_up)", "handlers/cases/submit.py", "_look_up"),
    ("      community, township, daily limit (_place)", "handlers/cases/submit.py", "_place"),
    ("      departments and staff (department_rows)", "handlers/cases/dispatching.py", "department_rows"),
    ("    content security (screen)", "handlers/cases/content.py", "screen"),
    ("      the HTTP call (_post_lean)", "app/wechat/miniprogram.py", "_post_lean"),
    ("    the write transaction (_write)", "handlers/cases/submit.py", "_write"),
    ("      the case in memory (_new_case, before the write lock)", "handlers/cases/submit.py", "_new_case"),
    ("        deadlines (start_clocks)", "handlers/cases/clocks.py", "start_clocks"),
    ("          calendar.add", "routing/calendar.py", "add"),
    ("          ladder plan (schedule)", "handlers/cases/clocks.py", "schedule"),
    ("      case number", "handlers/cases/numbering.py", "next_case_number"),
    ("      assignments (dispatch)", "handlers/cases/dispatching.py", "dispatch"),
    ("      events (_first_events)", "handlers/cases/submit.py", "_first_events"),
    ("      notifications (tell_departments)", "handlers/cases/dispatching.py", "tell_departments"),
    ("      commit", "app/db.py", "commit"),
    ("    the answer's view (filed_view)", "handlers/cases/queries.py", "filed_view"),
    ("    outbox wake-up", "app/services.py", "_wake"),
    ("  read-back (case_for: a repeated key only)", "handlers/cases/queries.py", "case_for"),
    ("  shaping (case_out)", "app/api/answers.py", "case_out"),
    ("  JSON (answer)", "app/api/answers.py", "answer"),
    ("  lazy loads (LazyLoader._load_for_state)", "sqlalchemy/orm/strategies.py", "_load_for_state"),
]
# Where the ORM's time goes across the whole request (these overlap the parts above).
ORM = [
    ("Session.get (none expected)", "sqlalchemy/orm/session.py", "get"),
    ("Session.flush (photos only)", "sqlalchemy/orm/session.py", "flush"),
    ("Session.close (end of each unit of work)", "sqlalchemy/orm/session.py", "close"),
    ("pool checkout (per transaction)", "sqlalchemy/pool/base.py", "_checkout"),
    ("BEGIN (IMMEDIATE and the gate for the write)", "app/db.py", "_sqlite_begin"),
    ("Core execute (every statement)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("http.client: HTTP to WeChat (KeptConnections.post)", "app/wechat/kept.py", "post"),
]


class SQLCounter:
    """Statements, their time and transactions on one engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: Counter[str] = Counter()
        self.by_statement: Counter[str] = Counter()  # seconds by statement text
        self.seconds = 0.0
        self.begins = 0
        self.commits = 0
        self.rollbacks = 0

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Counting while inside. Outside, no cursor event is listened to, so
        the statements ``app.db.fetch`` runs take the cursor itself, as in
        production (with a listener they go through SQLAlchemy, to be seen)."""
        hooks = {
            "before_cursor_execute": self._before,
            "after_cursor_execute": self._after,
            "begin": self._begin,
            "commit": self._commit,
            "rollback": self._rollback,
        }
        for name, fn in hooks.items():
            event.listen(self.engine, name, fn)
        try:
            yield
        finally:
            for name, fn in hooks.items():
                event.remove(self.engine, name, fn)

    def log_one(self, filer: Filer) -> list[str]:
        """The statements of one filing, in order, with the transactions' edges."""
        lines: list[str] = []

        def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            lines.append("  " + " ".join(sql.split())[:150])

        marks = {
            name: (lambda *_a, name=name: lines.append(name.upper()))
            for name in ("begin", "commit", "rollback")
        }
        event.listen(self.engine, "before_cursor_execute", statement)
        for name, fn in marks.items():
            event.listen(self.engine, name, fn)
        try:
            filer.file()
        finally:
            event.remove(self.engine, "before_cursor_execute", statement)
            for name, fn in marks.items():
                event.remove(self.engine, name, fn)
        return lines

    def reset(self) -> None:
        self.statements.clear()
        self.by_statement.clear()
        self.seconds = 0.0
        self.begins = self.commits = self.rollbacks = 0

    def _before(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()
        conn.info["bench_statement"] = statement
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("BEGIN", "COMMIT", "ROLLBACK"):
            return
        match = TABLE.search(statement)
        self.statements[f"{verb} {match.group(1) if match else '?'}"] += 1

    def _after(self, conn: Any, *_: Any) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.seconds += elapsed
        sql = " ".join(conn.info.pop("bench_statement", "?").split())
        self.by_statement[sql if len(sql) <= 150 else f"{sql[:40]} … {sql[-105:]}"] += elapsed

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _rollback(self, _conn: Any) -> None:
        self.rollbacks += 1


class Filer:
    """Residents logged in through the test client, filing one case per call."""

    def __init__(self, app: Any, filings: int) -> None:
        self.client = app.test_client()
        self.services = app.extensions["services"]
        self.tokens = [self._login(f"user-prof-{k}:1") for k in range(filings // DAILY_LIMIT + 1)]
        self.community = self.client.get("/api/v1/communities").get_json()["items"][0]["id"]
        self.filed = 0

    def _login(self, code: str) -> str:
        answer = self.client.post("/api/v1/auth/wechat-login", json={"code": code})
        return str(answer.get_json()["token"])

    def file(self) -> dict[str, Any]:
        k = self.filed
        self.filed += 1
        answer = self.client.post(
            "/api/v1/cases",
            json={
                "category": CATEGORY,
                "community_id": self.community,
                "description": f"楼下有人遛狗不拴绳，第 {k} 次",
                "location_text": f"{k % 30 + 1} 号楼",
            },
            headers={
                "Authorization": f"Bearer {self.tokens[k % len(self.tokens)]}",
                "Idempotency-Key": f"prof-{k}",
            },
        )
        if answer.status_code != 201:
            raise SystemExit(f"filing {k} answered {answer.status_code}: {answer.get_data(as_text=True)}")
        return answer.get_json()  # type: ignore[no-any-return]

    def add_staff(self) -> int:
        """A handler and a head for each department of the category's route."""
        from handlers.accounts import bind_staff, invite_staff, login_with_wechat

        ctx = self.services.context()
        count = 0
        for department in self.file()["departments"]:
            for role in ("handler", "head"):
                code, _ = invite_staff(ctx, department["name"], role)
                user = login_with_wechat(ctx, f"user-prof-staff-{count}:1")
                bind_staff(ctx, user.id, code)
                count += 1
        return count


def timed(filer: Filer, counter: SQLCounter, n: int) -> dict[str, Any]:
    """n filings without the profiler or any listener: wall time; then n more
    counted: statements, transactions, time in SQL."""
    walls = []
    for _ in range(n):
        started = time.perf_counter()
        filer.file()
        walls.append((time.perf_counter() - started) * 1000)
    counter.reset()
    with counter.listening():
        for _ in range(n):
            filer.file()
    return {
        "filing_ms": round(statistics.median(walls), 2),
        "filing_p90_ms": round(sorted(walls)[int(n * 0.9)], 2),
        "statements": round(sum(counter.statements.values()) / n, 1),
        "transactions": round(counter.begins / n, 1),
        "commits": round(counter.commits / n, 1),
        "rollbacks": round(counter.rollbacks / n, 1),
        "sql_ms": round(counter.seconds * 1000 / n, 2),
        "by_table": {k: round(v / n, 1) for k, v in sorted(counter.statements.items())},
        "slowest": [(round(sec * 1000 / n, 3), sql) for sql, sec in counter.by_statement.most_common(5)],
    }


def profiled(filer: Filer, n: int, dump: str | None) -> tuple[pstats.Stats, float]:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(n):
        filer.file()
    profile.disable()
    wall_ms = (time.perf_counter() - started) * 1000 / n
    if dump:
        profile.dump_stats(dump)
    return pstats.Stats(profile), wall_ms


def part_ms(stats: pstats.Stats, suffix: str, name: str, n: int) -> float:
    """Cumulative ms per filing of the functions called ``name`` in files ending with ``suffix``
    (outermost calls only: recursion is not counted twice by cProfile's cumulative time)."""
    total = 0.0
    for (path, _line, func), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and path.endswith(suffix):
            total += cumulative
    return total * 1000 / n


def report(
    figures: dict[str, Any], stats: pstats.Stats, profiled_ms: float, n: int, top: int
) -> dict[str, Any]:
    print(
        f"one filing in process: {figures['filing_ms']} ms median (p90 {figures['filing_p90_ms']} ms); "
        f"{figures['statements']} SQL statements in {figures['transactions']} transactions "
        f"({figures['commits']} committed, {figures['rollbacks']} rolled back), "
        f"{figures['sql_ms']} ms in the database driver"
    )
    for key, count in figures["by_table"].items():
        print(f"  {count:5.1f}  {key}")
    print("the statements taking the most time, ms per filing:")
    for ms, sql in figures["slowest"]:
        print(f"  {ms:8.3f}  {sql}")
    print(f"\nunder cProfile: {profiled_ms:.1f} ms a filing; cumulative ms per filing (share of the view):")
    whole = part_ms(stats, PARTS[0][1], PARTS[0][2], n) or 1.0
    parts = {}
    for label, suffix, name in PARTS:
        ms = part_ms(stats, suffix, name, n)
        parts[label.strip()] = round(ms, 2)
        print(f"  {label:<52} {ms:7.2f} ms  {ms / whole:6.1%}")
    print("\nthe ORM and the I/O across the request, ms per filing:")
    for label, suffix, name in ORM:
        ms = part_ms(stats, suffix, name, n)
        parts[label] = round(ms, 2)
        print(f"  {label:<52} {ms:7.2f} ms  {ms / whole:6.1%}")
    print(f"\ntop {top} functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)
    return figures | {"profiled_ms": round(profiled_ms, 2), "parts_ms": parts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300, help="filings per measurement")
    parser.add_argument("--pg", help="PostgreSQL server URL (a database of our own is created there)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", help="write the cProfile data here (for snakeviz, pstats)")
    parser.add_argument("--cases", type=int, default=0, help="cases already on file before the run")
    args = parser.parse_args()
    from app import create_app
    from app.settings import Settings

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-filing-")))
        env, _fake = prepare(stack, args.pg, workdir, port=80, cases=args.cases)
        app = create_app(Settings.from_env(env))
        stack.callback(app.extensions["services"].close)
        filer = Filer(app, WARMUP + 3 * args.n + 1)
        staff = filer.add_staff()
        counter = SQLCounter(app.extensions["services"].db.engine)
        for _ in range(WARMUP):
            filer.file()
        with counter.listening():
            statements = counter.log_one(filer)
        figures = timed(filer, counter, args.n)
        stats, profiled_ms = profiled(filer, args.n, args.dump)
        print(f"{args.pg and 'postgresql' or 'sqlite'}, {staff} staff notified per filing, {args.n} filings")
        print("the statements of one filing, in order:\n" + "\n".join(statements) + "\n")
        out = report(figures, stats, profiled_ms, args.n, args.top)
    out.pop("by_table")
    out.pop("slowest")
    database = "postgresql" if args.pg else "sqlite"
    print(json.dumps({"database": database, "cases_on_file": args.cases, "staff": staff} | out))


if __name__ == "__main__":
    main()
