"""The mini-program's server API through wechatpy: login, content security,
subscribe messages. Implements ``handlers.ports.MiniProgramAPI``.

Content security (msgSecCheck) is asked while a resident waits, on every
filing: it goes through kept-alive ``http.client`` connections, one a thread
(app/wechat/kept.py), instead of wechatpy's requests session (a seventh of
its CPU per call), with the same token, the same errors and the
environment's proxy and CA bundle."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from wechatpy.exceptions import WeChatClientException

from app.wechat.clients import NETWORK_ERRORS, MiniProgramClient, call_once_more_on_token_error
from app.wechat.kept import KeptConnections
from app.wechat.tokens import TokenStore
from handlers.ports import JSONDict, SendFailed, WeChatRejected, WeChatSession, WeChatUnavailable

JSON_HEADERS = {"Content-Type": "application/json"}
# Content security is asked while a resident waits for the answer, and a
# filing goes on without it (a person reviews the text): a WeChat that has not
# connected in 1 s or answered in 2 s is taken as away, rather than holding a
# web worker for the client's general 5 s.
TEXT_CHECK_CONNECT_SECONDS, TEXT_CHECK_READ_SECONDS = 1.0, 2.0


class MiniProgram:
    def __init__(self, appid: str, secret: str, api_base: str, storage: TokenStore, timeout: float = 5.0):
        self.client = MiniProgramClient(appid, secret, api_base, storage, timeout)
        self._kept = KeptConnections(api_base, TEXT_CHECK_CONNECT_SECONDS, TEXT_CHECK_READ_SECONDS)

    def _post_lean(self, path: str, data: JSONDict) -> JSONDict:
        """POST ``data`` to ``path`` with the access token, answering as
        wechatpy's client does: WeChatClientException for an HTTP error or an
        errcode (so a token error is retried once), WeChatUnavailable when
        nothing or no JSON came back."""
        target = f"{path}?access_token={quote(self.client.access_token, safe='')}"
        body = json.dumps(data, ensure_ascii=False).encode()
        try:
            status, answered = self._kept.post(target, body, JSON_HEADERS)
        except (OSError, http.client.HTTPException) as exc:
            raise WeChatUnavailable(f"network: {exc!r}") from exc
        if status >= 400:
            raise WeChatClientException(None, None, client=self.client)
        try:
            result = json.loads(answered.decode("utf-8", "ignore"), strict=False)
        except ValueError as exc:
            raise WeChatUnavailable("WeChat answered something that is not JSON") from exc
        if not isinstance(result, dict):
            raise WeChatUnavailable("WeChat answered something that is not JSON")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise WeChatClientException(errcode, result.get("errmsg", ""), client=self.client)
        return result

    def close(self) -> None:
        """Close the connections kept for content security."""
        self._kept.close()

    def _call(self, call: Callable[[], Any]) -> JSONDict:
        try:
            result = call_once_more_on_token_error(self.client, call)
        except NETWORK_ERRORS as exc:
            raise WeChatUnavailable(f"network: {exc}") from exc
        if not isinstance(result, dict):
            # wechatpy hands back the raw response when it is not JSON.
            raise WeChatUnavailable("WeChat answered something that is not JSON")
        return result

    def code_to_session(self, code: str) -> WeChatSession:
        """The user a ``wx.login`` code names; the session key is dropped here."""
        try:
            result = self._call(lambda: self.client.wxa.code_to_session(code))
        except WeChatClientException as exc:
            if exc.errcode is None or exc.errcode in (-1, 45009):
                raise WeChatUnavailable(f"jscode2session: {exc.errcode} {exc.errmsg}") from exc
            raise WeChatRejected(exc.errcode, str(exc.errmsg)) from exc
        if not result.get("openid"):
            raise WeChatUnavailable("jscode2session answered no openid")
        return WeChatSession(str(result["openid"]), result.get("unionid"))

    def check_text(self, content: str, openid: str, scene: int = 2) -> str:
        """msgSecCheck v2: ``pass``, ``review`` or ``risky``."""
        data = {"content": content, "version": 2, "scene": scene, "openid": openid}
        try:
            result = self._call(lambda: self._post_lean("wxa/msg_sec_check", data))
        except WeChatClientException as exc:
            if exc.errcode == 87014:
                return "risky"
            raise WeChatUnavailable(f"msg_sec_check: {exc.errcode} {exc.errmsg}") from exc
        suggest = (result.get("result") or {}).get("suggest")
        return str(suggest) if suggest in ("pass", "review", "risky") else "review"

    def check_media(self, media_url: str, openid: str, scene: int = 2) -> str:
        """media_check_async v2: the trace id the verdict will be pushed with."""
        data = {"media_url": media_url, "media_type": 2, "version": 2, "scene": scene, "openid": openid}
        try:
            result = self._call(
                lambda: self.client.post(
                    "wxa/media_check_async", api_base_url=self.client.api_base, data=data
                )
            )
        except WeChatClientException as exc:
            raise WeChatUnavailable(f"media_check_async: {exc.errcode} {exc.errmsg}") from exc
        trace_id = result.get("trace_id") or result.get("traceId")
        if not trace_id:
            raise WeChatUnavailable("media_check_async answered no trace_id")
        return str(trace_id)

    def send_subscribe(
        self, openid: str, template_id: str, data: JSONDict, page: str | None = None, state: str = "formal"
    ) -> str:
        body: JSONDict = {
            "touser": openid,
            "template_id": template_id,
            "data": data,
            "miniprogram_state": state,
            "lang": "zh_CN",
        }
        if page:
            body["page"] = page
        try:
            result = self._call(lambda: self.client.post("message/subscribe/send", data=body))
        except WeChatUnavailable as exc:
            raise SendFailed("retry", None, str(exc)) from exc
        except WeChatClientException as exc:
            raise SendFailed.of(exc.errcode, str(exc.errmsg)) from exc
        return str(result.get("msgid", ""))
