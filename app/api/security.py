"""Bearer tokens and who is calling.

A token names the user and expires; the role is read from the database on
every request, so binding or revoking a staff role takes effect at once.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, cast

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from app.db import built, fetch
from app.logs import note_user
from app.models import Department, User
from handlers.accounts import note_seen
from handlers.errors import Unauthorized

USERS = cast(Table, User.__table__)
DEPARTMENTS = cast(Table, Department.__table__)
# The caller and their department in one Core statement: what Session.get
# with its joined load reads, without the ORM's per-request work.
CALLER = (
    select(*USERS.c, *(c.label(f"dept_{c.key}") for c in DEPARTMENTS.c))
    .outerjoin(DEPARTMENTS, DEPARTMENTS.c.id == USERS.c.department_id)
    .where(USERS.c.id == bindparam("uid"))
)


# Tokens whose signature this process has checked, by secret key and token,
# with their user and when they were signed: a token is verified once (HMAC,
# base64 and JSON), then only its age is checked on each request.
VERIFIED_KEPT = 4096
_verified: dict[tuple[str, str], tuple[int, int]] = {}


@lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="api-token")


class SigningOnceSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions (nothing of ours keeps one, but Flask opens one
    for every request), their signing serializer made once per set of keys
    instead of on every request."""

    def __init__(self) -> None:
        self._made: dict[tuple[str | bytes, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        made = self._made.get(keys)
        if made is None:
            made = super().get_signing_serializer(app)
            if made is not None:
                self._made = {keys: made}
        return made

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No cookie of ours (every API call): the empty session Flask would
        # make, without parsing the request's cookies first.
        if app.secret_key and self.get_cookie_name(app) not in request.environ.get("HTTP_COOKIE", ""):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Empty, untouched and unread: Flask would set no cookie and add no
        # ``Vary``; said here before it looks up seven cookie settings.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


def _serializer() -> URLSafeTimedSerializer:
    # Made once per secret key: only the key and the salt make it (the token's
    # age is checked by each ``loads``).
    return _serializer_for(current_app.config["SECRET_KEY"])


def issue_token(user_id: int) -> str:
    return _serializer().dumps({"uid": user_id})


def _token_user_id() -> int | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("登录凭证格式不正确，请重新登录", "bad_token")
    max_age = current_app.extensions["settings"].token_max_age_seconds
    key = (current_app.config["SECRET_KEY"], token.strip())
    known = _verified.get(key)
    if known is not None:
        seen_uid, signed_at = known
        age = int(time.time()) - signed_at  # as itsdangerous measures it
        if age > max_age or age < 0:
            raise Unauthorized("登录已过期，请重新登录", "token_expired")
        return seen_uid
    try:
        data, signed = _serializer().loads(key[1], max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise Unauthorized("登录已过期，请重新登录", "token_expired") from exc
    except BadSignature as exc:
        raise Unauthorized("登录凭证无效，请重新登录", "bad_token") from exc
    uid = data.get("uid") if isinstance(data, dict) else None
    if not isinstance(uid, int):
        raise Unauthorized("登录凭证无效，请重新登录", "bad_token")
    if len(_verified) >= VERIFIED_KEPT:
        _verified.pop(next(iter(_verified), key), None)  # the oldest
    _verified[key] = (uid, int(signed.timestamp()))
    return uid


def authenticated_user() -> User:
    """The calling user, loaded fresh for this request; 401 if none."""
    if "user" in g:
        return g.user  # type: ignore[no-any-return]
    uid = _token_user_id()
    if uid is None:
        raise Unauthorized("请先登录", "login_required")
    from app.api.web import ctx  # the request's one context (web imports this module)

    context = ctx()
    with context.reading() as conn:  # on PostgreSQL the connection the request's other reads take
        user = _read_user(conn, uid)
    if user is None:
        raise Unauthorized("账号不存在，请重新登录", "bad_token")
    note_user(user.id)
    note_seen(context, user)
    g.user = user
    return user


def _read_user(conn: Connection, uid: int) -> User | None:
    """The user as ``Session.get`` answers them, detached (their department
    loaded): every column read now, so a role changed or revoked counts at once."""
    rows = fetch(conn, CALLER, {"uid": uid})
    if not rows:
        return None
    values: dict[str, Any] = rows[0]._asdict()
    department = None
    if values["department_id"] is not None:
        department = built(Department, {c.key: values[f"dept_{c.key}"] for c in DEPARTMENTS.c})
        make_transient_to_detached(department)
    user = built(User, {c.key: values[c.key] for c in USERS.c} | {"department": department})
    make_transient_to_detached(user)
    return user
