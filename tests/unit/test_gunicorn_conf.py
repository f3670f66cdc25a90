"""gunicorn.conf.py at the checkout's root: JSON logging only when asked,
and the multiprocess metrics directory cleared only on a cold start."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = str(ROOT / "gunicorn.conf.py")


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_text_leaves_gunicorns_logging_alone_and_json_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _load(monkeypatch)
    assert "logconfig_dict" not in plain and "accesslog" not in plain
    structured = _load(monkeypatch, LOG_FORMAT="json")
    assert structured["accesslog"] == "-"
    loggers = structured["logconfig_dict"]["loggers"]
    assert loggers["gunicorn.access"]["handlers"] == loggers["gunicorn.error"]["handlers"] == ["json"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_cold_start_clears_the_dead_processes_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    conf = _load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(directory))
    conf["on_starting"](None)
    assert directory.is_dir()
    stale = directory / f"counter_{_dead_pid()}.db"
    stale.write_bytes(b"old")
    conf["on_starting"](None)
    assert not stale.exists()


def test_files_stay_while_a_process_of_the_host_still_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    dead = directory / f"counter_{_dead_pid()}.db"
    live = directory / f"counter_{os.getpid()}.db"
    dead.write_bytes(b"a web process that ended")
    live.write_bytes(b"the worker, still running")
    conf = _load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(directory))
    conf["on_starting"](None)
    assert dead.exists() and live.exists()


class _Socket:
    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


class _Request:
    version = (1, 1)
    method = "GET"
    headers: list[tuple[str, str]] = []

    def should_close(self) -> bool:
        return False


def _respond(headers: list[tuple[str, str]], chunks: list[bytes]) -> list[bytes]:
    from gunicorn.config import Config
    from gunicorn.http.wsgi import Response

    sock = _Socket()
    response = Response(_Request(), sock, Config())
    response.start_response("200 OK", headers)
    for chunk in chunks:
        response.write(chunk)
    response.close()
    return sock.sends


def test_workers_are_threaded_and_a_sized_answer_goes_out_in_one_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = _load(monkeypatch)
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 2)
    _load(monkeypatch)  # read twice (a reload): still one wrapper
    body = b'{"items": []}'
    sends = _respond([("Content-Type", "application/json"), ("Content-Length", str(len(body)))], [body])
    assert len(sends) == 1
    head, _, rest = sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 13" in head and rest == body
    # Never more than the declared length; the second piece goes as before.
    sends = _respond([("Content-Length", "5")], [b"abc", b"defgh"])
    assert sends[0].endswith(b"\r\n\r\nabc") and sends[1:] == [b"de"]
    # Without a length the answer is chunked: the head alone, then chunks.
    sends = _respond([("Content-Type", "text/plain")], [b"abc"])
    assert sends[0].endswith(b"\r\n\r\n") and sends[1] == b"3\r\nabc\r\n"


def test_the_date_header_is_formatted_once_a_second_and_reads_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from email.utils import formatdate

    from gunicorn import util

    _load(monkeypatch)
    _load(monkeypatch)  # read twice: still one wrapper
    assert util.http_date.once_a_second  # type: ignore[attr-defined]
    assert util.http_date(1_700_000_000) == formatdate(1_700_000_000, localtime=False, usegmt=True)
    seconds = iter([1_700_000_000.2, 1_700_000_000.9, 1_700_000_001.1])
    monkeypatch.setattr("time.time", lambda: next(seconds))
    first, same, next_second = util.http_date(), util.http_date(), util.http_date()
    assert first == same == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert next_second == "Tue, 14 Nov 2023 22:13:21 GMT"


def test_a_workers_settings_are_kept_on_its_config_and_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config

    conf = _load(monkeypatch)
    cfg = Config()
    cfg.set("keepalive", 7)
    cfg.set("limit_request_line", 1234)
    before = {name: getattr(cfg, name) for name in cfg.settings}
    assert "keepalive" not in vars(cfg)  # read through gunicorn's __getattr__ until then

    class Worker:
        pass

    worker = Worker()
    worker.cfg = cfg  # type: ignore[attr-defined]
    conf["post_worker_init"](worker)
    assert vars(cfg)["keepalive"] == 7 and vars(cfg)["limit_request_line"] == 1234
    assert {name: getattr(cfg, name) for name in cfg.settings} == before
    # The computed settings stay gunicorn's properties.
    assert "worker_class" not in vars(cfg) and cfg.worker_class is before["worker_class"]
