"""Schemathesis against a served instance: the published OpenAPI document is
checked against what the API really answers.

Serves the API with gunicorn on a free loopback port (SQLite in a scratch
folder, migrated and seeded, the fake WeChat in this process), logs in a
resident, a supervisor and an admin through the API, then runs schemathesis over every
operation with each token, the three at once: a bounded number of examples per operation,
checks ``not_a_server_error``, ``status_code_conformance`` and
``response_schema_conformance``. Exit status is schemathesis' own (0 = clean).

    .venv/bin/python scripts/api_fuzz.py [--examples 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp: Path, wechat_base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp / 'fuzz.db'}",
        SECRET_KEY="fuzz-only-secret-key-not-for-production-use",
        WECHAT_API_BASE=wechat_base,
        WECOM_API_BASE=wechat_base,
        WECHAT_TOKEN="fuzz-push-token",
        PHOTO_DIR=str(tmp / "photos"),
        REDIS_URL="",
        SCHEDULER_ENABLED="",
    )
    return env


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _call(method: str, url: str, token: str = "", **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.request(method, url, headers=headers, timeout=20, **kwargs)
    if answer.status_code >= 300:
        raise SystemExit(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def _wait(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def _served(env: dict[str, str], port: int) -> Iterator[str]:
    log = open(Path(env["PHOTO_DIR"]).parent / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _login(base: str, name: str, env: dict[str, str] | None = None, **invite: str) -> str:
    """A bearer token through the API (the fake's ``user-<name>:<n>`` codes);
    bound as staff with ``flask --app app staff invite`` when ``invite`` names a role."""
    token = str(_call("POST", f"{base}/api/v1/auth/wechat-login", json={"code": f"user-{name}:1"})["token"])
    if invite and env is not None:
        cli = ["staff", "invite", "--department", invite["department"], "--role", invite["role"]]
        code = _flask(env, *cli).strip().splitlines()[-1]
        _call("POST", f"{base}/api/v1/auth/bind-staff", token, json={"binding_code": code})
    return token


def _jpeg(shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 90, 40)).save(out, "JPEG")
    return out.getvalue()


def _some_data(base: str, env: dict[str, str], resident: str) -> dict[str, list[Any]]:
    """Cases in several states, a photo and an extension request, so the
    fuzzer also reaches real records, not only 404s."""
    api = f"{base}/api/v1"
    handler = _login(base, "fuzz-handler", env, department="综合执法局", role="handler")
    community = _call("GET", f"{api}/communities")["items"][0]["id"]
    photos, cases = [], []
    for shade in range(3):
        photo = _call(
            "POST", f"{api}/photos", resident, files={"file": ("p.jpg", _jpeg(shade * 60), "image/jpeg")}
        )
        photos.append(photo["id"])
    body = {"category": "dog_unleashed", "community_id": community, "description": "小区里有人遛狗不拴绳"}
    for n in range(3):
        cases.append(
            _call("POST", f"{api}/cases", resident, json=body | {"photo_ids": photos[n : n + 1]})["id"]
        )
    for case in cases[1:]:
        _call("POST", f"{api}/staff/cases/{case}/accept", handler, json={})
    evidence = _call("POST", f"{api}/photos", handler, files={"file": ("e.jpg", _jpeg(250), "image/jpeg")})[
        "id"
    ]
    _call(
        "POST",
        f"{api}/staff/cases/{cases[2]}/resolve",
        handler,
        json={"note": "已处理", "photo_ids": [evidence]},
    )
    extension = _call(
        "POST",
        f"{api}/staff/cases/{cases[1]}/extension",
        handler,
        # At most a year ahead; the served app's clock is this machine's.
        json={"reason": "需要协调", "until": (datetime.now(UTC) + timedelta(days=60)).date().isoformat()},
    )
    return {
        "cases": cases,
        "photos": photos,
        "extensions": [extension["id"]],
        "communities": [community],
        "categories": [c["code"] for c in _call("GET", f"{api}/categories")["items"]],
        "periods": ["2026-11", "2026-Q4", "2026"],
    }


def _config(tmp: Path, data: dict[str, list[Any]]) -> Path:
    """schemathesis.toml: half the time a path or body value is one that exists."""
    bindings = {
        "path.case_id": "cases",
        "path.photo_id": "photos",
        "path.extension_id": "extensions",
        "path.community_id": "communities",
        "body.community_id": "communities",
        "body.category": "categories",
        "body.into": "cases",
        "query.period": "periods",
        "path.period": "periods",
    }
    lines = []
    for name, values in data.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()]
    path = tmp / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _schemathesis(
    base: str, token: str, config: Path, args: argparse.Namespace, out: Path
) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.examples),
        "--seed",
        str(args.seed),
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "too_slow,filter_too_much",
        "--no-color",
    ]
    # Run in the scratch folder: schemathesis leaves its cache where it runs.
    # Its output goes to a file of its own, printed whole when it is done, so
    # the three callers' runs can go at once without their lines interleaving.
    with open(out, "wb") as sink:
        return subprocess.Popen(command, cwd=config.parent, stdout=sink, stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from tests.fakewechat import FakeWeChat

    with tempfile.TemporaryDirectory(prefix="api-fuzz-") as scratch, FakeWeChat() as wechat:
        tmp = Path(scratch)
        env = _env(tmp, wechat.base_url)
        _flask(env, "db", "upgrade")
        _flask(env, "seed")
        with _served(env, _free_port()) as base:
            resident = _login(base, "fuzz-resident")
            tokens = {
                "resident": resident,
                "supervisor": _login(base, "fuzz-supervisor", env, department="住建局", role="supervisor"),
                "admin": _login(base, "fuzz-admin", env, department="住建局", role="admin"),
            }
            config = _config(tmp, _some_data(base, env, resident))
            # The three callers at once: schemathesis is mostly waiting on
            # the server and on its own generation, and one after the other
            # they took a sixth of CI's time.
            runs = {
                who: _schemathesis(base, token, config, args, tmp / f"{who}.out")
                for who, token in tokens.items()
            }
            failed = []
            for who, proc in runs.items():
                code = proc.wait()
                print(f"=== schemathesis as the {who} ===", flush=True)
                print((tmp / f"{who}.out").read_text(errors="replace"), flush=True)
                if code != 0:
                    failed.append(who)
        if failed:
            print(f"schemathesis found problems as: {', '.join(failed)}", file=sys.stderr)
            print((tmp / "gunicorn.log").read_text(errors="replace")[-20000:], file=sys.stderr)
            return 1
    print("schemathesis: no 5xx, every status documented, every response on its schema")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
