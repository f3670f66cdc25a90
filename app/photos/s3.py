"""Photo bytes in an S3-compatible bucket (``PHOTO_STORAGE=s3``): AWS S3, MinIO,
Tencent COS, Alibaba OSS. Implements ``handlers.ports.PhotoStore``.

Keys are content-addressed (``ab/abcd….jpg``), so an object once written never
changes: a put of a key that is already there is a no-op, and two web hosts
uploading the same photo at once write the same bytes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from handlers.ports import StorageUnavailable

log = logging.getLogger(__name__)

# What an S3-compatible store answers for a key that is not there.
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class S3Location:
    """Where the photos live and how to reach them. Credentials left empty fall
    back to boto3's own chain (instance role, ``~/.aws``)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""
    addressing_style: str = ""  # path | virtual; default: path when an endpoint is given


def make_client(location: S3Location) -> Any:
    style = location.addressing_style or ("path" if location.endpoint_url else "auto")
    options: dict[str, Any] = {
        "s3": {"addressing_style": style},
        "retries": {"max_attempts": 3, "mode": "standard"},
        "connect_timeout": 5,
        "read_timeout": 30,
    }
    if location.endpoint_url:
        # botocore 1.36+ adds CRC checksums and a checksum-mode header to every
        # call; several S3-compatible stores refuse them. Only where required.
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    session = boto3.session.Session(
        aws_access_key_id=location.access_key_id or None,
        aws_secret_access_key=location.secret_access_key or None,
        aws_session_token=location.session_token or None,
        region_name=location.region or None,
    )
    return session.client("s3", endpoint_url=location.endpoint_url or None, config=Config(**options))


def _normal_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


class S3PhotoStorage:
    page_size = 1000  # keys per listing request (S3's maximum)

    def __init__(self, location: S3Location, client: Any = None):
        self.bucket = location.bucket
        self.prefix = _normal_prefix(location.prefix)
        self.client = client if client is not None else make_client(location)

    def _key(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"bad storage key {key!r}")
        return self.prefix + key

    def exists(self, key: str) -> bool:
        with _reachable():
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _error_code(exc) in _MISSING:
                    return False
                raise
        return True

    def put(self, key: str, data: bytes) -> None:
        if self.exists(key):
            return  # content-addressed: the same key holds the same bytes
        with _reachable():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType="image/jpeg",
                CacheControl="private, max-age=3600",
            )

    def get(self, key: str) -> bytes | None:
        with _reachable():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _error_code(exc) in _MISSING:
                    return None
                raise
            body = answer["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        return data

    def delete(self, key: str) -> None:
        with _reachable():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": self.page_size}
        )
        with _reachable():
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _reachable() -> Iterator[None]:
    """The store away (network, timeout, a 5xx after botocore's retries) is
    ``StorageUnavailable``: a 503 the client may retry, not a crash."""
    try:
        yield
    except BotoCoreError as exc:
        log.warning("photo storage unreachable: %s", exc)
        raise StorageUnavailable(str(exc)) from exc
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status < 500:
            raise
        log.warning("photo storage answered %s: %s", status, exc)
        raise StorageUnavailable(str(exc)) from exc
