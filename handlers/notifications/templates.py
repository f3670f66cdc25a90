"""Filling a subscribe-message template: which payload field goes to which
keyword (data in the county file), each value fitted to WeChat's limits for
its keyword type so WeChat never answers 47003."""

from __future__ import annotations

import re
from datetime import datetime

from handlers.ports import JSONDict
from routing import CountyConfig

_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "number": 32,
    "letter": 32,
    "name": 10,
    "symbol": 5,
}
# A phrase is a few Chinese characters with no punctuation: "已签收，正在处理" -> "已签收".
_PHRASE_BREAK = re.compile(r"[，,。；;：:！!（(\s]")


def fit_template_value(kind: str, value: str) -> str:
    """Fit a value to a keyword type (``thing``, ``phrase``, ``time``, ...)."""
    value = " ".join(str(value).split()) or "-"
    if kind == "phrase":
        value = _PHRASE_BREAK.split(value, maxsplit=1)[0] or "-"
    if kind == "character_string":
        value = "".join(ch for ch in value if ch.isascii() and ch.isprintable()) or "-"
    if kind == "number":
        value = "".join(ch for ch in value if ch.isdigit()) or "0"
    limit = _LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…" if kind in ("thing", "name") else value[:limit]
    return value


def _moment(kind: str, value: str, county: CountyConfig) -> str:
    try:
        moment = datetime.fromisoformat(value).astimezone(county.tz)
    except ValueError:
        return value
    if kind == "time":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment:%Y-%m-%d}"


def template_data(purpose: str, payload: JSONDict, county: CountyConfig) -> tuple[str, JSONDict]:
    """The template id and its keyword data for a notification's payload.

    ``subscribe_templates.<purpose>.fields`` in the county file maps each
    keyword to a payload field (e.g. ``thing2: category``); a keyword's type
    is its name without the digits."""
    template = county.subscribe_templates[purpose]
    data: JSONDict = {}
    for keyword, source in template.fields:
        value = str(payload.get(source, "") or "")
        kind = keyword.rstrip("0123456789")
        if kind in ("time", "date") and value:
            value = _moment(kind, value, county)
        data[keyword] = {"value": fit_template_value(kind, value or "-")}
    return template.id, data
