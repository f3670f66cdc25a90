"""gunicorn's configuration (read from the directory gunicorn starts in, or
named with ``--config``, as deploy/cases-web.service does).

- ``LOG_FORMAT=json``: gunicorn's own lines (errors, and the access log it
  then writes) are JSON objects too, one a line on stderr, with the request's
  ``X-Request-ID`` as ``request_id``; ``text`` (the default) leaves gunicorn
  as it always was.
- ``PROMETHEUS_MULTIPROC_DIR``: made if missing; when no process of the host
  still writes there (a cold start: the web and the worker both stopped), the
  files of the dead ones are cleared, so counters start again from zero;
  otherwise they are kept, so the host's totals never go backwards while the
  worker runs. A gunicorn process that exits is marked dead for
  prometheus-client (its live gauges leave the sums).

- Workers are ``gthread`` with 2 threads each and keep-alive connections:
  while one request waits (WeChat's content-security answer, SQLite's write
  lock), the worker's other thread uses the core, and a client that keeps its
  connection (the mini-program's, a proxy's) does not pay a TCP handshake per
  request. Measured with ``bench/api.py`` against the sync worker on the same
  2 cores: filings 1.3-2.2x the rate with the same CPU per filing, reads
  2.4x. More threads gained nothing (GIL). ``--worker-class``/``--threads``
  on the command line or in ``GUNICORN_CMD_ARGS`` override both.

Everything else (bind, workers) comes from the command line and
``WEB_CONCURRENCY``, as before.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from app.logs import gunicorn_logconfig
from app.settings import Settings

_settings = Settings.from_env()

worker_class = "gthread"
threads = 2
_FILE = re.compile(r"_(\d+)\.db$")

if _settings.log_format == "json":
    logconfig_dict = gunicorn_logconfig()
    accesslog = "-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prepare_multiproc_dir(directory: str) -> None:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    files = [(f, _FILE.search(f.name)) for f in path.glob("*.db")]
    if any(m is not None and _alive(int(m.group(1))) for _, m in files):
        return  # the worker (or another process of the host) still counts here
    for file, _ in files:
        file.unlink(missing_ok=True)


def on_starting(server: Any) -> None:
    if _settings.prometheus_multiproc_dir:
        _prepare_multiproc_dir(_settings.prometheus_multiproc_dir)


def child_exit(server: Any, worker: Any) -> None:
    if _settings.prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _settings.prometheus_multiproc_dir)


def _one_send_per_response() -> None:
    """gunicorn sends a response's head and its body in two ``sendall`` calls:
    two TCP segments, two wake-ups of the client, for answers that are mostly a
    few kilobytes. Here the head goes out with the first piece of the body in
    one call when the body has a length (not chunked); a streamed or chunked
    answer, ``sendfile`` and the head of a bodiless answer go as before."""
    from gunicorn import util
    from gunicorn.http.wsgi import Response

    plain_write = Response.write
    if getattr(plain_write, "one_send", False):
        return  # the file is read again (a reload): patched already

    def write(self: Any, arg: bytes) -> None:
        if self.headers_sent or self.chunked or not isinstance(arg, bytes) or self.response_length is None:
            plain_write(self, arg)
            return
        tosend = self.default_headers()
        tosend.extend(["%s: %s\r\n" % (k, v) for k, v in self.headers])  # noqa: UP031 - gunicorn's own form
        head = util.to_bytestring("%s\r\n" % "".join(tosend), "latin-1")  # noqa: UP031
        self.headers_sent = True
        body = arg[: max(0, self.response_length - self.sent)]
        self.sent += len(body)
        self.sock.sendall(head + body)

    write.one_send = True  # type: ignore[attr-defined]
    Response.write = write  # type: ignore[method-assign]


def _date_once_a_second() -> None:
    """gunicorn formats the ``Date`` header anew for every response (through
    ``email.utils``, a few percent of a small answer's CPU); the header has a
    resolution of one second, so it is formatted once a second instead."""
    from gunicorn import util

    plain = util.http_date
    if getattr(plain, "once_a_second", False):
        return
    last: tuple[int, str] = (-1, "")

    def http_date(timestamp: float | None = None) -> str:
        nonlocal last
        if timestamp is not None:
            return plain(timestamp)
        now = int(time.time())
        second, text = last
        if second != now:
            text = plain(now)
            last = (now, text)
        return text

    http_date.once_a_second = True  # type: ignore[attr-defined]
    util.http_date = http_date


def post_worker_init(worker: Any) -> None:
    _settings_kept(worker.cfg)


def _settings_kept(cfg: Any) -> None:
    """gunicorn reads a setting through ``Config.__getattr__``, which looks it
    up and validates nothing new each time: a dozen reads a request (the
    request line's and headers' limits, the proxy settings, the hooks), 6 %
    of a small answer's CPU. A worker's settings do not change once it runs
    (a reload starts new workers, which read the file again), so each value
    is kept on the worker's own config, where an attribute is found before
    ``__getattr__`` is asked. gunicorn's computed settings (properties such
    as ``worker_class`` and ``address``) are left as they are."""
    kept = vars(cfg)
    for name, setting in cfg.settings.items():
        if not isinstance(getattr(type(cfg), name, None), property):
            kept[name] = setting.get()


_one_send_per_response()
_date_once_a_second()
