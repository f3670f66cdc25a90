"""Safe by default as it runs: gunicorn serving the app, a worker, the fake
WeChat. An oversized upload sent the way phones send it (no ``Expect:
100-continue``) reads its 413, not a connection reset; a photo goes through
WeChat's image check and back across processes."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests

from tests.e2e.procs import ROOT, free_port, gunicorn, wait_until, worker_env, workers
from tests.helpers import jpeg_bytes

pytestmark = pytest.mark.slow

BOUNDARY = "----phone-upload-boundary"


def _multipart(data: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _send_raw(port: int, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send the whole request first, as a phone does, then read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _status_and_json(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_an_upload_over_10_mb_reads_its_413_without_expect_continue(
    app: Any, settings: Any, fake_wechat: Any
) -> None:
    port = free_port()
    with gunicorn(worker_env(settings, ROOT / "config" / "county.yaml"), port=port) as (base, _):
        token = requests.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": "user-big:1"}, timeout=10
        ).json()["token"]
        body = _multipart(b"\xff" * (12 * 1024 * 1024))
        head = (
            f"POST /api/v1/photos HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        status, error = _status_and_json(
            _send_raw(port, head, [body[i : i + 65536] for i in range(0, len(body), 65536)])
        )
        assert status == 413
        assert error["error"]["code"] == "photo_too_large" and "10MB" in error["error"]["message"]
        # Chunked, with no length declared: refused once it passes the limit, still read to its end.
        chunks = [
            f"{len(c):x}\r\n".encode() + c + b"\r\n"
            for c in (body[i : i + 65536] for i in range(0, len(body), 65536))
        ]
        head = (
            f"POST /api/v1/photos HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        status, error = _status_and_json(_send_raw(port, head, [*chunks, b"0\r\n\r\n"]))
        assert status == 413 and error["error"]["message"]
        # The server is still there for the next upload.
        small = requests.post(
            f"{base}/api/v1/photos",
            files={"file": ("ok.jpg", jpeg_bytes(), "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert small.status_code == 201


def test_a_photo_goes_through_wechats_image_check_across_processes(
    app: Any, services: Any, settings: Any, fake_wechat: Any
) -> None:
    from app.models import Photo

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = worker_env(settings, ROOT / "config" / "county.yaml", PUBLIC_BASE_URL=base)
    fake_wechat.configure_push(f"{base}/wechat/callback", settings.wechat_token)
    fake_wechat.set_mode(media_verdict="risky")
    with gunicorn(env, port=port), workers(env, 1):
        token = requests.post(
            f"{base}/api/v1/auth/wechat-login", json={"code": "user-e2e-photo:1"}, timeout=10
        ).json()["token"]
        photo = requests.post(
            f"{base}/api/v1/photos",
            files={"file": ("p.jpg", jpeg_bytes(), "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()

        def verdict() -> str | None:
            with services.db.uow() as uow:
                row = uow.session.get(Photo, photo["id"])
                return row.media_check if row is not None else None

        assert wait_until(lambda: verdict() == "risky", timeout=30), verdict()
    [check] = fake_wechat.media_checks.values()
    assert check["fetched"][0] == 200 and check["media_url"].startswith(base)
    assert [p["status"] for p in fake_wechat.pushes] == [200]
