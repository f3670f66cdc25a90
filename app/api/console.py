"""The PC console's login, confirmed from the mini-program."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import answer
from app.api.web import blueprint, caller, ctx
from handlers.cases.handling import Nothing
from handlers.commands import Query
from handlers.console.logins import confirm_login

bp = blueprint("console_logins", "/api/v1/console", "电脑端登录")


class LoginCode(Query):
    code: str = Field(
        min_length=8,
        max_length=9,
        pattern=r"^[A-Za-z0-9-]+$",
        title="登录码",
        description="电脑登录页上的 8 位登录码（大小写均可，可带一个短横线）",
    )


class Confirmed(BaseModel):
    status: Literal["confirmed"]


@bp.post("/logins/<code>/confirm", responses={200: Confirmed})
def confirm(path: LoginCode, body: Nothing) -> Response:
    """The caller (a department head, supervisor or admin) confirms the code a PC
    shows: that PC is logged in as them. 404: unknown or expired; 403: a role the
    console does not serve; 429: too many wrong codes."""
    confirm_login(ctx(), caller().id, path.code)
    return answer(Confirmed(status="confirmed"))
