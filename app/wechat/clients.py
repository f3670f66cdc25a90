"""wechatpy clients pointed at the configured base URLs, sharing one token.

wechatpy 1.8.18 hard-codes its token URLs and retries token errors without
bound, so these subclasses read every URL from the configured base
(``WECHAT_API_BASE``/``WECOM_API_BASE``), take their token from a
``TokenStore`` (fetched once under its lock, re-read after it), and retry a
token error once after a refetch; a second is an outage.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from app.wechat.tokens import StoredToken, TokenStore, WechatpySession
from handlers.ports import WeChatUnavailable

log = logging.getLogger(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
# Refresh this long before the token's stated expiry.
REFRESH_MARGIN = 300
# What a call that never reached WeChat, or got no JSON back, raises.
NETWORK_ERRORS = (requests.RequestException,)


def read_environment_once(http: requests.Session, api_base: str) -> None:
    """What requests reads from the environment on every call (the proxy
    variables, after scanning the whole environment for them, and the CA
    bundle), read once for the one host the client calls: a process's
    environment does not change. The session then stops looking; it stays
    pooled, so calls reuse its keep-alive connections."""
    http.proxies = requests.utils.get_environ_proxies(api_base)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        http.verify = bundle
    http.trust_env = False


class SharedTokenMixin:
    """Token handling shared by both clients: stored with its expiry, fetched
    once under the store's lock."""

    store: TokenStore
    access_token_key: str
    _fetch: Callable[[], dict[str, Any]]

    _cached: StoredToken | None = None

    @property
    def access_token(self) -> str:  # type: ignore[override]
        # The process keeps what it last read until it nears expiry; a token
        # error (another process refreshed) sends it back to the store.
        token = self._cached
        if token is None or token.expires_at - time.time() <= REFRESH_MARGIN:
            token = self.store.get(self.access_token_key)
        if token and token.expires_at - time.time() > REFRESH_MARGIN:
            self._cached = token
            return token.value
        return self.refresh_token(stale=token.value if token else None)

    def refresh_token(self, stale: str | None) -> str:
        self._cached = None
        with self.store.locked(self.access_token_key):
            current = self.store.get(self.access_token_key)
            # Another process may have fetched while we waited for the lock.
            if current and current.value != stale and current.expires_at - time.time() > REFRESH_MARGIN:
                self._cached = current
                return current.value
            result = self._fetch()
            expires_in = int(result.get("expires_in", 7200))
            fresh = StoredToken(str(result["access_token"]), time.time() + expires_in)
            self.store.set(self.access_token_key, fresh)
            self._cached = fresh
            return fresh.value


class MiniProgramClient(SharedTokenMixin, WeChatClient):  # type: ignore[misc]
    def __init__(self, appid: str, secret: str, api_base: str, store: TokenStore, timeout: float):
        super().__init__(appid, secret, session=WechatpySession(store), timeout=timeout, auto_retry=False)
        self.store = store
        self.api_base = api_base
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base
        read_environment_once(self._http, api_base)

    def _fetch(self) -> dict[str, Any]:
        return self._raw_get(
            self.api_base + "cgi-bin/token",
            {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def fetch_access_token(self) -> dict[str, Any]:
        token = self.refresh_token(stale=None)
        return {"access_token": token}

    def _raw_get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        res = self._http.get(url, params=params, timeout=self.timeout)
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        return result


class EnterpriseClient(SharedTokenMixin, WeComClient):  # type: ignore[misc]
    def __init__(self, corp_id: str, secret: str, api_base: str, store: TokenStore, timeout: float):
        super().__init__(corp_id, secret, session=WechatpySession(store), timeout=timeout, auto_retry=False)
        self.store = store
        self.api_base = api_base
        self.API_BASE_URL = api_base + "cgi-bin/"
        read_environment_once(self._http, api_base)

    def _fetch(self) -> dict[str, Any]:
        res = self._http.get(
            self.api_base + "cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        return result

    def fetch_access_token(self) -> dict[str, Any]:
        return {"access_token": self.refresh_token(stale=None)}


def call_once_more_on_token_error(client: SharedTokenMixin, call: Callable[[], Any]) -> Any:
    """At most one refetch-and-retry per call; a second token error is an outage."""
    try:
        return call()
    except WeChatClientException as exc:
        if exc.errcode not in TOKEN_ERRORS:
            raise
        log.info("WeChat token error %s; fetching a new token once", exc.errcode)
        used = client._cached or client.store.get(client.access_token_key)
        client.refresh_token(stale=used.value if used else None)
    try:
        return call()
    except WeChatClientException as exc:
        if exc.errcode in TOKEN_ERRORS:
            raise WeChatUnavailable(f"token rejected twice ({exc.errcode})") from exc
        raise
