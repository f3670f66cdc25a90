"""A bounded loopback load client: N requests at concurrency C, one keep-alive
connection per client thread; req/s, p50 and p99.

    .venv/bin/python bench/loadgen.py URL [--method POST] [--form 'k=v&k2={i}' | --json '{...}']
        [--header 'K: V'] [-n 1000] [-c 8]

``{i}`` in a body or URL is the request's number. Loopback only; it stops after N
requests or 120 s. The last line is one JSON object with n, rps, p50_ms, p99_ms,
errors. ``bench/api.py`` calls ``run`` with a function that builds each request,
so one side's requests can carry different tokens and keys; both sides of a
comparison go through this same client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIME_LIMIT_S = 120


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    n: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict[int, int]

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
        }


def run(base_url: str, request_for: Callable[[int], Request], n: int, c: int) -> Result:
    """Send requests 0..n-1 (built by ``request_for``) from ``c`` threads."""
    u = urllib.parse.urlsplit(base_url)
    if u.hostname not in LOOPBACK:
        raise ValueError("loopback only")
    host, port = u.hostname, u.port
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    lock = threading.Lock()
    counter = iter(range(n))
    deadline = time.monotonic() + TIME_LIMIT_S

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            req = request_for(i)
            started = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except Exception:  # noqa: BLE001 - any failure is an error; reconnect and go on
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                errors += 0 if 0 < status < 400 else 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        return Result(0, 0.0, 0.0, 0.0, errors, statuses)
    return Result(
        n=len(latencies),
        rps=round(len(latencies) / wall, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ms=round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 2),
        errors=errors,
        statuses=statuses,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--form")
    ap.add_argument("--json")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-c", type=int, default=8)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    headers = dict(h.split(": ", 1) for h in a.header)
    template = a.form or a.json
    if a.form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if a.json:
        headers["Content-Type"] = "application/json"
    path = u.path + ("?" + u.query if u.query else "")

    def request_for(i: int) -> Request:
        body = template.replace("{i}", str(i)).encode() if template else None
        return Request(a.method, path.replace("{i}", str(i)), body, headers)

    result = run(a.url, request_for, a.n, a.c)
    print(
        f"{a.method} {u.path}: {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.errors} errors"
    )
    print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
