"""Logging in and binding staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from pydantic import Field

from app.api import ctx
from app.api.schema import Body, body
from app.api.security import current_user, issue_token, login_required
from app.api.shapes import user_json
from handlers.accounts import bind_staff, login_with_wechat

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


class LoginBody(Body):
    code: str = Field(min_length=1, max_length=128)


class BindBody(Body):
    binding_code: str = Field(min_length=4, max_length=32)


@bp.post("/wechat-login")
@body(LoginBody)
def wechat_login(data: LoginBody) -> Any:
    """Exchange a wx.login code for a bearer token."""
    user = login_with_wechat(ctx(), data.code)
    return jsonify({"token": issue_token(user.id), "user": user_json(user)})


@bp.post("/bind-staff")
@login_required
@body(BindBody)
def bind(data: BindBody) -> Any:
    """Become staff of a department with a one-time code."""
    user = bind_staff(ctx(), current_user().id, data.binding_code)
    return jsonify({"user": user_json(user)})
