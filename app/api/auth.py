"""Logging in with WeChat and binding staff."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel, Field

from app.api.answers import UserOut, answer, user_out
from app.api.security import issue_token
from app.api.web import blueprint, caller, ctx, errors
from handlers.accounts import bind_staff, login_with_wechat
from handlers.commands import Command

bp = blueprint("auth", "/api/v1/auth", "登录与绑定")


class LoginBody(Command):
    code: str = Field(min_length=1, max_length=128, title="登录凭证", description="wx.login 得到的 code")


class BindBody(Command):
    binding_code: str = Field(min_length=4, max_length=32, title="绑定码")


class LoginOut(BaseModel):
    token: str
    user: UserOut


class BindOut(BaseModel):
    user: UserOut


@bp.post("/wechat-login", responses={200: LoginOut} | errors(403, 429), security=[])
def wechat_login(body: LoginBody) -> Response:
    """用 wx.login 的 code 登录，换取 bearer token"""
    user = login_with_wechat(ctx(), body.code)
    return answer(LoginOut(token=issue_token(user.id), user=user_out(user)))


@bp.post("/bind-staff", responses={200: BindOut} | errors(404, 409, 410))
def bind(body: BindBody) -> Response:
    """用一次性绑定码成为部门工作人员"""
    user = bind_staff(ctx(), caller().id, body.binding_code)
    return answer(BindOut(user=user_out(user)))
