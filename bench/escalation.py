"""Escalation sweep and overdue list cost against table size.

    .venv/bin/python bench/escalation.py [--sizes 10000,100000,1000000] [--pg URL] [--quick]

For each size, a fresh database holds that many cases of which the same 1,000
are due (each one step: its accept deadline just passed, the 超期 step, which
tells the primary department's two heads: 1,000 steps, 1,000 events, 2,000
outbox rows); the rest are open with deadlines ahead, or closed. A warm-up
sweep over 100 other cases first runs each statement once, as a worker that
has swept before has (its statement cache filled); those cases are then
closed. Prints the median time of the sweep of the 1,000 (timed ``--repeats``
times, the work put back between: steps, events and notifications deleted),
the CPU time the sweeping process used (on a loaded machine the wall time
waits for a core; with PostgreSQL the server's own time is not in it), the
warm-up's own time (a cold process), the median time of
the overdue list's first page, then the ratio of the largest size to the
smallest. ``--quick``: 10^4 only, fewer repeats. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.clock import FixedClock  # noqa: E402
from app.services import Services  # noqa: E402
from app.settings import Settings  # noqa: E402
from handlers.seed import seed_reference  # noqa: E402
from handlers.supervision.escalation import sweep  # noqa: E402
from handlers.supervision.reports import OverdueFilter, overdue_cases  # noqa: E402

DUE = 1000
WARM = 100  # cases the warm-up sweep fires, then closed
WARM_EARLIER = timedelta(days=1)
NOW = datetime(2025, 6, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai


def _migrate(url: str) -> None:
    from app.migrate import upgrade

    upgrade(url)


def _ts(moment: datetime, sqlite: bool) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if sqlite else "+00")


def _seq(sqlite: bool) -> str:
    return (
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < :n) SELECT x FROM seq"
        if sqlite
        else "SELECT generate_series(1, :n) AS x"
    )


def _minus_x(param: str, sqlite: bool) -> str:
    """SQL for the moment ``param`` less x seconds (x: the sequence's number)."""
    if sqlite:
        # whole seconds moved, the fraction kept: the format SQLAlchemy writes
        return f"strftime('%Y-%m-%d %H:%M:%S', {param}, '-' || x || ' seconds') || substr({param}, 20)"
    return f"CAST({param} AS timestamptz) - x * interval '1 second'"


def _residents(conn: Any, count: int, sqlite: bool) -> int:
    """``count`` residents in one statement; answers the first one's id (the ids run on)."""
    conn.execute(
        text(
            "INSERT INTO users (openid, role, display_name, phone, wecom_userid, created_at) "
            f"SELECT 'o-bench-' || x, 'resident', '', '', '', :t FROM ({_seq(sqlite)}) AS s"
        ),
        {"n": count, "t": _ts(NOW, sqlite) if sqlite else NOW},
    )
    return int(conn.execute(text("SELECT min(id) FROM users WHERE openid LIKE 'o-bench-%'")).scalar_one())


def fill(services: Any, size: int) -> None:
    """Bulk rows with one INSERT ... SELECT over a generated sequence: ten cases a
    resident, each filed with an Idempotency-Key as the mini-program sends one."""
    sqlite = services.db.engine.dialect.name == "sqlite"
    with services.db.engine.begin() as conn:
        community = conn.execute(text("SELECT id, township_id FROM communities ORDER BY id LIMIT 1")).one()
        primary = conn.execute(text("SELECT id FROM departments WHERE name = '综合执法局'")).scalar_one()
        residents = max(1, size // 10)
        first = _residents(conn, residents, sqlite)
        for n in (1, 2):  # the heads the 超期 step tells
            conn.execute(
                text(
                    "INSERT INTO users (openid, role, department_id, display_name, phone, wecom_userid, created_at) "
                    "VALUES (:o, 'head', :d, '科长', '', '', :t)"
                ),
                {"o": f"o-bench-head-{n}", "d": primary, "t": _ts(NOW, sqlite) if sqlite else NOW},
            )
        created = NOW - timedelta(days=2)
        past = NOW - timedelta(minutes=5)  # just passed: one step (overdue) due
        future = NOW + timedelta(days=3)
        seq = _seq(sqlite)
        due_cond = f"x <= {DUE}"
        # The warm-up's cases are due a day earlier, when the warm-up sweeps.
        warm_cond = f"x > {DUE} AND x <= {DUE + WARM}"
        open_cond = "x % 2 = 0"
        # Each due case has its own moments (x seconds apart), as cases filed
        # one by one have: no two share a deadline or a working-time sum.
        past_x, created_x = _minus_x(":past", sqlite), _minus_x(":created", sqlite)
        conn.execute(
            text(
                f"""
            INSERT INTO cases (number, category, config_version, route, community_id, reporter_id, anonymous,
                description, location_text, status, urgent, needs_review, primary_department_id, created_at,
                updated_at, accept_due_at, resolve_started_at, resolve_due_at, due_at,
                rating_comment, reject_reason, idempotency_key)
            SELECT 'YNB-' || x, 'dog_unleashed', '2023.1', 'dirt-5', :community, :first + x % :residents, false,
                '基准测试工单', '',
                CASE WHEN {due_cond} OR {warm_cond} OR {open_cond} THEN 'dispatched' ELSE 'closed' END,
                false, false, :primary, :created, :created,
                CASE WHEN {due_cond} THEN {past_x} WHEN {warm_cond} THEN :warm WHEN {open_cond} THEN :future ELSE NULL END,
                CASE WHEN {due_cond} THEN {created_x} ELSE :created END,
                CASE WHEN {due_cond} OR {warm_cond} OR {open_cond} THEN :future2 ELSE NULL END,
                CASE WHEN {due_cond} THEN {past_x} WHEN {warm_cond} THEN :warm WHEN {open_cond} THEN :future ELSE NULL END,
                '', '', 'bench-' || x
            FROM ({seq}) AS s
            """
            ),
            {
                "n": size,
                "community": community.id,
                "first": first,
                "residents": residents,
                "primary": primary,
                "created": _ts(created, sqlite) if sqlite else created,
                "past": _ts(past, sqlite) if sqlite else past,
                "warm": _ts(past - WARM_EARLIER, sqlite) if sqlite else past - WARM_EARLIER,
                "future": _ts(future, sqlite) if sqlite else future,
                "future2": _ts(future + timedelta(days=4), sqlite) if sqlite else future + timedelta(days=4),
            },
        )
        # Each case's clock: the sweep next looks at an open case at its deadline.
        conn.execute(
            text(
                "INSERT INTO case_clocks (case_id, escalation_step, next_escalation_at) "
                "SELECT id, NULL, due_at FROM cases ORDER BY id"
            )
        )
        conn.execute(
            text(
                "INSERT INTO assignments (case_id, department_id, role, position, due_at, open, created_at) "
                "SELECT id, primary_department_id, '主办', 0, due_at, due_at IS NOT NULL, created_at FROM cases"
            )
        )
    with services.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def run_size(size: int, pg: str | None, workdir: Path, repeats: int) -> dict[str, float]:
    if pg:
        base = make_url(pg)
        name = f"bench_escalation_{size}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir / f'bench-{size}.db'}"
    _migrate(url)
    services = Services(Settings.from_env({"DATABASE_URL": url, "WECHAT_API_BASE": "http://127.0.0.1:9/"}))
    services.clock = FixedClock(NOW - timedelta(days=2))
    seed_reference(services.context())
    started = time.perf_counter()
    fill(services, size)
    fill_s = time.perf_counter() - started
    # The warm-up: this process's first sweep, over the warm-up's cases only.
    services.clock = FixedClock(NOW - WARM_EARLIER)
    t0 = time.perf_counter()
    warmed = sweep(services.context())
    cold_s = time.perf_counter() - t0
    assert warmed == WARM, warmed
    with services.db.engine.begin() as conn:
        warmed_up = f"number IN ({', '.join(repr(f'YNB-{x}') for x in range(DUE + 1, DUE + WARM + 1))})"
        conn.execute(text(f"UPDATE cases SET status = 'closed', due_at = NULL WHERE {warmed_up}"))
        conn.execute(
            text(
                "UPDATE case_clocks SET next_escalation_at = NULL "
                f"WHERE case_id IN (SELECT id FROM cases WHERE {warmed_up})"
            )
        )
    services.clock = FixedClock(NOW)

    pages = []
    for _ in range(7):
        t0 = time.perf_counter()
        cases, total = overdue_cases(services.context(), OverdueFilter(), 1, 20)
        pages.append((time.perf_counter() - t0) * 1000)
        assert total == DUE and len(cases) == 20, (total, len(cases))
    sweeps, cpu, idle = [], [], []
    for attempt in range(repeats):
        if attempt:
            _undo_sweep(services)
        t0, c0 = time.perf_counter(), time.process_time()
        fired = sweep(services.context())
        sweeps.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert fired == DUE, fired
        t0 = time.perf_counter()
        again = sweep(services.context())
        idle.append(time.perf_counter() - t0)
        assert again == 0
    _check_written(services)
    sweep_s, idle_s, cpu_s = statistics.median(sweeps), statistics.median(idle), statistics.median(cpu)
    services.close()
    if pg:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(
        f"{size:>9,} cases: fill {fill_s:6.1f} s | sweep of {DUE} due {sweep_s * 1000:7.1f} ms "
        f"(median of {repeats}: {', '.join(f'{x * 1000:.0f}' for x in sweeps)}; CPU of this process "
        f"{cpu_s * 1000:.0f} ms; idle sweep {idle_s * 1000:5.1f} ms; "
        f"first sweep of the process, {WARM} due: {cold_s * 1000:.0f} ms) | "
        f"overdue page 1 {statistics.median(pages):6.2f} ms",
        flush=True,
    )
    return {
        "sweep_s": sweep_s,
        "page_ms": statistics.median(pages),
        "idle_sweep_s": idle_s,
        "cold_s": cold_s,
        "cpu_s": cpu_s,
    }


def _undo_sweep(services: Any) -> None:
    """Put the 1,000 due cases back as they were before the sweep, to time it again."""
    sqlite = services.db.engine.dialect.name == "sqlite"
    now = _ts(NOW, sqlite) if sqlite else NOW
    with services.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM escalations WHERE fired_at = :n"), {"n": now})
        conn.execute(text("DELETE FROM case_events WHERE kind = 'escalated' AND at = :n"), {"n": now})
        conn.execute(text("DELETE FROM notifications WHERE created_at = :n"), {"n": now})
        conn.execute(
            text(
                "UPDATE case_clocks SET next_escalation_at = "
                "(SELECT accept_due_at FROM cases WHERE cases.id = case_clocks.case_id), escalation_step = NULL "
                "WHERE escalation_step IS NOT NULL AND case_id IN (SELECT id FROM cases WHERE status = 'dispatched')"
            )
        )


def _check_written(services: Any) -> None:
    """What the sweep must have written: a step and an event per due case, an
    outbox row per head, each case looked at again only at its next step."""
    with services.db.engine.connect() as conn:
        one = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM escalations WHERE step = 'overdue'), "
                "(SELECT count(*) FROM case_events WHERE kind = 'escalated'), "
                "(SELECT count(*) FROM notifications WHERE purpose = 'escalation'), "
                "(SELECT count(*) FROM case_clocks WHERE escalation_step = 'overdue' AND next_escalation_at > :n)"
            ),
            {"n": _ts(NOW, True) if services.db.engine.dialect.name == "sqlite" else NOW},
        ).one()
    assert tuple(one) == (DUE + WARM, DUE + WARM, 2 * (DUE + WARM), DUE), tuple(one)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--pg", default=None, help="PostgreSQL server URL, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
    )
    parser.add_argument("--quick", action="store_true", help="10^4 cases only, three sweeps")
    parser.add_argument("--repeats", type=int, default=5, help="sweeps timed at each size (median)")
    args = parser.parse_args()
    sizes = [10000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeats = 3 if args.quick else args.repeats
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            results[size] = run_size(size, args.pg, Path(tmp), repeats)
    small, large = results[min(sizes)], results[max(sizes)]
    summary: dict[str, Any] = {"database": "postgresql" if args.pg else "sqlite", "due": DUE}
    for size, r in results.items():
        tag = f"{size:.0e}".replace("+0", "").replace("+", "")
        summary[f"sweep_{tag}_s"] = round(r["sweep_s"], 3)
        summary[f"overdue_page_{tag}_ms"] = round(r["page_ms"], 2)
        summary[f"sweep_cpu_{tag}_s"] = round(r["cpu_s"], 3)
        summary[f"first_sweep_{tag}_s"] = round(r["cold_s"], 3)
    summary["sweep_target_s"] = 0.25
    summary["sweep_met"] = all(r["sweep_s"] < 0.25 for r in results.values())
    summary["sweep_ratio"] = round(large["sweep_s"] / small["sweep_s"], 2)
    summary["overdue_page_ratio"] = round(large["page_ms"] / small["page_ms"], 2)
    print(f"largest/smallest: sweep {summary['sweep_ratio']}x, overdue page {summary['overdue_page_ratio']}x")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
