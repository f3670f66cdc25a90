"""GET /healthz at the root: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import logging

from flask import Response, current_app
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.api.answers import answer
from app.api.web import blueprint

log = logging.getLogger(__name__)
bp = blueprint("health", "", "运维", public=True)


class HealthOut(BaseModel):
    status: str = Field(description="ok，或数据库无法访问时 unavailable")


@bp.get("/healthz", responses={200: HealthOut, 503: HealthOut})
def healthz() -> Response:
    """健康检查：数据库可用时 200，否则 503"""
    try:
        with current_app.extensions["services"].db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        log.exception("health check failed")
        return answer(HealthOut(status="unavailable"), 503)
    return answer(HealthOut(status="ok"))
