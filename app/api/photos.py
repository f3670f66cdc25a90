"""Uploading photos (one per request, as wx.uploadFile sends them) and opening them."""

from __future__ import annotations

from typing import Literal

from flask import Response, request
from flask_openapi3 import FileStorage
from pydantic import Field

from app.api.answers import UploadedPhotoOut, answer, photo_out
from app.api.limits import UPLOAD_LIMIT, UPLOAD_MESSAGE, limiter
from app.api.photo_links import signature_ok
from app.api.web import BEARER, blueprint, caller, ctx, errors
from handlers.cases.photos import open_photo, upload_photo
from handlers.commands import ParamInt, Query
from handlers.errors import BadRequest, NotFound, TooLarge, Unsupported

bp = blueprint("photos", "/api/v1/photos", "照片")

MAX_UPLOAD = 10 * 1024 * 1024
JPEG = {
    "description": "JPEG 图片",
    "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
}


class Upload(Query):
    file: FileStorage | None = Field(
        default=None, title="照片", description="一次一张，JPG/PNG/WEBP/GIF，最大 10MB"
    )


def _one_file() -> bytes:
    if not request.mimetype.startswith("multipart/form-data"):
        raise Unsupported("请以 multipart/form-data 上传图片（字段名 file）", "bad_content_type")
    files = request.files.getlist("file")
    try:
        if not files:
            raise BadRequest("请选择要上传的图片（字段名 file）", "photo_missing")
        if len(files) > 1:
            raise BadRequest("每次只能上传一张图片", "photo_too_many")
        data = files[0].read(MAX_UPLOAD + 1)
    finally:
        for upload_file in request.files.values():
            upload_file.close()
    if not data:
        raise BadRequest("图片内容为空", "photo_empty")
    if len(data) > MAX_UPLOAD:
        raise TooLarge("图片超过 10MB，请压缩后重试", "photo_too_large")
    return data


@bp.post("", responses={201: UploadedPhotoOut} | errors(429))
@limiter.limit(UPLOAD_LIMIT, error_message=UPLOAD_MESSAGE)
def upload(form: Upload) -> Response:
    """上传一张照片（multipart/form-data，字段名 file；每人每分钟最多 30 张）"""
    user = caller()
    photo = upload_photo(ctx(), user.id, _one_file())
    return answer(UploadedPhotoOut(**photo_out(photo).model_dump(), sha256=photo.sha256), 201)


class PhotoPath(Query):
    photo_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$", title="照片")


class Signature(Query):
    e: ParamInt | None = Field(default=None, title="链接有效期", description="签名链接的过期时间（Unix 秒）")
    s: str | None = Field(default=None, max_length=64, title="签名", description="签名")
    r: Literal["1"] | None = Field(default=None, title="受限链接", description="仅发给上传者和督办人员的链接")


def _serve(photo_id: str, variant: str, link: Signature) -> Response:
    if link.e is not None or link.s:
        restricted = link.r == "1"
        if not signature_ok(photo_id, variant, link.e, link.s, restricted):
            raise NotFound("链接已失效，请刷新后重试", "photo_link_expired")
        data = open_photo(ctx(), photo_id, None, variant == "thumb", restricted)
    else:
        data = open_photo(ctx(), photo_id, caller(), variant == "thumb")
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# A signed link opens without a token; without one, the bearer token of a party to its case.
SIGNED_OR_BEARER = [{}, *BEARER]


@bp.get("/<photo_id>", responses={200: JPEG} | errors(404), security=SIGNED_OR_BEARER)
def display(path: PhotoPath, query: Signature) -> Response:
    """照片（展示尺寸）：签名链接直接打开，或工单当事人带 bearer token 打开"""
    return _serve(path.photo_id, "display", query)


@bp.get("/<photo_id>/thumb", responses={200: JPEG} | errors(404), security=SIGNED_OR_BEARER)
def thumb(path: PhotoPath, query: Signature) -> Response:
    """照片缩略图（打开方式同上）"""
    return _serve(path.photo_id, "thumb", query)
