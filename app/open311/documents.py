"""GeoReport v2's two formats from one shape: JSON as given (lists are
arrays), XML with the spec's element names (a list ``services`` holds
``<service>`` elements, ``service_requests`` holds ``<request>``...), UTF-8
with the XML declaration, no namespace."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Response

# The element each list's items are written as.
ITEM = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}
CONTENT_TYPE = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: Element, name: str, value: Any) -> None:
    node = SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(node, key, inner)
    elif isinstance(value, list):
        for item in value:
            _fill(node, ITEM[name], item)
    else:
        node.text = _text(value)


def xml_bytes(root: str, body: Any) -> bytes:
    """``body`` under ``<root>``: a list's items as ITEM[root], a dict's keys as elements."""
    top = Element(root)
    if isinstance(body, list):
        for item in body:
            _fill(top, ITEM[root], item)
    else:
        for key, value in body.items():
            _fill(top, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(top, encoding="unicode").encode("utf-8")


def document(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    data = xml_bytes(root, body) if fmt == "xml" else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(data, status=status, content_type=CONTENT_TYPE[fmt])
