"""Adapters to WeChat (the mini-program's server API) and WeCom, through
wechatpy, implementing the ports in ``handlers/ports.py``:

- ``tokens``: one access token for every process (Redis, database, memory);
- ``clients``: wechatpy clients on the configured base URLs, bounded retries;
- ``miniprogram``: login, content security, subscribe messages;
- ``wecom``: WeCom app messages.

Nothing connects at import time.
"""

from app.wechat.miniprogram import MiniProgram
from app.wechat.tokens import make_token_storage
from app.wechat.wecom import WeCom

__all__ = ["MiniProgram", "WeCom", "make_token_storage"]
