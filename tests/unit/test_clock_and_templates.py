"""The one clock, and subscribe-message values fitted to WeChat's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from app.clock import Clock
from handlers.notifications.templates import fit_template_value


def test_the_clock_follows_real_time_shifted_by_the_offset() -> None:
    with time_machine.travel(datetime(2025, 10, 1, 0, 0, tzinfo=UTC), tick=False):
        assert Clock().now() == datetime(2025, 10, 1, 0, 0, tzinfo=UTC)
        assert Clock(offset_seconds=3600).now() == datetime(2025, 10, 1, 1, 0, tzinfo=UTC)
        assert Clock(offset_seconds=-86400).now() == datetime(2025, 9, 30, 0, 0, tzinfo=UTC)


def test_template_values_are_cut_to_each_keyword_types_limit() -> None:
    long_name = "非常非常长的小区名称用于测试二十个字符的限制是否生效"
    thing = fit_template_value("thing", long_name)
    assert len(thing) == 20 and thing.endswith("…")
    assert fit_template_value("character_string", "YN20260603-0042") == "YN20260603-0042"
    assert fit_template_value("character_string", "编号YN1") == "YN1"
    assert len(fit_template_value("phrase", "挂牌督办处理中")) == 5
    assert fit_template_value("thing", "  多余   空格  ") == "多余 空格"
    assert fit_template_value("thing", "") == "-"
