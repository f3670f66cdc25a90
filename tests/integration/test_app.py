"""The application's edges: health, the one clock, the in-process scheduler."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from flask import request
from sqlalchemy import func, select

from app import create_app
from app.models import Notification
from app.worker import stop_in_web_process
from tests.helpers import file_case, login, make_staff


def test_healthz_answers_ok_when_the_database_answers(client: Any) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok", "database": "up"}


def test_healthz_is_503_naming_the_database_when_it_is_away(settings: Any) -> None:
    broken = create_app(settings.but(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    answer = broken.test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "database": "down"}
    assert answer.headers["Retry-After"] == "2"


def test_a_clock_offset_shifts_now_and_is_logged(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        shifted = create_app(settings.but(clock_offset_seconds=86400 * 30))
    assert any("CLOCK_OFFSET_SECONDS" in r.getMessage() for r in caplog.records)
    services = shifted.extensions["services"]
    plain = create_app(settings).extensions["services"]
    assert 86400 * 30 - 5 < (services.clock.now() - plain.clock.now()).total_seconds() < 86400 * 30 + 5


def test_the_application_keeps_pillows_freed_image_blocks_for_the_next_upload(settings: Any) -> None:
    from PIL import Image

    from app.photos.pipeline import IMAGE_BLOCK_SIZE, IMAGE_BLOCKS_KEPT

    blocks, size = Image.core.get_blocks_max(), Image.core.get_block_size()
    try:
        Image.core.set_blocks_max(0)
        create_app(settings)
        assert (Image.core.get_blocks_max(), Image.core.get_block_size()) == (
            IMAGE_BLOCKS_KEPT,
            IMAGE_BLOCK_SIZE,
        )
    finally:
        Image.core.set_blocks_max(blocks)
        Image.core.set_block_size(size)


def test_the_openapi_document_lists_the_contract(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/cases" in doc["paths"] and "post" in doc["paths"]["/api/v1/cases"]
    assert "NewCase" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_scheduler_enabled_runs_the_jobs_in_the_web_process(settings: Any, fake_wechat: Any) -> None:
    from handlers.seed import seed_reference

    app = create_app(
        settings.but(scheduler_enabled=True, outbox_interval_seconds=1, escalation_interval_seconds=1)
    )
    try:
        services = app.extensions["services"]
        seed_reference(services.context())
        client = app.test_client()
        handler = make_staff(client, services, "综合执法局", "handler", "sched")
        client.post(
            "/api/v1/staff/subscriptions", json={"TPL_NEW_CASE_PLACEHOLDER": "accept"}, headers=handler
        )
        file_case(client, login(client, "sched-res"))

        def sent_rows() -> int:
            with services.db.uow() as uow:
                query = select(func.count(Notification.id)).where(Notification.status == "sent")
                return int(uow.session.scalar(query) or 0)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sent_rows() < 1:
            time.sleep(0.1)
        assert sent_rows() == 1
        assert len(fake_wechat.sent) == 1
    finally:
        # The background send may still be checking photos after the send the
        # test waited for: it ends before the pool closes, or its connection
        # would be left open (a ResourceWarning failing a later test).
        stop_in_web_process(app)
        app.extensions["services"].close()


def test_flasks_session_is_opened_and_saved_as_before_without_a_cookie_of_its_own(app: Any) -> None:
    from flask import session

    @app.get("/_test/session")
    def session_route() -> dict[str, Any]:
        if "put" in request.args:
            session["seen"] = 1
        return {"seen": session.get("seen")}

    client = app.test_client()
    plain = client.get("/_test/session", headers={"Cookie": "other=1"})
    assert plain.get_json() == {"seen": None}
    # Read: Flask varies on the cookie; nothing set.
    assert "Set-Cookie" not in plain.headers and plain.headers["Vary"] == "Cookie"
    untouched = client.get("/api/v1/categories")
    assert "Set-Cookie" not in untouched.headers and "Vary" not in untouched.headers
    put = client.get("/_test/session?put=1")
    assert "session=" in put.headers["Set-Cookie"]
    assert client.get("/_test/session").get_json() == {"seen": 1}  # the cookie is read back


def test_the_application_asks_once_whether_a_function_is_a_coroutine(app: Any) -> None:
    def plain() -> str:
        return "plain"

    async def waited() -> str:
        return "waited"

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    # A coroutine function still goes to Flask, which has no async extra here
    # and refuses it, every time (a refusal is not kept as an answer).
    for _ in range(2):
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(waited)
