"""Access tokens shared by every process: stored with their expiry in Redis
(with the database beside it, for when Redis is away), the database, or (one
process only) memory, and fetched under a lock.

wechatpy keeps a token per client instance and takes no lock around a
fetch; these stores give every process one token, fetched once.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from app.dependencies import redis_away
from handlers.ports import WeChatUnavailable

if TYPE_CHECKING:
    from app.dependencies import Outage


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

    def __init__(self, client: Any, prefix: str = "wechat"):
        self.redis = client
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
            try:
                if self.redis.get(lock_key) == me.encode():
                    self.redis.delete(lock_key)
            except Exception as exc:
                if not redis_away(exc):
                    raise
                # Redis went away meanwhile: the lock expires by itself.


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


class RedisFirstTokenStore:
    """Redis, with the database beside it.

    Every token is written to both and read from both (the newer wins), so a
    Redis that is away, or restarted empty (it keeps nothing on disk), costs
    no fetch. While Redis is away the lock is the database's: nothing a user
    does waits for Redis or fails because of it."""

    def __init__(self, redis_store: RedisTokenStore, database: DatabaseTokenStore, outage: Outage):
        self.redis = redis_store
        self.database = database
        self.outage = outage
        self._local = threading.local()

    def _try_redis(self, call: Any) -> tuple[bool, Any]:
        """(True, result), or (False, None) when Redis is away (or known to be)."""
        if getattr(self._local, "on_database", False) or not self.outage.should_try():
            return False, None
        try:
            result = call()
        except Exception as exc:
            if not redis_away(exc):
                raise
            self.outage.failed(exc)
            return False, None
        self.outage.recovered()
        return True, result

    def _try_database(self, call: Any) -> Any:
        from app.db import database_away

        try:
            return call()
        except Exception as exc:
            if not database_away(exc):
                raise
            return None

    def get(self, key: str) -> StoredToken | None:
        reached, cached = self._try_redis(lambda: self.redis.get(key))
        if not reached:
            return self.database.get(key)
        # Tokens are read rarely (each process keeps its own until it nears
        # expiry), so both copies are read and the newer wins: one fetched
        # while Redis was away, or lost by a Redis restart, is not fetched again.
        stored: StoredToken | None = self._try_database(lambda: self.database.get(key))
        if stored is not None and (cached is None or stored.expires_at > cached.expires_at):
            self._try_redis(lambda: self.redis.set(key, stored))
            return stored
        return cached  # type: ignore[no-any-return]

    def set(self, key: str, token: StoredToken) -> None:
        reached, _ = self._try_redis(lambda: self.redis.set(key, token))
        if reached:
            self._try_database(lambda: self.database.set(key, token))
        else:
            self.database.set(key, token)

    def delete(self, key: str, only_if: str | None = None) -> None:
        self._try_redis(lambda: self.redis.delete(key, only_if))
        self._try_database(lambda: self.database.delete(key, only_if))

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            reached, _ = self._try_redis(lambda: stack.enter_context(self.redis.locked(key)))
            if not reached:
                stack.enter_context(self.database.locked(key))
                self._local.on_database = True
                stack.callback(setattr, self._local, "on_database", False)
            yield


def make_token_storage(redis: Any, engine: Any = None, outage: Outage | None = None) -> TokenStore:
    """Redis first with the database beside it when both are given; else the
    database; else (one process only) memory."""
    if redis is not None and engine is not None and outage is not None:
        return RedisFirstTokenStore(RedisTokenStore(redis), DatabaseTokenStore(engine), outage)
    if redis is not None:
        return RedisTokenStore(redis)
    if engine is not None:
        return DatabaseTokenStore(engine)
    return MemoryTokenStore()


class WechatpySession:
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
