"""Bearer tokens and who is calling.

A token names the user and expires; the role is read from the database on
every request, so binding or revoking a staff role takes effect at once.
"""

from __future__ import annotations

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.logs import note_user
from app.models import User
from handlers.accounts import note_seen
from handlers.errors import Unauthorized


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_token(user_id: int) -> str:
    return _serializer().dumps({"uid": user_id})


def _token_user_id() -> int | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("登录凭证格式不正确，请重新登录", "bad_token")
    settings = current_app.extensions["settings"]
    try:
        data = _serializer().loads(token.strip(), max_age=settings.token_max_age_seconds)
    except SignatureExpired as exc:
        raise Unauthorized("登录已过期，请重新登录", "token_expired") from exc
    except BadSignature as exc:
        raise Unauthorized("登录凭证无效，请重新登录", "bad_token") from exc
    uid = data.get("uid") if isinstance(data, dict) else None
    if not isinstance(uid, int):
        raise Unauthorized("登录凭证无效，请重新登录", "bad_token")
    return uid


def authenticated_user() -> User:
    """The calling user, loaded fresh for this request; 401 if none."""
    if "user" in g:
        return g.user  # type: ignore[no-any-return]
    uid = _token_user_id()
    if uid is None:
        raise Unauthorized("请先登录", "login_required")
    services = current_app.extensions["services"]
    with services.db.read() as uow:
        user = uow.session.get(User, uid)
        if user is None:
            raise Unauthorized("账号不存在，请重新登录", "bad_token")
        uow.session.expunge(user)
    note_user(user.id)
    if "ctx" not in g:  # the request's one context (app/api/web.py: ctx)
        g.ctx = services.context()
    note_seen(g.ctx, user)
    g.user = user
    return user
