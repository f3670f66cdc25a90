"""app/wechat/kept.py against a small HTTP/1.1 server on loopback: one kept
connection a thread, a connection the server closed meanwhile opened again,
``Connection: close`` obeyed, the environment's proxy used, all closed at the end."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.wechat.kept import KeptConnections


class Recorded(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        # (the connection's serial, target, body): a port may be given again
        # to the next connection once the last one is closed.
        self.calls: list[tuple[int, str, bytes]] = []
        self.connections = itertools.count()
        self.hang_up_after_answer = False
        self.say_close = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorded

    def setup(self) -> None:
        super().setup()
        self.serial = next(self.server.connections)  # one handler a connection

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        # Read before answering: once the answer is out the test may already
        # have changed the flag for its next call.
        hang_up = self.server.hang_up_after_answer
        self.server.calls.append((self.serial, self.path, body))
        answer = b'{"errcode": 0}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        if self.server.say_close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)
        if hang_up:
            self.close_connection = True  # gone without saying so

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Recorded]:
    srv = Recorded()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _kept(server: Recorded, monkeypatch: pytest.MonkeyPatch) -> KeptConnections:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return KeptConnections(f"http://127.0.0.1:{server.server_port}/", 1.0, 2.0)


def test_calls_of_a_thread_share_one_connection_and_each_thread_has_its_own(
    server: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = _kept(server, monkeypatch)
    for i in range(3):
        assert kept.post(f"wxa/check?n={i}", b"{}", {"Content-Type": "application/json"}) == (
            200,
            b'{"errcode": 0}',
        )
    other = threading.Thread(target=kept.post, args=("wxa/check?n=3", b"{}", {}))
    other.start()
    other.join()
    serials = [serial for serial, _, _ in server.calls]
    assert serials[0] == serials[1] == serials[2] != serials[3]
    assert [target for _, target, _ in server.calls] == [f"/wxa/check?n={i}" for i in range(4)]
    kept.close()


def test_a_connection_the_server_closed_meanwhile_is_opened_again_and_the_call_sent_once(
    server: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = _kept(server, monkeypatch)
    server.hang_up_after_answer = True
    assert kept.post("a", b"1", {})[0] == 200
    server.hang_up_after_answer = False
    assert kept.post("b", b"2", {})[0] == 200
    assert [(target, body) for _, target, body in server.calls] == [("/a", b"1"), ("/b", b"2")]
    assert server.calls[0][0] != server.calls[1][0]
    kept.close()


def test_connection_close_is_obeyed_and_a_server_away_is_an_oserror(
    server: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = _kept(server, monkeypatch)
    server.say_close = True
    kept.post("a", b"", {})
    server.say_close = False
    kept.post("b", b"", {})
    assert server.calls[0][0] != server.calls[1][0]
    port = server.server_port
    server.shutdown()
    server.server_close()
    kept.close()
    with pytest.raises(OSError):
        KeptConnections(f"http://127.0.0.1:{port}/", 1.0, 2.0).post("c", b"", {})


def test_the_environments_proxy_is_asked_with_the_whole_url(
    server: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_port}")
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    kept = KeptConnections("http://api.weixin.example:8080/", 1.0, 2.0)
    kept.post("wxa/msg_sec_check?access_token=t", b"{}", {})
    assert server.calls[-1][1] == "http://api.weixin.example:8080/wxa/msg_sec_check?access_token=t"
    kept.close()
