"""Filing and reference reads over HTTP, side by side with the peer.

    .venv/bin/python bench/api.py [--peer [--peer-gthread]] [--pg URL [--peer-sqlite]] [-n 1000] [-c 8] [--rounds 1]

Starts the product as it is deployed: gunicorn -w 2 serving ``app:create_app()``
with the repository's ``gunicorn.conf.py`` (gthread workers, 2 threads each,
keep-alive) on a free loopback port, on a fresh migrated and seeded SQLite database (or, with
``--pg postgresql+psycopg://postgres@127.0.0.1:5432/test``, a database of its own
created on that server and dropped afterwards), with the fake WeChat
(``tests/fakewechat``) on loopback as ``WECHAT_API_BASE`` for logins and content
security. It logs residents in through the API (20 filings a day each, so enough
of them), then measures ``POST /api/v1/cases`` (a distinct Idempotency-Key each)
and ``GET /api/v1/categories``: N requests at concurrency C through
``bench/loadgen.py``.

With ``--peer`` it also sets up and serves the peer, 6aika/issue-reporting (a
Django Open311 server a county could deploy for intake instead), through
``bench/peer.sh`` (``PEER_MIRROR``: the git dir of a copy of its repository), on
the same database as ours (SQLite, or with ``--pg`` a PostgreSQL database of its
own on that server, through Django's PostgreSQL backend: the peer's own default
is PostGIS, whose geometry it only adds), under gunicorn -w 2 as its
``serve.sh`` starts it (sync workers), and measures its ``POST requests.json`` and
``GET services.json`` the same way; the two sides alternate in the same run.
``--peer-sqlite`` keeps the peer on SQLite while ours is on PostgreSQL.
``--peer-gthread`` serves the peer with the worker class ours has (gthread, 2
threads) instead, to show what that setting alone is worth to it.
Every process it starts is stopped on the way out, on Ctrl-C and failures too.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Request, Result, run  # noqa: E402

DAILY_LIMIT = 20  # filings a resident may make a day (config/county.yaml)
WARMUP = 40  # requests each side gets, unmeasured, before each measured kind
CATEGORY = "dog_unleashed"
PEER_SERVICES = "/api/georeport/v2/services.json"
PEER_FORM = "service_code=dog&description=Unleashed+dog+near+building+{i}&lat=38.28&long=106.24"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(
    argv: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group (gunicorn's workers included), stopped
    with SIGTERM, then SIGKILL, whatever happens in between."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            # The group may outlive its leader for a moment (gunicorn's workers).
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.5)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.loads(answer.read())


_databases = itertools.count()


@contextmanager
def database(pg: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database URL: an SQLite file, or a database of our own on the server."""
    if not pg:
        yield f"sqlite:///{workdir / 'cases.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(pg)
    name = f"bench_api_{os.getpid()}_{next(_databases)}"  # two servers of one run get two
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_env(database_url: str, wechat: str, workdir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "WECOM_", "PEER_"))}
    env.update(
        {
            "APP_ENV": "development",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "DATABASE_URL": database_url,
            "WECHAT_API_BASE": wechat,
            "REDIS_URL": "",
            "SCHEDULER_ENABLED": "0",
            "CLOCK_OFFSET_SECONDS": "0",
            "PHOTO_DIR": str(workdir / "photos"),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )
    env.pop("CASES_CONFIG", None)
    return env


def prepare(
    stack: ExitStack, pg: str | None, workdir: Path, port: int, cases: int = 0
) -> tuple[dict[str, str], int]:
    """The fake WeChat running and a migrated, seeded database: the app's
    environment and the fake's process id."""
    wechat_port = free_port()
    wechat_log = workdir / "fakewechat.log"
    fake = stack.enter_context(
        process([sys.executable, "-m", "tests.fakewechat", "--port", str(wechat_port)], wechat_log)
    )
    wechat = f"http://127.0.0.1:{wechat_port}/"
    url = stack.enter_context(database(pg, workdir))
    env = app_env(url, wechat, workdir, port)
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
    if cases:
        fill_cases(env, cases)
    wait_http(f"{wechat}_fake/sent", fake, wechat_log, timeout=20)
    return env, fake.pid


def fill_cases(env: dict[str, str], cases: int) -> None:
    """Cases already on file (half open, the rest closed, all from 2025), written
    in bulk as bench/escalation.py writes them, so a run shows what table size costs."""
    from app.services import Services
    from app.settings import Settings
    from bench.escalation import fill

    started = time.perf_counter()
    services = Services(Settings.from_env(env))
    try:
        fill(services, cases)
    finally:
        services.close()
    print(f"{cases:,} cases on file (written in {time.perf_counter() - started:.0f} s)", flush=True)


def start_ours(
    stack: ExitStack, pg: str | None, workdir: Path, cases: int
) -> tuple[str, dict[str, str], dict[str, int]]:
    """Fake WeChat, database, migrations, seed, gunicorn: our base URL, the
    servers' environment (DATABASE_URL, WECHAT_API_BASE) and their process groups."""
    port = free_port()
    env, fake = prepare(stack, pg, workdir, port, cases)
    log = workdir / "gunicorn.log"
    argv = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"]
    server = stack.enter_context(process(argv, log, env))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server, log)
    return base, env, {"server": server.pid, "wechat": fake}


def start_peer(
    stack: ExitStack, workdir: Path, threaded: bool = False, pg: str | None = None
) -> tuple[str, dict[str, int]]:
    """The peer as its ``serve.sh`` starts it (sync workers), or with ``threaded``
    in the worker class ours is deployed with, to tell the two apart from it;
    on SQLite, or with ``pg`` on a PostgreSQL database of its own there."""
    if not os.environ.get("PEER_MIRROR"):
        raise SystemExit("--peer needs PEER_MIRROR: the git dir of a copy of github:6aika/issue-reporting")
    script = str(ROOT / "bench" / "peer.sh")
    if pg:
        from sqlalchemy.engine import make_url

        url = make_url(stack.enter_context(database(pg, workdir)))
        # django-environ's names: postgres:// is Django's PostgreSQL backend.
        peer_db = url.set(drivername="postgres").render_as_string(hide_password=False)
    else:
        peer_db = f"sqlite:///{workdir / 'peer.sqlite3'}"
    env = dict(os.environ, PEER_DB=peer_db)
    env.pop("GUNICORN_CMD_ARGS", None)
    if threaded:
        env["GUNICORN_CMD_ARGS"] = "--worker-class gthread --threads 2"
    for step in ("setup", "db"):
        done = subprocess.run(["bash", script, step], env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"peer.sh {step} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    port = free_port()
    log = workdir / "peer.log"
    server = stack.enter_context(process(["bash", script, "serve", str(port)], log, env))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/georeport/v2/services.json", server, log)
    return base, {"server": server.pid}


class Ours:
    """Our side's requests: filings spread over enough residents, each with its own key."""

    def __init__(self, base: str, filings: int) -> None:
        self.base = base
        residents = math.ceil(filings / DAILY_LIMIT)
        run_id = uuid.uuid4().hex[:8]
        self.tokens = [
            call(base, "POST", "/api/v1/auth/wechat-login", {"code": f"user-bench-{run_id}-{k}:1"})["token"]
            for k in range(residents)
        ]
        self.community = call(base, "GET", "/api/v1/communities")["items"][0]["id"]
        self.filed = 0
        self.run_id = run_id

    def add_staff(self, env: dict[str, str]) -> int:
        """A handler and a head for each department a filing reaches, bound through
        the API, so each filing writes its notifications as it does in a county.
        Files one case (by a resident of its own) to learn the departments."""
        probe = call(
            self.base, "POST", "/api/v1/auth/wechat-login", {"code": f"user-bench-{self.run_id}-p:1"}
        )
        body = {"category": CATEGORY, "community_id": self.community, "description": "遛狗不拴绳，先试一件"}
        case = call(self.base, "POST", "/api/v1/cases", body, probe["token"])
        self.filed += 1
        staff = 0
        for department in case["departments"]:
            for role in ("handler", "head"):
                invite = subprocess.run(
                    [str(BIN / "flask"), "--app", "app", "staff", "invite"]
                    + ["--department", department["name"], "--role", role],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                code = invite.stdout.strip().splitlines()[-1]
                login = f"user-bench-{self.run_id}-s{staff}:1"
                token = call(self.base, "POST", "/api/v1/auth/wechat-login", {"code": login})["token"]
                call(self.base, "POST", "/api/v1/auth/bind-staff", {"binding_code": code}, token)
                staff += 1
        return staff

    def post(self, offset: int) -> Callable[[int], Request]:
        def build(i: int) -> Request:
            k = offset + i
            body = {
                "category": CATEGORY,
                "community_id": self.community,
                "description": f"楼下有人遛狗不拴绳，第 {k} 次",
                "location_text": f"{k % 30 + 1} 号楼",
            }
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.tokens[k % len(self.tokens)]}",
                "Idempotency-Key": f"bench-{self.run_id}-{k}",
            }
            return Request("POST", "/api/v1/cases", json.dumps(body).encode(), headers)

        return build


def peer_post(i: int) -> Request:
    body = PEER_FORM.replace("{i}", str(i)).encode()
    return Request(
        "POST",
        "/api/georeport/v2/requests.json",
        body,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


def get(path: str) -> Callable[[int], Request]:
    return lambda _i: Request("GET", path)


def cpu_seconds(pgid: int) -> float:
    """User and system CPU time of the processes alive in a process group."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    result: Result
    cpu_ms: dict[str, float]  # CPU ms per request by process group, and the load client's


def measure(label: str, side: Side, build: Callable[[int], Request], n: int, c: int) -> Measured:
    before = {name: cpu_seconds(pgid) for name, pgid in side.groups.items()} | {"client": time.process_time()}
    result = run(side.base, build, n, c)
    after = {name: cpu_seconds(pgid) for name, pgid in side.groups.items()} | {"client": time.process_time()}
    cpu = {name: round((after[name] - before[name]) * 1000 / max(1, result.n), 2) for name in before}
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(result.statuses.items()))
    print(
        f"  {label:<10} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
        f"errors {result.errors} ({codes});  CPU ms/request: "
        + ", ".join(f"{name} {ms}" for name, ms in cpu.items()),
        flush=True,
    )
    return Measured(result, cpu)


def median_of(rounds: list[Measured]) -> Measured:
    """The round with the median throughput (one round: that round)."""
    return sorted(rounds, key=lambda m: m.result.rps)[len(rounds) // 2]


def ratio(ours: list[Measured], peer: list[Measured]) -> float:
    """The median of the rounds' ratios: each round's two sides ran back to back."""
    pairs = zip(ours, peer, strict=True)
    return round(statistics.median(o.result.rps / p.result.rps for o, p in pairs), 2)


@dataclass
class Side:
    """One server under test: where it answers, its process groups, what it is sent."""

    name: str
    base: str
    groups: dict[str, int]
    post: Callable[[int], Callable[[int], Request]]  # offset -> request builder
    get_path: str
    files_cases: bool = False


def run_rounds(sides: list[Side], n: int, c: int, rounds: int) -> tuple[dict[str, list[Measured]], int]:
    """The sides alternate: warm-up, then per round each side's POST, then each side's GET.
    Answers the measurements and how many POSTs the filing side made."""
    filed = 0
    for side in sides:
        run(side.base, side.post(filed), WARMUP, c)
        run(side.base, get(side.get_path), WARMUP, c)
        filed += WARMUP if side.files_cases else 0
    results: dict[str, list[Measured]] = {}
    for r in range(rounds):
        print(f"round {r + 1} of {rounds}: {n} requests each at concurrency {c}", flush=True)
        for kind in ("post", "get"):
            for side in sides:
                build = side.post(filed) if kind == "post" else get(side.get_path)
                measured = measure(f"{side.name} {kind.upper()}", side, build, n, c)
                results.setdefault(f"{side.name}_{kind}", []).append(measured)
                filed += n if kind == "post" and side.files_cases else 0
    return results, filed


def check_ours(ours: Ours, database_url: str, wechat_calls: int, staff: int, on_file: int) -> None:
    """Every filing is in the database, checked by content security once, its
    staff notified: the handlers and heads of its departments, the ones bound
    here and any the cases on file came with (the probe filing came before
    the ones bound here)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        notes = conn.execute(text("SELECT count(*) FROM notifications")).scalar_one()
        told = conn.execute(
            text(
                "SELECT count(*) FROM users WHERE role IN ('handler', 'head') AND department_id IN "
                "(SELECT department_id FROM assignments WHERE case_id = (SELECT max(id) FROM cases))"
            )
        ).scalar_one()
    engine.dispose()
    print(
        f"cases in the database: {cases} ({on_file} on file, {ours.filed} filed); "
        f"content-security calls: {wechat_calls}; "
        f"notifications: {notes}"
    )
    if cases != ours.filed + on_file or wechat_calls != ours.filed or notes != ours.filed * told - staff:
        raise SystemExit("the filings are not all there")


def summary(results: dict[str, list[Measured]], database: str) -> dict[str, Any]:
    out: dict[str, Any] = {"database": database, "rounds": len(results["ours_post"])}
    for key, rounds in results.items():
        m = median_of(rounds)
        out[f"{key}_rps"] = m.result.rps
        out[f"{key}_p50_ms"] = m.result.p50_ms
        out[f"{key}_p99_ms"] = m.result.p99_ms
        out[f"{key}_errors"] = m.result.errors
        out[f"{key}_cpu_ms"] = m.cpu_ms
    if "peer_post" in results:
        out["post_ratio"] = ratio(results["ours_post"], results["peer_post"])
        out["get_ratio"] = ratio(results["ours_get"], results["peer_get"])
    return out


def _sec_check_calls(wechat: str) -> int:
    with urllib.request.urlopen(f"{wechat}_fake/calls", timeout=30) as answer:
        calls = json.loads(answer.read())["items"]
    return sum(1 for c in calls if c["path"] == "wxa/msg_sec_check")


def _interrupted(*_: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every started process is stopped; a
    second signal does not cut that cleanup short."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL server URL (a database of our own is created there)")
    parser.add_argument("--peer", action="store_true", help="also run 6aika/issue-reporting (PEER_MIRROR)")
    parser.add_argument(
        "--peer-gthread",
        action="store_true",
        help="serve the peer with gthread x 2 too (as ours), not its sync workers",
    )
    parser.add_argument(
        "--peer-sqlite",
        action="store_true",
        help="with --pg, keep the peer on SQLite (by default it runs on PostgreSQL as ours does)",
    )
    parser.add_argument("-n", type=int, default=1000, help="requests per measurement")
    parser.add_argument("-c", type=int, default=8, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=1, help="alternations; the median round is reported")
    parser.add_argument("--cases", type=int, default=0, help="cases already on file before the run")
    args = parser.parse_args()
    # Also SIGINT: a shell without job control starts background jobs with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupted)
    try:
        out = measure_all(args)
    except KeyboardInterrupt:
        print("interrupted: every process started here has been stopped", file=sys.stderr)
        raise SystemExit(130) from None
    if "post_ratio" in out:
        print(f"ratios (ours/peer): POST {out['post_ratio']}x, GET {out['get_ratio']}x")
    print(json.dumps(out))


def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-")))
        base, env, groups = start_ours(stack, args.pg, workdir, args.cases)
        database = "postgresql" if args.pg else "sqlite"
        ours = Ours(base, WARMUP + args.n * args.rounds)
        staff = ours.add_staff(env)
        sides = [Side("ours", base, groups, ours.post, "/api/v1/categories", files_cases=True)]
        print(
            f"ours: gunicorn -w 2 (gthread x 2, gunicorn.conf.py) on {base} ({database}), {len(ours.tokens)} residents, {staff} staff"
        )
        if args.peer:
            peer_pg = None if args.peer_sqlite else args.pg
            peer, peer_groups = start_peer(stack, workdir, args.peer_gthread, peer_pg)
            sides.append(Side("peer", peer, peer_groups, lambda _offset: peer_post, PEER_SERVICES))
            workers = "gthread x 2" if args.peer_gthread else "sync"
            peer_database = "postgresql" if peer_pg else "sqlite"
            print(
                f"peer: 6aika/issue-reporting, gunicorn -w 2 ({workers}) on {peer} ({peer_database})",
                flush=True,
            )
        results, filed = run_rounds(sides, args.n, args.c, args.rounds)
        ours.filed += filed
        calls = _sec_check_calls(env["WECHAT_API_BASE"])
        check_ours(ours, env["DATABASE_URL"], calls, staff, args.cases)
    return summary(results, database) | {
        "cases_on_file": args.cases,
        "peer_workers": ("gthread" if args.peer_gthread else "sync") if args.peer else None,
        "peer_database": ("sqlite" if args.peer_sqlite or not args.pg else "postgresql")
        if args.peer
        else None,
    }


if __name__ == "__main__":
    main()
