"""Logs: ``LOG_FORMAT=json`` writes one JSON object a line (the standard
library's ``logging`` with the ``JsonFormatter`` below, no extra package);
``text`` (the default) leaves logging as it always was.

Every request has an id: the caller's ``X-Request-ID`` when it is sane (1-64
letters, digits and ``._:-``), else a new one; it is echoed in the response's
``X-Request-ID``, named in each line logged while the request runs, and
written into the outbox rows the request makes, so the worker's send of each
of them logs the same id. A worker's job run has an id of its own
(``job-<name>-<hex>``) for the same purpose.

This module imports no framework at import time: models read
``current_request_id`` from it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask, Response

HEADER = "X-Request-ID"
ENVIRON_HEADER = "HTTP_X_REQUEST_ID"  # the header as WSGI names it
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("user_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def sane_request_id(raw: str | None) -> str | None:
    """The caller's id if it is one we may log and echo, else None."""
    if raw and SANE_ID.fullmatch(raw):
        return raw
    return None


def new_request_id() -> str:
    # 128 random bits as 32 hex digits, as ``uuid4().hex`` has them, without
    # building a UUID for each request.
    return os.urandom(16).hex()


def note_user(user_id: int) -> None:
    """The request's caller is known: later lines name them."""
    _user_id.set(user_id)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """Lines logged and outbox rows written inside carry ``request_id``."""
    rid, uid = _request_id.set(request_id), _user_id.set(None)
    try:
        yield
    finally:
        _request_id.reset(rid)
        _user_id.reset(uid)


# -- the JSON lines ------------------------------------------------------------------------

# What every LogRecord has; anything else on a record came through ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _access_fields(args: Any) -> dict[str, Any]:
    """gunicorn's access line, as fields (its atoms: see gunicorn's docs)."""
    try:
        status = args["s"]
        return {
            "event": "http_request",
            "method": args["m"],
            "path": args["U"],
            "query": args["q"] or None,
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(int(args["D"]) / 1000, 1),
            "remote_addr": args["h"],
            "request_id": sane_request_id(args["{x-request-id}o"]),
        }
    except (KeyError, TypeError, ValueError):
        return {}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, event, request_id,
    user_id (when known), the fields given with ``extra=``, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": _request_id.get(),
        }
        user_id = _user_id.get()
        if user_id is not None:
            line["user_id"] = user_id
        if record.name == "gunicorn.access" and record.args:
            line["message"] = line["event"]
            line.update(_access_fields(record.args))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str) -> None:
    """``json``: the root logger writes JSON lines to stderr at INFO (once,
    whoever calls first: gunicorn's config, the app, the worker). ``text``:
    nothing changes."""
    if log_format != "json":
        return
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def gunicorn_logconfig() -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error and access lines JSON too."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "apscheduler": {"level": "WARNING"},
        },
    }


# -- the request's id ----------------------------------------------------------------------


def _begin() -> None:
    from flask import g, request

    request_id = sane_request_id(request.environ.get(ENVIRON_HEADER)) or new_request_id()
    g.request_id = request_id
    g.request_scope = (_request_id.set(request_id), _user_id.set(None))


def _echo(response: Response) -> Response:
    from flask import g

    request_id = g.get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
    return response


def _end(_exc: BaseException | None) -> None:
    from flask import g

    tokens: tuple[Token[str | None], Token[int | None]] | None = g.pop("request_scope", None)
    if tokens is not None:
        try:
            _request_id.reset(tokens[0])
            _user_id.reset(tokens[1])
        except ValueError:  # set in another context (a copied one): nothing of ours to undo
            pass


def init_request_ids(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_echo)
    app.teardown_request(_end)
