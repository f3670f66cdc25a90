"""A fake WeChat (mini-program API and WeCom) on loopback, for the tests and
as the developer sandbox that ``make run`` starts."""

from tests.fakewechat.server import FakeWeChat

__all__ = ["FakeWeChat"]
