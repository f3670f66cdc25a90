"""Uploading photos (one per request, as wx.uploadFile sends them) and opening them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api import ctx
from app.api.photo_links import signature_ok
from app.api.security import current_user, login_required
from app.api.shapes import photo_json
from handlers.cases.photos import open_photo, upload_photo
from handlers.errors import BadRequest, NotFound, TooLarge, Unsupported

bp = Blueprint("photos", __name__, url_prefix="/api/v1/photos")

MAX_UPLOAD = 10 * 1024 * 1024


@bp.post("")
@login_required
def upload() -> Any:
    """Upload one photo (multipart field `file`)."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD + 64 * 1024:
        raise TooLarge("图片超过 10MB，请压缩后重试", "photo_too_large")
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
    photo = upload_photo(ctx(), current_user().id, data)
    return jsonify(photo_json(photo) | {"sha256": photo.sha256}), 201


def _serve(photo_id: str, variant: str) -> Any:
    expires, sig = request.args.get("e"), request.args.get("s")
    if expires or sig:
        if not signature_ok(photo_id, variant, expires, sig):
            raise NotFound("链接已失效，请刷新后重试", "photo_link_expired")
        data = open_photo(ctx(), photo_id, None, variant == "thumb")
    else:
        data = open_photo(ctx(), photo_id, current_user(), variant == "thumb")
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<photo_id>")
def display(photo_id: str) -> Any:
    """The display copy of a photo."""
    return _serve(photo_id, "display")


@bp.get("/<photo_id>/thumb")
def thumb(photo_id: str) -> Any:
    """The thumbnail of a photo."""
    return _serve(photo_id, "thumb")
