"""The product's gateways to WeChat (mini-program) and WeCom, through wechatpy.

wechatpy 1.8.18 hard-codes its token URLs and retries token errors without
bound (see shared WECHAT.md), so the clients here are subclasses that:
- read every URL from the configured base (``WECHAT_API_BASE``/``WECOM_API_BASE``);
- share one access token across processes through a ``TokenStore`` (database
  or Redis) that keeps the expiry, and fetch a new one under a cross-process
  lock, re-reading after the lock, so N processes starting together fetch once;
- retry a token error once after a refetch, and treat a second as an outage.
Nothing connects at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
# Refresh this long before the token's stated expiry.
REFRESH_MARGIN = 300


class WeChatUnavailable(Exception):
    """Network error, 5xx, -1 busy, 45009, or token errors twice: try later."""


class WeChatRejected(Exception):
    KINDS = {40029: "invalid_code", 40163: "code_used", 40226: "risky_user", 45011: "too_frequent"}

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.kind = self.KINDS.get(errcode, "rejected")


class SendFailed(Exception):
    """kind: ``no_quota`` (try the next channel), ``permanent``, ``retry``."""

    PERMANENT = {40003, 40037, 41030, 47003, 81013, 40056, 60020, 40013, 40164, 43004, 43104}

    def __init__(self, kind: str, errcode: int | None, errmsg: str):
        super().__init__(f"{kind}: {errcode} {errmsg}")
        self.kind = kind
        self.errcode = errcode
        self.errmsg = errmsg

    @classmethod
    def of(cls, errcode: int | None, errmsg: str) -> SendFailed:
        if errcode == 43101:
            return cls("no_quota", errcode, errmsg)
        if errcode in cls.PERMANENT:
            return cls("permanent", errcode, errmsg)
        return cls("retry", errcode, errmsg)


# -- token storage ------------------------------------------------------------


@dataclass(frozen=True)
class StoredToken:
    value: str
    expires_at: float  # unix time


class TokenStore(Protocol):
    def get(self, key: str) -> StoredToken | None: ...

    def set(self, key: str, token: StoredToken) -> None: ...

    def delete(self, key: str, only_if: str | None = None) -> None: ...

    def locked(self, key: str) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenStore:
    """Per process; for a single process only."""

    def __init__(self) -> None:
        self._data: dict[str, StoredToken] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> StoredToken | None:
        token = self._data.get(key)
        return token if token and token.expires_at > time.time() else None

    def set(self, key: str, token: StoredToken) -> None:
        self._data[key] = token

    def delete(self, key: str, only_if: str | None = None) -> None:
        token = self._data.get(key)
        if token and (only_if is None or token.value == only_if):
            self._data.pop(key, None)

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        with self._lock:
            yield


class RedisTokenStore:
    """Shared through Redis; the key's TTL is the token's."""

    def __init__(self, redis_url: str, prefix: str = "wechat"):
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def get(self, key: str) -> StoredToken | None:
        raw: dict[bytes, bytes] = self.redis.hgetall(self._key(key))  # type: ignore[assignment]
        if not raw:
            return None
        token = StoredToken(raw[b"value"].decode(), float(raw[b"expires_at"]))
        return token if token.expires_at > time.time() else None

    def set(self, key: str, token: StoredToken) -> None:
        ttl = max(1, int(token.expires_at - time.time()))
        pipe = self.redis.pipeline()
        pipe.hset(self._key(key), mapping={"value": token.value, "expires_at": str(token.expires_at)})
        pipe.expire(self._key(key), ttl)
        pipe.execute()

    def delete(self, key: str, only_if: str | None = None) -> None:
        current = self.get(key)
        if current and (only_if is None or current.value == only_if):
            self.redis.delete(self._key(key))

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        lock_key, me = self._key(key) + ":lock", uuid.uuid4().hex
        deadline = time.monotonic() + 15
        while not self.redis.set(lock_key, me, nx=True, px=15000):
            if time.monotonic() > deadline:
                raise WeChatUnavailable("token lock busy")
            time.sleep(0.05)
        try:
            yield
        finally:
            if self.redis.get(lock_key) == me.encode():
                self.redis.delete(lock_key)


class DatabaseTokenStore:
    """Shared through the database table ``wechat_token_cache``.

    The lock is a PostgreSQL transaction-level advisory lock, or SQLite's
    write lock (every transaction here begins IMMEDIATE)."""

    def __init__(self, engine: Any):
        from sqlalchemy.orm import sessionmaker

        self.engine = engine
        self.sessions = sessionmaker(engine)
        self._local = threading.local()

    def get(self, key: str) -> StoredToken | None:
        from app.models import WeChatTokenCache

        session = getattr(self._local, "session", None)
        if session is not None:
            row = session.get(WeChatTokenCache, key, populate_existing=True)
            return self._token(row)
        with self.sessions() as s:
            return self._token(s.get(WeChatTokenCache, key))

    @staticmethod
    def _token(row: Any) -> StoredToken | None:
        if row is None or row.expires_at is None:
            return None
        token = StoredToken(row.value, row.expires_at.timestamp())
        return token if token.expires_at > time.time() else None

    def set(self, key: str, token: StoredToken) -> None:
        from datetime import UTC, datetime

        from app.models import WeChatTokenCache

        expires = datetime.fromtimestamp(token.expires_at, UTC)
        session = getattr(self._local, "session", None)
        if session is not None:
            session.merge(WeChatTokenCache(key=key, value=token.value, expires_at=expires))
            session.flush()
            return
        with self.sessions() as s:
            s.merge(WeChatTokenCache(key=key, value=token.value, expires_at=expires))
            s.commit()

    def delete(self, key: str, only_if: str | None = None) -> None:
        from sqlalchemy import delete

        from app.models import WeChatTokenCache

        stmt = delete(WeChatTokenCache).where(WeChatTokenCache.key == key)
        if only_if is not None:
            stmt = stmt.where(WeChatTokenCache.value == only_if)
        with self.sessions() as s:
            s.execute(stmt)
            s.commit()

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        from sqlalchemy import text

        with self.sessions() as s:
            if self.engine.dialect.name == "postgresql":
                lock_id = int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big", signed=True)
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})
            else:
                s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE takes SQLite's write lock
            self._local.session = s
            try:
                yield
                s.commit()
            finally:
                self._local.session = None


def make_token_storage(redis_url: str | None, engine: Any = None) -> TokenStore:
    if redis_url:
        return RedisTokenStore(redis_url)
    if engine is not None:
        return DatabaseTokenStore(engine)
    return MemoryTokenStore()


class _WechatpySession:
    """wechatpy's ``session`` interface over a TokenStore (used only for reads
    wechatpy makes itself; fetching is ours)."""

    def __init__(self, store: TokenStore):
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        token = self.store.get(key)
        return token.value if token else default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self.store.set(key, StoredToken(str(value), time.time() + (ttl or 7200)))

    def delete(self, key: str) -> None:
        self.store.delete(key)


# -- clients --------------------------------------------------------------------


class _SharedTokenMixin:
    """Token handling shared by both clients: stored with its expiry, fetched
    once under the store's lock."""

    store: TokenStore
    access_token_key: str
    _fetch: Callable[[], dict[str, Any]]

    _cached: StoredToken | None = None

    @property
    def access_token(self) -> str:  # type: ignore[override]
        # The process keeps what it last read until it nears expiry; a token
        # error (another process refreshed) sends it back to the store.
        token = self._cached
        if token is None or token.expires_at - time.time() <= REFRESH_MARGIN:
            token = self.store.get(self.access_token_key)
        if token and token.expires_at - time.time() > REFRESH_MARGIN:
            self._cached = token
            return token.value
        return self.refresh_token(stale=token.value if token else None)

    def refresh_token(self, stale: str | None) -> str:
        self._cached = None
        with self.store.locked(self.access_token_key):
            current = self.store.get(self.access_token_key)
            # Another process may have fetched while we waited for the lock.
            if current and current.value != stale and current.expires_at - time.time() > REFRESH_MARGIN:
                self._cached = current
                return current.value
            result = self._fetch()
            expires_in = int(result.get("expires_in", 7200))
            fresh = StoredToken(str(result["access_token"]), time.time() + expires_in)
            self.store.set(self.access_token_key, fresh)
            self._cached = fresh
            return fresh.value


class _MiniProgramClient(_SharedTokenMixin, WeChatClient):  # type: ignore[misc]
    def __init__(self, appid: str, secret: str, api_base: str, store: TokenStore, timeout: float):
        super().__init__(appid, secret, session=_WechatpySession(store), timeout=timeout, auto_retry=False)
        self.store = store
        self.api_base = api_base
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base

    def _fetch(self) -> dict[str, Any]:
        return self._raw_get(
            self.api_base + "cgi-bin/token",
            {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def fetch_access_token(self) -> dict[str, Any]:
        token = self.refresh_token(stale=None)
        return {"access_token": token}

    def _raw_get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        res = self._http.get(url, params=params, timeout=self.timeout)
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        return result


class _WeComClient(_SharedTokenMixin, WeComClient):  # type: ignore[misc]
    def __init__(self, corp_id: str, secret: str, api_base: str, store: TokenStore, timeout: float):
        super().__init__(corp_id, secret, session=_WechatpySession(store), timeout=timeout, auto_retry=False)
        self.store = store
        self.api_base = api_base
        self.API_BASE_URL = api_base + "cgi-bin/"

    def _fetch(self) -> dict[str, Any]:
        res = self._http.get(
            self.api_base + "cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        return result

    def fetch_access_token(self) -> dict[str, Any]:
        return {"access_token": self.refresh_token(stale=None)}


def _call_once_more_on_token_error(client: _SharedTokenMixin, call: Callable[[], Any]) -> Any:
    """At most one refetch-and-retry per call; a second token error is an outage."""
    try:
        return call()
    except WeChatClientException as exc:
        if exc.errcode not in TOKEN_ERRORS:
            raise
        log.info("WeChat token error %s; fetching a new token once", exc.errcode)
        used = client._cached or client.store.get(client.access_token_key)
        client.refresh_token(stale=used.value if used else None)
    try:
        return call()
    except WeChatClientException as exc:
        if exc.errcode in TOKEN_ERRORS:
            raise WeChatUnavailable(f"token rejected twice ({exc.errcode})") from exc
        raise


def _network_errors() -> tuple[type[BaseException], ...]:
    return (requests.RequestException, ValueError)


class MiniProgram:
    def __init__(self, appid: str, secret: str, api_base: str, storage: TokenStore, timeout: float = 5.0):
        self.client = _MiniProgramClient(appid, secret, api_base, storage, timeout)

    def _call(self, call: Callable[[], Any]) -> Any:
        try:
            return _call_once_more_on_token_error(self.client, call)
        except _network_errors() as exc:
            raise WeChatUnavailable(f"network: {exc}") from exc

    def code_to_session(self, code: str) -> dict[str, Any]:
        """``{openid, session_key, unionid?}`` for a ``wx.login`` code."""
        try:
            result = self._call(lambda: self.client.wxa.code_to_session(code))
        except WeChatClientException as exc:
            if exc.errcode is None or exc.errcode in (-1, 45009):
                raise WeChatUnavailable(f"jscode2session: {exc.errcode} {exc.errmsg}") from exc
            raise WeChatRejected(exc.errcode, str(exc.errmsg)) from exc
        if not isinstance(result, dict) or not result.get("openid"):
            raise WeChatUnavailable("jscode2session answered no openid")
        return result

    def check_text(self, content: str, openid: str, scene: int = 2) -> str:
        """msgSecCheck v2: ``pass``, ``review`` or ``risky``."""
        data = {"content": content, "version": 2, "scene": scene, "openid": openid}
        try:
            result = self._call(
                lambda: self.client.post("wxa/msg_sec_check", api_base_url=self.client.api_base, data=data)
            )
        except WeChatClientException as exc:
            if exc.errcode == 87014:
                return "risky"
            raise WeChatUnavailable(f"msg_sec_check: {exc.errcode} {exc.errmsg}") from exc
        suggest = (result.get("result") or {}).get("suggest") if isinstance(result, dict) else None
        if suggest not in ("pass", "review", "risky"):
            return "review"
        return str(suggest)

    def send_subscribe(
        self,
        openid: str,
        template_id: str,
        data: dict[str, Any],
        page: str | None = None,
        state: str = "formal",
    ) -> str:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": data,
            "miniprogram_state": state,
            "lang": "zh_CN",
        }
        if page:
            body["page"] = page
        try:
            result = self._call(lambda: self.client.post("message/subscribe/send", data=body))
        except WeChatUnavailable as exc:
            raise SendFailed("retry", None, str(exc)) from exc
        except WeChatClientException as exc:
            raise SendFailed.of(exc.errcode, str(exc.errmsg)) from exc
        return str(result.get("msgid", ""))


class WeCom:
    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int | str,
        api_base: str,
        storage: TokenStore,
        timeout: float = 5.0,
    ):
        self.client = _WeComClient(corp_id, secret, api_base, storage, timeout)
        self.agent_id = agent_id

    def send_text_card(self, user_ids: list[str], title: str, description: str, url: str) -> list[str]:
        """Send a text card; answers the ids WeCom did not know.

        WeCom's duplicate check drops an identical message to the same user
        within four hours, so a resend after a crash between WeCom's answer and
        our commit is not delivered twice (callers make each card unique)."""
        msg = {
            "msgtype": "textcard",
            "textcard": {"title": title, "description": description, "url": url, "btntxt": "查看"},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 4 * 3600,
        }
        try:
            result = _call_once_more_on_token_error(
                self.client, lambda: self.client.message.send(self.agent_id, user_ids, msg=msg)
            )
        except _network_errors() as exc:
            raise SendFailed("retry", None, f"network: {exc}") from exc
        except WeChatUnavailable as exc:
            raise SendFailed("retry", None, str(exc)) from exc
        except WeChatClientException as exc:
            raise SendFailed.of(exc.errcode, str(exc.errmsg)) from exc
        invalid = str(result.get("invaliduser") or "")
        return [u for u in invalid.split("|") if u]


# -- template values --------------------------------------------------------------

_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "number": 32,
    "letter": 32,
    "name": 10,
    "symbol": 5,
}


def fit_template_value(kind: str, value: str) -> str:
    """Fit a value to a subscribe-message keyword type so WeChat never answers 47003."""
    value = " ".join(str(value).split()) or "-"
    if kind == "character_string":
        value = "".join(ch for ch in value if ch.isascii() and ch.isprintable()) or "-"
    if kind == "number":
        value = "".join(ch for ch in value if ch.isdigit()) or "0"
    limit = _LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…" if kind in ("thing", "name") else value[:limit]
    return value
