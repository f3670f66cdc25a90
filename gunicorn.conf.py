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

Everything else (bind, workers) comes from the command line and
``WEB_CONCURRENCY``, as before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from app.logs import gunicorn_logconfig
from app.settings import Settings

_settings = Settings.from_env()
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
