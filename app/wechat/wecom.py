"""WeCom (企业微信) app messages through wechatpy. Implements
``handlers.ports.WeComAPI``."""

from __future__ import annotations

from wechatpy.exceptions import WeChatClientException

from app.wechat.clients import NETWORK_ERRORS, EnterpriseClient, call_once_more_on_token_error
from app.wechat.tokens import TokenStore
from handlers.ports import SendFailed, WeChatUnavailable


class WeCom:
    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int | str,
        api_base: str,
        storage: TokenStore,
        timeout: float = 5.0,
    ):
        self.client = EnterpriseClient(corp_id, secret, api_base, storage, timeout)
        self.agent_id = agent_id

    def send_text_card(self, user_ids: list[str], title: str, description: str, url: str) -> list[str]:
        """Send a text card; answers the ids WeCom did not know.

        WeCom's duplicate check drops an identical message to the same user
        within four hours, so a resend after a crash between WeCom's answer and
        our commit is not delivered twice (callers make each card unique)."""
        msg = {
            "msgtype": "textcard",
            "textcard": {"title": title, "description": description, "url": url, "btntxt": "查看"},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 4 * 3600,
        }
        try:
            result = call_once_more_on_token_error(
                self.client, lambda: self.client.message.send(self.agent_id, user_ids, msg=msg)
            )
        except NETWORK_ERRORS as exc:
            raise SendFailed("retry", None, f"network: {exc}") from exc
        except WeChatUnavailable as exc:
            raise SendFailed("retry", None, str(exc)) from exc
        except WeChatClientException as exc:
            raise SendFailed.of(exc.errcode, str(exc.errmsg)) from exc
        if not isinstance(result, dict):
            raise SendFailed("retry", None, "WeCom answered something that is not JSON")
        invalid = str(result.get("invaliduser") or "")
        return [u for u in invalid.split("|") if u]
