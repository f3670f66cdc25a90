"""The signed WeChat pushes already accepted, shared by every process:
Redis (``SET NX EX``) when ``REDIS_URL`` is set, else the ``push_stamps``
table, pruned of expired stamps as new ones come in.
Implements ``handlers.ports.SeenStamps``."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, OperationalError

from app.db import Database
from app.models import PushStamp
from handlers.ports import StorageUnavailable

log = logging.getLogger(__name__)


class RedisStamps:
    def __init__(self, redis_url: str, prefix: str = "wechat-push"):
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.prefix = prefix
        self._errors = (redis.RedisError,)

    def first_seen(self, key: str, now: datetime, until: datetime) -> bool:
        ttl = max(1, math.ceil((until - now).total_seconds()))
        try:
            return bool(self.redis.set(f"{self.prefix}:{key}", "1", nx=True, ex=ttl))
        except self._errors as exc:
            raise StorageUnavailable(f"redis: {exc}") from exc

    def forget(self, key: str) -> None:
        try:
            self.redis.delete(f"{self.prefix}:{key}")
        except self._errors:
            log.warning("could not forget push stamp %s", key, exc_info=True)


class DatabaseStamps:
    def __init__(self, db: Database):
        self.db = db

    def first_seen(self, key: str, now: datetime, until: datetime) -> bool:
        with self.db.uow() as uow:
            s = uow.session
            try:
                s.execute(delete(PushStamp).where(PushStamp.expires_at < now))
                s.add(PushStamp(key=key, expires_at=until))
                uow.commit()
            except IntegrityError:
                return False
            except OperationalError as exc:
                raise StorageUnavailable(f"database: {exc}") from exc
        return True

    def forget(self, key: str) -> None:
        with self.db.uow() as uow:
            uow.session.execute(delete(PushStamp).where(PushStamp.key == key))
            uow.commit()
