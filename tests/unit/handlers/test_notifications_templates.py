"""handlers/notifications/templates.py: a notification's payload fitted to
its subscribe-message template, each value within WeChat's limit for its
keyword type (else WeChat answers 47003)."""

from __future__ import annotations

import pytest

from handlers.notifications.templates import fit_template_value, template_data
from tests.unit.handlers.conftest import county, county_with


@pytest.mark.parametrize(
    ("kind", "value", "fitted"),
    [
        ("phrase", "已签收，正在处理", "已签收"),
        ("phrase", "已办结,请评价", "已办结"),
        ("phrase", "挂牌督办", "挂牌督办"),
        ("phrase", "星级化评定不达标", "星级化评定"),
        ("phrase", "，", "-"),
        ("character_string", "编号：YN20260603-0042", "YN20260603-0042"),
        ("character_string", "工单", "-"),
        ("character_string", "A" * 40, "A" * 32),
        ("number", "第 12 件", "12"),
        ("number", "无", "0"),
        ("name", "城乡公共事业服务中心综合科", "城乡公共事业服务中…"),
        ("letter", "x" * 40, "x" * 32),
        ("symbol", "!!!!!!!", "!!!!!"),
        ("thing", "a\n b\t c", "a b c"),
        ("thing", "   ", "-"),
        ("time", "2026年6月3日 10:00", "2026年6月3日 10:00"),
        ("amount", "12.50元", "12.50元"),
    ],
)
def test_each_value_is_fitted_to_its_keyword_type(kind: str, value: str, fitted: str) -> None:
    assert fit_template_value(kind, value) == fitted


def test_a_long_thing_keeps_nineteen_characters_and_an_ellipsis() -> None:
    fitted = fit_template_value("thing", "地下车库违规存放易燃易爆物品且长期无人清理整改")
    assert fitted == "地下车库违规存放易燃易爆物品且长期无人…" and len(fitted) == 20
    assert fit_template_value("thing", "二十个字以内的事项不截断") == "二十个字以内的事项不截断"


def test_a_new_case_message_fills_the_countys_keywords_in_county_time() -> None:
    payload = {
        "number": "YN20260603-0042",
        "category": "遛狗不拴绳",
        "community": "幸福里小区",
        "deadline": "2026-06-03T16:30:00+00:00",
    }
    template_id, data = template_data("new_case", payload, county())
    assert template_id == "TPL_NEW_CASE_PLACEHOLDER"
    assert data == {
        "character_string1": {"value": "YN20260603-0042"},
        "thing2": {"value": "遛狗不拴绳"},
        "thing3": {"value": "幸福里小区"},
        # 16:30 UTC is half past midnight the next day in the county.
        "time4": {"value": "2026年6月4日 00:30"},
    }


def test_an_update_shows_the_first_words_of_the_notice_and_the_note() -> None:
    payload = {
        "number": "YN1",
        "category": "飞线充电",
        "status": "已办结，请评价",
        "note": "已拆除私拉电线并现场宣传安全用电知识",
    }
    _, data = template_data("case_update", payload, county())
    assert data["phrase3"] == {"value": "已办结"}
    assert data["thing4"] == {"value": "已拆除私拉电线并现场宣传安全用电知识"}


def test_a_missing_or_unreadable_value_becomes_a_dash_or_stays_as_written() -> None:
    _, data = template_data("new_case", {"number": "YN1", "deadline": "明天"}, county())
    assert data["thing2"] == {"value": "-"} and data["thing3"] == {"value": "-"}
    assert data["time4"] == {"value": "明天"}
    _, empty = template_data("escalation", {}, county())
    assert {v["value"] for v in empty.values()} == {"-"}


def test_the_keywords_are_the_countys_configuration() -> None:
    templates = county().subscribe_templates
    raw = {p: {"id": t.id, "long_term": t.long_term, "fields": dict(t.fields)} for p, t in templates.items()}
    raw["escalation"] = {
        "id": "TPL_OTHER",
        "long_term": False,
        "fields": {"thing7": "community", "date2": "deadline"},
    }
    other = county_with(subscribe_templates=raw)
    template_id, data = template_data(
        "escalation", {"community": "望湖雅居", "deadline": "2026-06-30T20:00:00+00:00"}, other
    )
    assert template_id == "TPL_OTHER"
    assert data == {"thing7": {"value": "望湖雅居"}, "date2": {"value": "2026-07-01"}}
