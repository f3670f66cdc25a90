"""`make run`: migrate, seed, then run the local WeChat sandbox, the API
(gunicorn) and the worker together on SQLite. Ctrl-C stops all three."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# What a second terminal needs so that `flask --app app ...` acts on this sandbox:
# the same development mode, secret, database and WeChat addresses.
SANDBOX_KEYS = (
    "APP_ENV",
    "SECRET_KEY",
    "WECHAT_TOKEN",
    "WECHAT_API_BASE",
    "WECOM_API_BASE",
    "WECOM_CORP_ID",
    "WECOM_SECRET",
    "WECOM_AGENT_ID",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
    "PHOTO_DIR",
    "CASES_CONFIG",
)


def _write_sandbox_env(env: dict[str, str]) -> None:
    """Write instance/sandbox.env, to be sourced by another shell."""
    path = ROOT / "instance" / "sandbox.env"
    path.parent.mkdir(exist_ok=True)
    lines = ["# Written by `make run`: `. instance/sandbox.env` in another terminal."]
    lines += [f"export {key}={shlex.quote(env[key])}" for key in SANDBOX_KEYS if key in env]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sandbox-port", type=int, default=8199)
    args = parser.parse_args()

    env = dict(os.environ)
    sandbox = f"http://127.0.0.1:{args.sandbox_port}/"
    env.setdefault("WECHAT_API_BASE", sandbox)
    env.setdefault("WECOM_API_BASE", sandbox)
    env.setdefault("WECOM_CORP_ID", "ww-sandbox-corp")
    env.setdefault("WECOM_SECRET", "sandbox-wecom-secret")
    env.setdefault("WECOM_AGENT_ID", "1000002")
    env.setdefault("APP_ENV", "development")
    env.setdefault("SECRET_KEY", "development-only-secret-key-change-me-in-production")
    env.setdefault("WECHAT_TOKEN", "sandbox-token")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{args.port}")
    flask = [str(BIN / "flask"), "--app", "app"]
    _write_sandbox_env(env)

    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True)

    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fakewechat",
                "--port",
                str(args.sandbox_port),
                # The sandbox pushes image-check verdicts back, signed as WeChat does.
                "--push-url",
                f"http://127.0.0.1:{args.port}/wechat/callback",
                "--push-token",
                env["WECHAT_TOKEN"],
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                "2",
                "--access-logfile",
                "-",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen([*flask, "worker"], cwd=ROOT, env=env),
    ]
    time.sleep(1.5)
    print(
        f"\n  API:              http://127.0.0.1:{args.port}/api/v1/ (health: /healthz)\n"
        f"  WeChat sandbox:   {sandbox} (sent messages: {sandbox}_fake/sent)\n"
        f'  Log in as a test resident: POST /api/v1/auth/wechat-login {{"code": "user-demo:1"}}\n'
        f"  Other terminals:  . instance/sandbox.env   (then the README's flask commands reach this sandbox)\n"
        f"  Staff code:       .venv/bin/flask --app app staff invite --department 住建局 --role handler\n"
        f"  PC console:       http://127.0.0.1:{args.port}/console/login "
        "(a first admin: .venv/bin/flask --app app console link --user ID; see README)\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        stop()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
