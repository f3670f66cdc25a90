"""Small factories for the HTTP tests."""

from __future__ import annotations

import io
import itertools
from typing import Any

from PIL import Image

_codes = itertools.count(1)


def login(client: Any, name: str) -> dict[str, str]:
    """Log ``name`` in through the fake WeChat; a fresh wx.login code each call."""
    response = client.post("/api/v1/auth/wechat-login", json={"code": f"user-{name}:{next(_codes)}"})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def user_id(client: Any, headers: dict[str, str]) -> int:
    """The id of the user a bearer token names."""
    from itsdangerous import URLSafeTimedSerializer

    token = headers["Authorization"].split(" ", 1)[1]
    secret = client.application.config["SECRET_KEY"]
    return int(URLSafeTimedSerializer(secret, salt="api-token").loads(token)["uid"])


def make_staff(client: Any, services: Any, department: str, role: str, name: str) -> dict[str, str]:
    """A user of ``department`` with ``role``, bound through the HTTP API."""
    from handlers.accounts import invite_staff

    headers = login(client, name)
    code, _ = invite_staff(services.context(), department, role)
    response = client.post("/api/v1/auth/bind-staff", json={"binding_code": code}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return headers


def jpeg_bytes(size: tuple[int, int] = (640, 480), color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    # A little structure so two colours give two different files.
    for x in range(0, size[0], 16):
        image.putpixel((x, x % size[1]), (x % 255, 0, 0))
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def upload_photo(client: Any, headers: dict[str, str], data: bytes | None = None) -> dict[str, Any]:
    payload = data if data is not None else jpeg_bytes(color=(next(_codes) % 255, 80, 40))
    response = client.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(payload), "photo.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def community_id(client: Any, name: str = "幸福里小区") -> int:
    items = client.get("/api/v1/communities", query_string={"q": name}).get_json()["items"]
    return int(items[0]["id"])


def file_case(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "category": "dog_unleashed",
        "community_id": community_id(client),
        "description": "小区里每天早上有人遛狗不拴绳，孩子很害怕",
        "location_text": "3号楼东侧",
        "photo_ids": [],
    }
    body.update(overrides)
    extra_headers = body.pop("extra_headers", {})
    response = client.post("/api/v1/cases", json=body, headers=headers | extra_headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()  # type: ignore[no-any-return]
