"""The PC console's login, confirmed from the mini-program."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import answer
from app.api.web import blueprint, caller, ctx, errors
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


@bp.post("/logins/<code>/confirm", responses={200: Confirmed} | errors(403, 404, 429))
def confirm(path: LoginCode, body: Nothing) -> Response:
    """在小程序中确认电脑端登录码：该电脑即以调用者身份登录（部门负责人、督办人员、管理员）

    404：登录码不存在或已过期；403：该身份不能登录电脑端；429：错误次数过多。"""
    confirm_login(ctx(), caller().id, path.code)
    return answer(Confirmed(status="confirmed"))
