"""Builds the product's ports from the settings: database, clock, the
responsibility list's versions, photo storage, WeChat gateways. Nothing here
runs at import."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.clock import Clock
from app.db import Database, RequestReader
from app.dependencies import DATABASE, REDIS, Outage
from app.settings import Settings
from handlers.context import Context
from handlers.ports import Metrics, MiniProgramAPI, PhotoStore, SeenStamps, WeComAPI

if TYPE_CHECKING:
    from app.photos import LocalPhotoStorage
    from app.photos.links import PhotoLinks
    from app.photos.s3 import S3PhotoStorage
    from app.routing_versions import CountyVersions
    from app.wechat.tokens import TokenStore
    from routing import CountyConfig

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.clock = Clock(settings.clock_offset_seconds)
        self._wakers: list[Callable[[], None]] = []
        # How this process sees its dependencies (see app/dependencies.py).
        self.outages = {DATABASE: Outage(DATABASE), REDIS: Outage(REDIS)}

    @cached_property
    def db(self) -> Database:
        url = self.settings.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return Database(url, answered=self.outages[DATABASE].recovered)

    @cached_property
    def redis(self) -> Any:
        """The Redis client when ``REDIS_URL`` is set (nothing connects until used)."""
        from app.dependencies import redis_client

        return redis_client(self.settings.redis_url) if self.settings.redis_url else None

    @cached_property
    def routing(self) -> CountyVersions:
        """The responsibility list's versions; the first is ``CASES_CONFIG``."""
        from app.routing_versions import CountyVersions

        return CountyVersions(self.db.uow, self.db.read, lambda: self.clock.now(), self.settings.cases_config)

    @property
    def county(self) -> CountyConfig:
        """The version of the responsibility list in effect now."""
        return self.routing.in_effect()

    @cached_property
    def photos(self) -> PhotoStore:
        """The store ``PHOTO_STORAGE`` names: the local folder or the S3 bucket."""
        if self.settings.photo_storage == "s3":
            return self.s3_photos()
        return self.local_photos()

    def local_photos(self) -> LocalPhotoStorage:
        from app.photos import LocalPhotoStorage

        return LocalPhotoStorage(self.settings.photo_dir)

    def s3_photos(self) -> S3PhotoStorage:
        """The bucket the S3_* settings name, whatever PHOTO_STORAGE says (the
        move from the local folder writes to it before the switch)."""
        from app.photos.s3 import S3Location, S3PhotoStorage

        s = self.settings
        if not s.s3_bucket:
            raise SystemExit("S3_BUCKET is not set (未设置 S3_BUCKET 存储桶名)")
        location = S3Location(
            bucket=s.s3_bucket,
            prefix=s.s3_prefix,
            endpoint_url=s.s3_endpoint_url,
            region=s.aws_region,
            access_key_id=s.aws_access_key_id,
            secret_access_key=s.aws_secret_access_key,
            session_token=s.aws_session_token,
            addressing_style=s.s3_addressing_style,
        )
        return S3PhotoStorage(location)

    @cached_property
    def metrics(self) -> Metrics:
        from app.metrics import PrometheusMetrics

        return PrometheusMetrics()

    @cached_property
    def photo_links(self) -> PhotoLinks:
        from app.photos.links import PhotoLinks

        s = self.settings
        # Read through self so a clock set later (tests, trainers) is the one used.
        return PhotoLinks(s.secret_key, lambda: self.clock.now(), s.public_base_url)

    @cached_property
    def seen_stamps(self) -> SeenStamps:
        """Signed pushes already accepted: Redis when set, else the database."""
        from app.wechat.stamps import DatabaseStamps, RedisStamps

        if self.settings.redis_url:
            return RedisStamps(self.settings.redis_url)
        return DatabaseStamps(self.db)

    @cached_property
    def token_storage(self) -> TokenStore:
        from app.wechat import make_token_storage

        return make_token_storage(self.redis, self.db.engine, self.outages[REDIS])

    @cached_property
    def wechat(self) -> MiniProgramAPI:
        from app.wechat import MiniProgram

        s = self.settings
        return MiniProgram(s.wechat_appid, s.wechat_secret, s.wechat_api_base, self.token_storage)

    @cached_property
    def wecom(self) -> WeComAPI | None:
        from app.wechat import WeCom

        s = self.settings
        if not (s.wecom_corp_id and s.wecom_secret):
            return None
        return WeCom(s.wecom_corp_id, s.wecom_secret, s.wecom_agent_id, s.wecom_api_base, self.token_storage)

    def on_outbox_write(self, callback: Callable[[], None]) -> None:
        self._wakers.append(callback)

    @cached_property
    def _announce(self) -> Callable[[], None] | None:
        from app.wakeup import make_announcer

        return make_announcer(self.redis, self.db.engine, self.outages)

    def _wake(self) -> None:
        """New outbox rows were committed: tell the worker (Redis or NOTIFY)
        and any in-process sender."""
        if self._announce is not None:
            self._announce()
        for callback in self._wakers:
            callback()

    def request_context(self) -> Context:
        """A web request's context: on PostgreSQL its reads share one
        connection (``RequestReader``), given back by ``end_request``."""
        return self.context(self.db.request_reader())

    @staticmethod
    def end_request(context: Context) -> None:
        if isinstance(context.connect_reader, RequestReader):
            context.connect_reader.close()

    def context(self, reader: RequestReader | None = None) -> Context:
        from app.photos import process_upload

        return Context(
            uow=self.db.uow,
            reader=self.db.read,
            connect_reader=reader or self.db.reading,
            clock=self.clock,
            county=self.routing.in_effect(),
            photos=self.photos,
            process_photo=process_upload,
            wechat=self.wechat,
            photo_links=self.photo_links,
            seen_stamps=self.seen_stamps,
            wecom=self.wecom,
            wake_outbox=self._wake,
            outbox_lease_seconds=self.settings.outbox_lease_seconds,
            routing=self.routing,
            metrics=self.metrics,
        )

    def close(self) -> None:
        from app.wechat import MiniProgram

        if "db" in self.__dict__:
            self.db.dispose()
        if isinstance(self.__dict__.get("wechat"), MiniProgram):
            self.wechat.close()  # type: ignore[attr-defined]
        if self.__dict__.get("redis") is not None:
            self.redis.close()
