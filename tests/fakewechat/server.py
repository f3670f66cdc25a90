"""The fake WeChat server.

Answers, with WeChat's real shapes and error codes, the endpoints the product
uses: ``cgi-bin/token``, ``cgi-bin/stable_token``, ``sns/jscode2session``,
``wxa/msg_sec_check``, ``wxa/media_check_async``,
``cgi-bin/message/subscribe/send`` (mini-program) and ``cgi-bin/gettoken``,
``cgi-bin/message/send`` (WeCom), all on one base URL. It records what it was
sent and can be told to fail, over HTTP at ``/_fake/`` or through the Python API.

Like WeChat, it pushes to the product's message-push URL once one is set
(``configure_push``; tests/fakewechat/pushes.py signs and encrypts): an image
check's verdict (``wxa_media_check``) a moment after ``media_check_async``,
having fetched the photo from its URL first; ``push`` sends any message.
Verdicts: ``media_verdicts`` (one per check, in order), else the mode's
``media_verdict``, else ``pass``.

Login codes: ``user-<name>`` or ``user-<name>:<n>`` names the same user for
every ``n``; each code works once (40163 after); a code starting with
``invalid`` answers 40029, ``risky`` 40226.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakewechat.pushes import PushTarget, deliver, fetch, media_check_message, signed_request

RISKY_WORDS = ("违禁词", "risky-text")
REVIEW_WORDS = ("review-text",)
TOKEN_GRACE_SECONDS = 300


def openid_for(code: str) -> str:
    name = code.split(":", 1)[0]
    return "o" + hashlib.sha1(name.encode()).hexdigest()[:27]


def _limit(kind: str) -> int | None:
    return {
        "thing": 20,
        "number": 32,
        "letter": 32,
        "symbol": 5,
        "character_string": 32,
        "phone_number": 17,
        "car_number": 8,
        "name": 10,
        "phrase": 5,
    }.get(kind)


class FakeState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tokens: dict[str, float] = {}  # token -> expires (monotonic)
            self.current_token: str | None = None
            self.wecom_token: str | None = None
            self.used_codes: set[str] = set()
            self.sent: list[dict[str, Any]] = []
            self.calls: list[dict[str, Any]] = []
            self.token_fetches = 0
            self.wecom_token_fetches = 0
            self.mode: dict[str, Any] = {}
            self.fail_next: list[dict[str, Any]] = []
            self.no_quota: set[str] = set()
            self.unknown_wecom_users: set[str] = {"nobody"}
            self.msgid = 1000
            self.dropped = 0
            self.in_flight = 0
            self.hold_passed = 0
            self.wecom_seen: dict[tuple[str, str], float] = {}
            self.duplicates_dropped = 0
            self.media_checks: dict[str, dict[str, Any]] = {}
            self.media_verdicts: list[str] = []
            self.push_target: PushTarget | None = None
            self.pushes: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle and delayed
    # ACKs add 40 ms to every keep-alive call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.log:
            super().log_message(format, *args)

    # -- plumbing ---------------------------------------------------------
    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        # wechatpy sends JSON without a Content-Type: parse it whatever the header says.
        try:
            return json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode(errors="replace")}

    def _dropped_if_gone(self) -> bool:
        """Whether the caller has hung up (a killed worker): the call is then
        counted as dropped, unanswered and without effect."""
        import select
        import socket

        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            gone = bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            gone = True
        if gone:
            with self.server.state.lock:
                self.server.state.dropped += 1
        return gone

    def _held(self, path: str) -> bool:
        """Hold mode: after `hold_after` calls pass, calls to `hold_paths` wait
        until the hold is lifted, then go on, or until their caller hangs up (a
        killed process), then are dropped unanswered and without effect. A test
        can so kill a process with a send certainly in flight and none half done.
        Answers True when the call was dropped."""
        state = self.server.state
        with state.lock:
            if path not in state.mode.get("hold_paths", ()):
                return False
            if state.hold_passed < state.mode.get("hold_after", 0):
                state.hold_passed += 1
                return False
            state.in_flight += 1
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with state.lock:
                    holding = path in state.mode.get("hold_paths", ())
                if not holding:
                    break
                if self._dropped_if_gone():
                    return True
                time.sleep(0.005)
        finally:
            with state.lock:
                state.in_flight -= 1
        return self._dropped_if_gone()

    def setup(self) -> None:
        super().setup()
        with self.server.cond:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.cond:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        """Answer one request, unless the fake is going down (then hang up,
        as a stopped server's connections do); ``go_down`` waits for the
        requests already being answered."""
        server = self.server
        with server.cond:
            if server.refusing:
                self.close_connection = True
                return
            server.busy += 1
        try:
            self._dispatch(method)
        finally:
            with server.cond:
                server.busy -= 1
                server.cond.notify_all()

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        path = url.path.lstrip("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._body() if method == "POST" else {}
        state = self.server.state
        if path.startswith("_fake/"):
            self._control(method, path.removeprefix("_fake/"), body)
            return
        with state.lock:
            state.calls.append(
                {"method": method, "path": path, "query": query, "body": body, "at": time.time()}
            )
            mode = dict(state.mode)
        if self._held(path):
            return
        if mode.get("latency_ms") and mode.get("latency_path", path) == path:
            with state.lock:
                state.in_flight += 1
            try:
                time.sleep(mode["latency_ms"] / 1000)
            finally:
                with state.lock:
                    state.in_flight -= 1
            if self._dropped_if_gone():
                # The caller hung up (a killed worker) before we got to it:
                # like a server that had not started on the request, drop it.
                return
        if mode.get("reset"):
            self.close_connection = True
            self.connection.close()
            return
        if mode.get("down"):
            self._send(502, b"Bad Gateway", "text/plain")
            return
        with state.lock:
            for rule in state.fail_next:
                if rule.get("times", 0) > 0 and rule.get("path") in (path, None, ""):
                    rule["times"] -= 1
                    if rule.get("http"):
                        self._send(int(rule["http"]), b"error", "text/plain")
                    else:
                        self._send(
                            200, {"errcode": rule["errcode"], "errmsg": rule.get("errmsg", "fake failure")}
                        )
                    return
        if mode.get("busy"):
            self._send(200, {"errcode": -1, "errmsg": "system error"})
            return
        routes = {
            "cgi-bin/token": self._token,
            "cgi-bin/stable_token": self._stable_token,
            "cgi-bin/gettoken": self._wecom_token,
            "sns/jscode2session": self._login,
            "wxa/msg_sec_check": self._msg_sec_check,
            "wxa/media_check_async": self._media_check_async,
            "cgi-bin/message/subscribe/send": self._subscribe_send,
            "cgi-bin/message/send": self._wecom_send,
        }
        handler = routes.get(path)
        if handler is None:
            self._send(404, {"errcode": 404, "errmsg": f"fake: no such path {path}"})
            return
        handler(query, body)

    # -- tokens -------------------------------------------------------------
    def _new_token(self) -> str:
        state = self.server.state
        token = "tok-" + secrets.token_hex(8)
        now = time.monotonic()
        # A new fetch retires the previous token after a grace period.
        for old in list(state.tokens):
            if not old.startswith("wecom-"):
                state.tokens[old] = min(state.tokens[old], now + self.server.grace_seconds)
        state.tokens[token] = now + 7200
        state.current_token = token
        return token

    def _token(self, query: dict[str, str], _body: Any) -> None:
        state = self.server.state
        if query.get("grant_type") != "client_credential" or not query.get("appid"):
            self._send(200, {"errcode": 40013, "errmsg": "invalid appid"})
            return
        if query.get("secret") == "bad-secret":
            self._send(200, {"errcode": 40001, "errmsg": "invalid credential"})
            return
        with state.lock:
            state.token_fetches += 1
            token = self._new_token()
        self._send(200, {"access_token": token, "expires_in": 7200})

    def _stable_token(self, _query: dict[str, str], body: Any) -> None:
        state = self.server.state
        with state.lock:
            state.token_fetches += 1
            if body.get("force_refresh") or state.current_token is None:
                token = self._new_token()
            else:
                token = state.current_token
        self._send(200, {"access_token": token, "expires_in": 7200})

    def _wecom_token(self, query: dict[str, str], _body: Any) -> None:
        state = self.server.state
        if not query.get("corpid") or not query.get("corpsecret"):
            self._send(200, {"errcode": 40013, "errmsg": "invalid corpid"})
            return
        with state.lock:
            state.wecom_token_fetches += 1
            token = state.wecom_token
            if token is None or state.tokens.get(token, 0) <= time.monotonic():
                token = "wecom-" + secrets.token_hex(8)
                state.tokens[token] = time.monotonic() + 7200
                state.wecom_token = token
        self._send(200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def _check_token(self, query: dict[str, str]) -> bool:
        state = self.server.state
        token = query.get("access_token", "")
        with state.lock:
            if state.mode.get("expire_tokens"):
                state.mode.pop("expire_tokens")
                state.tokens = {}
                state.current_token = None
                state.wecom_token = None
            if state.mode.get("always_40001"):
                self._send(200, {"errcode": 40001, "errmsg": "invalid credential"})
                return False
            expires = state.tokens.get(token)
        if expires is None:
            self._send(200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            return False
        if expires <= time.monotonic():
            self._send(200, {"errcode": 42001, "errmsg": "access_token expired"})
            return False
        return True

    # -- mini-program ------------------------------------------------------
    def _login(self, query: dict[str, str], _body: Any) -> None:
        state = self.server.state
        code = query.get("js_code", "")
        if not code or code.startswith("invalid"):
            self._send(200, {"errcode": 40029, "errmsg": "invalid code"})
            return
        if code.startswith("risky"):
            self._send(200, {"errcode": 40226, "errmsg": "high risk user"})
            return
        with state.lock:
            if code in state.used_codes:
                self._send(200, {"errcode": 40163, "errmsg": "code been used"})
                return
            state.used_codes.add(code)
        self._send(200, {"openid": openid_for(code), "session_key": secrets.token_urlsafe(16)})

    def _msg_sec_check(self, query: dict[str, str], body: Any) -> None:
        if not self._check_token(query):
            return
        content = str(body.get("content", ""))
        risky = any(w in content for w in RISKY_WORDS)
        review = any(w in content for w in REVIEW_WORDS)
        if body.get("version") != 2:
            if risky:
                self._send(200, {"errcode": 87014, "errmsg": "risky content"})
            else:
                self._send(200, {"errcode": 0, "errmsg": "ok"})
            return
        suggest = "risky" if risky else "review" if review else "pass"
        label = 20006 if risky else 100
        self._send(
            200,
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}],
                "trace_id": secrets.token_hex(8),
            },
        )

    def _media_check_async(self, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        if not self._check_token(query):
            return
        if body.get("version") != 2 or body.get("media_type") not in (1, 2) or not body.get("media_url"):
            self._send(200, {"errcode": 47001, "errmsg": "data format error"})
            return
        if not str(body.get("openid", "")).startswith("o"):
            self._send(200, {"errcode": 40003, "errmsg": "invalid openid"})
            return
        trace_id = "-".join(secrets.token_hex(4) for _ in range(3))
        with state.lock:
            verdict = (
                state.media_verdicts.pop(0)
                if state.media_verdicts
                else state.mode.get("media_verdict", "pass")
            )
            state.media_checks[trace_id] = {
                "media_url": body["media_url"],
                "openid": body["openid"],
                "scene": body.get("scene"),
                "verdict": verdict,
                "fetched": None,
            }
            auto = state.push_target is not None and not state.mode.get("hold_media_verdicts")
        self._send(200, {"errcode": 0, "errmsg": "ok", "trace_id": trace_id})
        if auto:
            threading.Thread(
                target=self.server.fake.push_media_verdict, args=(trace_id,), daemon=True
            ).start()

    def _subscribe_send(self, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        if not self._check_token(query):
            return
        touser = str(body.get("touser", ""))
        if not touser.startswith("o"):
            self._send(200, {"errcode": 40003, "errmsg": "invalid openid"})
            return
        if not body.get("template_id"):
            self._send(200, {"errcode": 40037, "errmsg": "invalid template_id"})
            return
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            self._send(200, {"errcode": 47003, "errmsg": "argument invalid! data is empty"})
            return
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                self._send(200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value empty"})
                return
            kind = key.rstrip("0123456789")
            limit = _limit(kind)
            if limit is not None and len(value) > limit:
                self._send(200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value too long"})
                return
        with state.lock:
            if touser in state.no_quota:
                self._send(200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"})
                return
            state.msgid += 1
            msgid = state.msgid
            state.sent.append(
                {"channel": "subscribe", "touser": touser, "msgid": msgid, "body": body, "at": time.time()}
            )
        self._send(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})

    # -- WeCom ---------------------------------------------------------------
    def _wecom_send(self, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        if not self._check_token(query):
            return
        if not body.get("agentid"):
            self._send(200, {"errcode": 40056, "errmsg": "invalid agentid"})
            return
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        with state.lock:
            invalid = [u for u in users if u in state.unknown_wecom_users]
            valid = [u for u in users if u not in invalid]
            if not valid:
                self._send(
                    200,
                    {"errcode": 81013, "errmsg": "all recipients invalid", "invaliduser": "|".join(invalid)},
                )
                return
            state.msgid += 1
            msgid = state.msgid
            content = json.dumps(
                {k: body.get(k) for k in ("msgtype", "text", "textcard", "markdown")}, sort_keys=True
            )
            key = ("|".join(valid), content)
            seen = state.wecom_seen.get(key)
            interval = int(body.get("duplicate_check_interval") or 1800)
            if body.get("enable_duplicate_check") and seen is not None and time.monotonic() - seen < interval:
                # WeCom drops the repeat and still answers ok.
                state.duplicates_dropped += 1
            else:
                state.wecom_seen[key] = time.monotonic()
                state.sent.append(
                    {
                        "channel": "wecom",
                        "touser": "|".join(valid),
                        "msgid": msgid,
                        "body": body,
                        "at": time.time(),
                    }
                )
        self._send(
            200,
            {
                "errcode": 0,
                "errmsg": "ok",
                "invaliduser": "|".join(invalid),
                "invalidparty": "",
                "invalidtag": "",
                "msgid": str(msgid),
            },
        )

    # -- control --------------------------------------------------------------
    def _control(self, method: str, what: str, body: Any) -> None:
        fake = self.server.fake
        if what == "mode" and method == "POST":
            fake.set_mode(**body)
            self._send(200, {"ok": True, "mode": fake.state.mode})
        elif what == "reset" and method == "POST":
            fake.reset()
            self._send(200, {"ok": True})
        elif what == "sent":
            self._send(200, {"items": fake.sent})
        elif what == "calls":
            self._send(200, {"items": fake.calls})
        elif what == "token_fetches":
            self._send(200, {"token_fetches": fake.token_fetches})
        elif what == "push_config" and method == "POST":
            fake.configure_push(**body)
            self._send(200, {"ok": True})
        elif what == "pushes":
            self._send(200, {"items": fake.pushes})
        else:
            self._send(404, {"error": "unknown control path"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: FakeState
    fake: FakeWeChat
    log: bool
    grace_seconds: float

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.cond = threading.Condition()
        self.open_connections: set[Any] = set()
        self.busy = 0
        self.refusing = False


class FakeWeChat:
    """``FakeWeChat().start()`` answers at ``.base_url`` until ``.stop()``;
    ``go_down()`` and ``come_back()`` take it away and back on the same port,
    keeping what it recorded."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log: bool = False, grace_seconds: float = 300):
        self.state = FakeState()
        self._log, self._grace = log, grace_seconds
        self._server = self._new_server((host, port))
        self._thread: threading.Thread | None = None

    def _new_server(self, address: tuple[str, int]) -> _Server:
        server = _Server(address)
        server.state = self.state
        server.fake = self
        server.log = self._log
        server.grace_seconds = self._grace
        return server

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-wechat", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def go_down(self) -> None:
        """Stop answering, like WeChat unreachable: new connections are
        refused and open ones closed; requests already being answered are
        answered first (a lost answer is another test's subject)."""
        import socket

        server = self._server
        with server.cond:
            server.refusing = True
            server.cond.wait_for(lambda: server.busy == 0, timeout=10)
        self.stop()
        with server.cond:
            for connection in list(server.open_connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        host, port = self._server.server_address[:2]
        self._server = self._new_server((str(host), int(port)))
        self.start()

    def __enter__(self) -> FakeWeChat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        self.state.reset()

    def set_mode(self, **mode: Any) -> None:
        """down, reset, busy, latency_ms (only for latency_path when given),
        hold_paths: [path, ...] held once hold_after calls have passed (see _held);
        always_40001, expire_tokens, hold_media_verdicts: on/off;
        media_verdict: pass|review|risky; media_verdicts: [verdict, ...] for the next checks;
        no_quota: [openid, ...]; fail_next: {path, errcode | http, times}."""
        with self.state.lock:
            if "media_verdicts" in mode:
                self.state.media_verdicts = list(mode.pop("media_verdicts") or [])
            if "no_quota" in mode:
                self.state.no_quota = set(mode.pop("no_quota") or [])
            if "fail_next" in mode:
                rule = dict(mode.pop("fail_next"))
                rule.setdefault("times", 1)
                self.state.fail_next.append(rule)
            if "unknown_wecom_users" in mode:
                self.state.unknown_wecom_users = set(mode.pop("unknown_wecom_users") or [])
            if "hold_paths" in mode:
                self.state.hold_passed = 0
                mode["hold_paths"] = tuple(mode["hold_paths"] or ())
            for key, value in mode.items():
                if value in (False, None, 0, ()):
                    self.state.mode.pop(key, None)
                else:
                    self.state.mode[key] = value

    @property
    def sent(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(x) for x in self.state.sent]

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(x) for x in self.state.calls]

    @property
    def token_fetches(self) -> int:
        return self.state.token_fetches

    # -- pushes to the product ----------------------------------------------
    def configure_push(self, url: str, token: str, **options: Any) -> None:
        """Push to ``url`` (the product's /wechat/callback) signed with ``token``;
        options: aes_key, appid, format (json|xml), encrypt, delay, clock_offset."""
        with self.state.lock:
            self.state.push_target = PushTarget(url=url, token=token, **options)

    def push(self, message: dict[str, Any]) -> tuple[int, str]:
        """Send one push as WeChat would; answers the product's (status, text)."""
        with self.state.lock:
            target = self.state.push_target
        if target is None:
            return 0, "configure_push first"
        url, body, content_type = signed_request(target, message)
        status, text = deliver(url, body, content_type)
        with self.state.lock:
            self.state.pushes.append(
                {"event": message.get("Event"), "status": status, "answer": text, "url": url}
            )
        return status, text

    def push_media_verdict(self, trace_id: str, suggest: str | None = None) -> tuple[int, str]:
        """The verdict of an image check, after fetching the photo as WeChat does.
        (0, reason) when there is nothing to push: the fake was reset meanwhile."""
        with self.state.lock:
            target = self.state.push_target
        if target is not None and target.delay:
            time.sleep(target.delay)
        with self.state.lock:
            check = self.state.media_checks.get(trace_id)
        if check is None or self.state.push_target is None:
            return 0, "no such check, or nowhere to push"
        fetched = fetch(check["media_url"])
        with self.state.lock:
            check["fetched"] = fetched
        message = media_check_message(
            target.appid if target else "", check["openid"], trace_id, suggest or check["verdict"]
        )
        return self.push(message)

    @property
    def media_checks(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.media_checks.items()}

    @property
    def pushes(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(p) for p in self.state.pushes]
