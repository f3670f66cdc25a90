"""handlers/commands.py: request shapes declared once; a broken rule becomes
an ``Invalid`` naming the field as a person calls it, in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from handlers.cases.handling import ExtensionRequest, Resolve
from handlers.cases.submit import NewCase
from handlers.commands import Id, ParamId, ParamInt, Query, Shape, build
from handlers.errors import Invalid
from handlers.supervision.actions import Merge

CASE = {"category": "dog_unleashed", "community_id": 1, "description": "小区里有人遛狗不拴绳"}


class UnitTestCaseQuery(Query):
    """A query as the edges declare them (ids and counts from the URL)."""

    case: ParamId = Field(title="工单")
    page: ParamInt = Field(default=1, title="页码")


class UnitTestTargetQuery(Query):
    target: Id = Field(title="目标")


def test_a_valid_body_becomes_its_command_with_text_trimmed() -> None:
    cmd = build(NewCase, CASE | {"description": "  遛狗不拴绳很危险  ", "lat": 38.5, "lng": 106.2})
    assert isinstance(cmd, NewCase)
    assert (cmd.description, cmd.location_text, cmd.photo_ids, cmd.anonymous) == (
        "遛狗不拴绳很危险",
        "",
        [],
        False,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"community_id": 1, "description": "遛狗不拴绳"}, "请填写问题类别"),
        (CASE | {"description": "太吵"}, "问题描述至少需要 5 个字"),
        (CASE | {"description": "吵" * 1001}, "问题描述最多 1000 个字"),
        (CASE | {"location_text": "楼" * 201}, "位置描述最多 200 个字"),
        (CASE | {"photo_ids": [str(i) for i in range(10)]}, "照片最多 9 项"),
        (CASE | {"lat": 91, "lng": 100}, "纬度超出允许范围"),
        (CASE | {"lat": 38.5}, "经纬度需要同时提供"),
        (CASE | {"community_id": "1"}, "小区格式不正确"),
        (CASE | {"community_id": 0}, "小区超出允许范围"),
        (CASE | {"community_id": 2**31}, "小区超出允许范围"),
        (CASE | {"anonymous": "yes"}, "匿名格式不正确"),
        (CASE | {"priority": "high"}, "不认识的字段：priority"),
    ],
)
def test_a_broken_rule_is_named_in_chinese(body: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid) as refused:
        build(NewCase, body)
    assert (refused.value.code, refused.value.message) == ("invalid_field", message)


def test_a_choice_outside_its_values_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        build(Resolve, {"note": "已处理", "photo_ids": ["p"], "violation": "maybe"})
    assert refused.value.message == "违规认定的取值不在允许范围内"


def test_the_first_broken_rule_is_the_one_reported() -> None:
    with pytest.raises(Invalid) as refused:
        build(ExtensionRequest, {"reason": "", "until": "x"})
    assert refused.value.message == "原因至少需要 2 个字"


def test_a_body_that_is_not_an_object_is_refused_as_the_request() -> None:
    with pytest.raises(Invalid) as refused:
        build(Merge, ["into", 3])
    assert refused.value.message == "请求格式不正确"


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("007", 7), (5, 5)])
def test_ids_from_a_url_are_plain_ascii_digits(text: object, value: int) -> None:
    assert build(UnitTestCaseQuery, {"case": text}).case == value


@pytest.mark.parametrize("text", ["²", "1e3", "-1", "0", "12a", "", " 7 ", "१२", "99999999999"])
def test_anything_else_in_a_url_is_refused(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        build(UnitTestCaseQuery, {"case": text})
    assert refused.value.message in {"工单应为正整数", "工单超出允许范围"}


def test_unknown_query_parameters_are_ignored_but_body_fields_are_not() -> None:
    assert build(UnitTestCaseQuery, {"case": "3", "utm_source": "wechat"}).page == 1
    with pytest.raises(Invalid):
        build(Merge, {"into": 3, "force": True})


def test_an_id_in_a_body_must_be_a_number_not_text() -> None:
    assert build(UnitTestTargetQuery, {"target": 4}).target == 4
    assert build(UnitTestTargetQuery, {"target": "4"}).target == 4  # a query reads leniently
    with pytest.raises(Invalid) as refused:
        build(Merge, {"into": "4"})
    assert refused.value.message == "合并到的工单格式不正确"


def test_every_shape_has_a_name_of_its_own() -> None:
    """Field titles are looked up by the shape's class name: two shapes of one
    name would give one of them the other's words."""
    import importlib
    import pkgutil

    import app.api
    import handlers

    for package in (app.api, handlers):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)

    def shapes(cls: type[Shape]) -> list[type[Shape]]:
        return [s for sub in cls.__subclasses__() for s in (sub, *shapes(sub))]

    found = shapes(Shape)
    assert len(found) > 20
    assert all(Shape.registry[s.__name__] is s for s in found)
