"""GET /healthz at the root: 200 while the database answers, 503 otherwise;
each dependency named ``up`` or ``down``."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from pydantic import BaseModel, Field

from app.api.errors import RETRY_AFTER_SECONDS
from app.api.web import blueprint
from app.dependencies import check_dependencies

bp = blueprint("health", "", "运维", public=True)


class HealthOut(BaseModel):
    status: str = Field(description="ok，或数据库无法访问时 unavailable")
    database: str = Field(description="up 或 down")
    redis: str | None = Field(
        default=None,
        description="up 或 down（配置了 REDIS_URL 时才有；Redis 不可用时系统照常工作，不算不健康）",
    )


@bp.get("/healthz", responses={200: HealthOut, 503: HealthOut})
def healthz() -> Response:
    """健康检查：数据库可用时 200，否则 503；逐项说明各依赖是否可用"""
    report = check_dependencies(current_app.extensions["services"])
    healthy = report["database"] == "up"
    out = HealthOut(status="ok" if healthy else "unavailable", **report)
    response = jsonify(out.model_dump(exclude_none=True))  # no "redis" where none is configured
    response.status_code = 200 if healthy else 503
    if not healthy:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
