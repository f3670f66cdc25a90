"""Content security for text other people will read: WeChat's msgSecCheck.
Every text shown to someone else goes through here: a case's description and
location, a rating comment, a reopen reason, staff's notes and reasons.

Risky text is refused before anything is written; when WeChat is away or
unsure, the text is kept and a person reviews it (``needs_review``). A
report is never lost because WeChat is away."""

from __future__ import annotations

from app.models import User
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


def screen_as(ctx: Context, user_id: int, *texts: str) -> bool:
    """``screen`` for what a known user wrote (a rating comment, a reason, a
    note), checked before anything is written; True: mark the case for review."""
    text = "\n".join(t for t in texts if t and t.strip())
    if not text:
        return False
    with ctx.uow() as uow:
        user = uow.session.get(User, user_id)
        openid = user.openid if user is not None else ""
    return screen(ctx, text, openid)
