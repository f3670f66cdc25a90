"""An S3-compatible store for the tests: moto's server mode, started as its own
process on loopback (as MinIO or COS would be reached: over HTTP)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.ownservers import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_REGION": "us-east-1",
}


@dataclass
class MotoS3:
    endpoint_url: str

    def env(self, bucket: str, prefix: str = "photos") -> dict[str, str]:
        """What a process of the product needs to keep its photos in ``bucket``."""
        return CREDENTIALS | {
            "PHOTO_STORAGE": "s3",
            "S3_BUCKET": bucket,
            "S3_PREFIX": prefix,
            "S3_ENDPOINT_URL": self.endpoint_url,
        }

    def use_bucket(self, settings: Any, bucket: str, prefix: str = "photos") -> Any:
        """``settings`` with the photos in ``bucket``."""
        return settings.but(
            photo_storage="s3",
            s3_bucket=bucket,
            s3_prefix=prefix,
            s3_endpoint_url=self.endpoint_url,
            aws_region=CREDENTIALS["AWS_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def client(self) -> Any:
        from app.photos.s3 import S3Location, make_client

        return make_client(
            S3Location(
                bucket="",
                endpoint_url=self.endpoint_url,
                region=CREDENTIALS["AWS_REGION"],
                access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        )

    def new_bucket(self) -> str:
        name = f"photos-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/moto-api/", timeout=1).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto's S3 server did not start")
            time.sleep(0.1)
        yield MotoS3(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_bucket(moto_s3: MotoS3) -> str:
    """A new, empty bucket for one test."""
    return moto_s3.new_bucket()
