"""Content security for text other people will read: WeChat's msgSecCheck.

Risky text is refused before anything is written; when WeChat is away or
unsure, the text is kept and a person reviews it (``needs_review``). A
report is never lost because WeChat is away."""

from __future__ import annotations

from handlers.context import Context
from handlers.errors import Invalid
from handlers.ports import WeChatUnavailable


def screen(ctx: Context, text: str, openid: str) -> bool:
    """True when a person must read the text (WeChat was away or unsure);
    ``Invalid`` (content_risky) when WeChat says it is risky."""
    if not text.strip():
        return False
    try:
        verdict = ctx.wechat.check_text(text, openid)
    except WeChatUnavailable:
        return True
    if verdict == "risky":
        raise Invalid("内容含有不当信息，请修改后再提交", "content_risky")
    return verdict != "pass"
