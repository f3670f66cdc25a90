"""Running the product's own processes (gunicorn, workers) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.ownservers import free_port

ROOT = Path(__file__).resolve().parents[2]


def fast_config(tmp_path: Path) -> Path:
    """The shipped county with seconds instead of days, on the calendar clock."""
    raw = yaml.safe_load((ROOT / "config" / "county.yaml").read_text(encoding="utf-8"))
    for category in raw["categories"]:
        if category["code"] == "dog_unleashed":
            category["accept_within"] = "2s"
            category["resolve_within"] = "6s"
    for step in raw["escalation"]:
        if step["step"] == "supervision":
            step["after_deadline"] = "2s"
        if step["step"] == "leader":
            step["after_deadline"] = "4s"
    path = tmp_path / "fast-county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def worker_env(settings: Any, config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "WECHAT_TOKEN": settings.wechat_token,
            "WECHAT_API_BASE": settings.wechat_api_base,
            "WECOM_API_BASE": settings.wecom_api_base,
            "WECOM_CORP_ID": settings.wecom_corp_id,
            "WECOM_SECRET": settings.wecom_secret,
            "WECOM_AGENT_ID": settings.wecom_agent_id,
            "CASES_CONFIG": str(config),
            "PHOTO_DIR": settings.photo_dir,
            "ESCALATION_INTERVAL_SECONDS": "1",
            "OUTBOX_INTERVAL_SECONDS": "1",
            "OUTBOX_LEASE_SECONDS": "2",
            "REDIS_URL": "",
        }
    )
    env.update(extra)
    return env


@contextmanager
def workers(
    env: dict[str, str], count: int, stderr: Any = subprocess.PIPE, cwd: Path = ROOT
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` workers started in ``cwd`` (elsewhere than the checkout, the
    env's PYTHONPATH must name it)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int = 2,
    stderr: Any = subprocess.PIPE,
    port: int | None = None,
    cwd: Path = ROOT,
    config: Path | None = None,
) -> Iterator[tuple[str, Any]]:
    """``gunicorn 'app:create_app()'`` on ``port`` (a free one by default),
    started in ``cwd`` (gunicorn reads ``gunicorn.conf.py`` there) or with
    ``--config``; answers (base URL, process) once /healthz answers."""
    port = port or free_port()
    options = ["--config", str(config)] if config is not None else []
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "app:create_app()",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: _up(base), timeout=30):
            raise RuntimeError(
                server.stderr.read().decode() if server.poll() and server.stderr else "no answer"
            )
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stderr:
            server.stderr.close()


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False
