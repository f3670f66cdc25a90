"""Several processes share one WeChat access token: one fetch serves them all."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from tests.e2e.procs import ROOT

pytestmark = pytest.mark.slow

SCRIPT = """
import sys, time
from app.services import Services
from app.settings import Settings
settings = Settings.from_env()
services = Services(settings)
start_at = float(sys.argv[1])
while time.time() < start_at:
    time.sleep(0.001)
# Each process logs a user in and sends a message: both need the token.
services.wechat.code_to_session(sys.argv[2])
services.wechat.check_text("小区门口有车辆乱停", "o" + "x" * 27)
print("ok")
"""


def _run(env: dict[str, str], count: int) -> None:
    start_at = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(start_at), f"user-proc{i}:1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"


@pytest.mark.parametrize("storage", ["database", "redis"])
def test_one_token_fetch_serves_every_process(settings: Any, fake_wechat: Any, storage: str) -> None:
    import os

    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "WECHAT_API_BASE": settings.wechat_api_base,
            "REDIS_URL": "",
        }
    )
    if storage == "redis":
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
        client.flushdb()
        env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    _run(env, 4)
    assert fake_wechat.token_fetches == 1
    logins = [c for c in fake_wechat.calls if c["path"] == "sns/jscode2session"]
    assert len(logins) == 4
    assert len({c["query"]["access_token"] for c in logins}) == 1
    if storage == "redis":
        client.flushdb()
