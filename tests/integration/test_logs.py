"""Request ids and JSON logs: X-Request-ID taken when sane, made otherwise,
echoed; written into the outbox rows of the request; LOG_FORMAT=json lines
name the request, the level, the event and the user; the worker's send of a
row logs the id of the request that wrote it."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app import create_app
from app.api.security import authenticated_user
from app.logs import JsonFormatter
from app.models import Notification
from tests.e2e.procs import ROOT, worker_env
from tests.helpers import file_case, login, make_staff, user_id

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-2026.11:26_abc", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("with space", False),
        ("<script>", False),
        ("", False),
        (None, False),
    ],
)
def test_a_sane_request_id_is_echoed_and_any_other_is_replaced(
    client: Any, given: str | None, kept: bool
) -> None:
    headers = {"X-Request-ID": given} if given is not None else {}
    response = client.get("/healthz", headers=headers)
    echoed = response.headers["X-Request-ID"]
    if kept:
        assert echoed == given
    else:
        assert HEX_ID.fullmatch(echoed), echoed


def test_every_request_without_an_id_gets_its_own(client: Any) -> None:
    ids = {client.get("/api/v1/categories").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    # Error answers carry it too.
    assert HEX_ID.fullmatch(client.get("/api/v1/no-such-thing").headers["X-Request-ID"])


def test_the_outbox_rows_a_request_writes_carry_its_id(client: Any, services: Any) -> None:
    make_staff(client, services, "综合执法局", "handler", "rid-staff")
    resident = login(client, "rid-resident")
    filed = file_case(client, resident, extra_headers={"X-Request-ID": "filing-0001"})
    with services.db.uow() as uow:
        rows = list(uow.session.scalars(select(Notification).where(Notification.case_id == filed["id"])))
        ids = {row.request_id for row in rows}
    assert rows and ids == {"filing-0001"}


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes as JSON during the test."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_json_line_names_the_request_the_level_the_event_and_the_user(
    app: Any, settings: Any, json_lines: io.StringIO
) -> None:
    probed = create_app(settings.but(log_format="json"))
    try:

        def probe() -> dict[str, str]:
            user = authenticated_user()
            logging.getLogger("app.probe").warning("probe for %s", user.id, extra={"detail": "详情"})
            return {"ok": "yes"}

        probed.add_url_rule("/probe", "probe", probe)
        client = probed.test_client()
        headers = login(client, "json-user")
        assert client.get("/probe", headers=headers | {"X-Request-ID": "probe-1"}).status_code == 200
    finally:
        probed.extensions["services"].close()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
            if handler.stream is not json_lines:  # type: ignore[attr-defined]
                root.removeHandler(handler)
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [line] = [x for x in lines if x["logger"] == "app.probe"]
    uid = user_id(client, headers)
    assert line["request_id"] == "probe-1" and line["user_id"] == uid
    assert (line["level"], line["event"], line["detail"]) == ("WARNING", f"probe for {uid}", "详情")
    assert line["time"].endswith("+00:00")
    # Outside a request nothing is carried over.
    logging.getLogger("app.probe").warning("after")
    after = json.loads(json_lines.getvalue().splitlines()[-1])
    assert after["request_id"] is None and "user_id" not in after


@pytest.mark.slow
def test_the_workers_send_logs_the_id_of_the_request_that_filed(
    client: Any, services: Any, settings: Any, fake_wechat: Any
) -> None:
    staff = make_staff(client, services, "综合执法局", "handler", "rid-send-staff")
    client.post("/api/v1/staff/subscriptions", json={"TPL_NEW_CASE_PLACEHOLDER": "accept"}, headers=staff)
    resident = login(client, "rid-send-resident")
    file_case(client, resident, extra_headers={"X-Request-ID": "filed-through-app-7"})
    env = worker_env(settings, ROOT / "config" / "county.yaml", LOG_FORMAT="json")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in done.stderr.decode().splitlines() if line.strip()]
    sent = [x for x in lines if x.get("channel") == "subscribe"]
    assert len(sent) == 1 and len(fake_wechat.sent) == 1
    assert sent[0]["request_id"] == "filed-through-app-7"
    assert sent[0]["level"] == "INFO" and sent[0]["event"].startswith("notification ")
    assert all({"time", "level", "event", "request_id"} <= set(x) for x in lines)
