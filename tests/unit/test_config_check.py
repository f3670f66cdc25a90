"""``routing check`` names each problem in a broken file."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing import check_file, read_yaml

CONFIG = Path(__file__).resolve().parents[2] / "config" / "county.yaml"


@pytest.fixture
def raw() -> Any:
    return copy.deepcopy(read_yaml(CONFIG))


def _problems(tmp_path: Path, raw: Any) -> list[str]:
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    problems, _ = check_file(path, date(2026, 6, 1))
    return problems


def test_the_shipped_file_has_no_problem() -> None:
    problems, warnings = check_file(CONFIG, date(2026, 6, 1))
    assert problems == []
    assert warnings and "2027" in warnings[0]


def test_an_unknown_department_is_named(tmp_path: Path, raw: Any) -> None:
    raw["routes"][0]["responsible"].append("城管局")
    assert any("dirt-1" in p and "城管局" in p for p in _problems(tmp_path, raw))


def test_a_category_without_a_route_is_named(tmp_path: Path, raw: Any) -> None:
    del raw["categories"][0]["route"]
    assert any("garbage_unsorted" in p and "no route" in p for p in _problems(tmp_path, raw))


def test_a_bad_duration_is_named(tmp_path: Path, raw: Any) -> None:
    raw["categories"][1]["accept_within"] = "3 weeks"
    assert any("garbage_truck_open" in p and "accept_within" in p for p in _problems(tmp_path, raw))


def test_a_duplicate_code_is_named(tmp_path: Path, raw: Any) -> None:
    raw["categories"].append(dict(raw["categories"][0], name="另一个"))
    assert any("duplicate category code 'garbage_unsorted'" in p for p in _problems(tmp_path, raw))


def test_a_missing_township_is_named(tmp_path: Path, raw: Any) -> None:
    raw["demo_communities"][0]["township"] = "不存在镇"
    assert any("不存在镇" in p for p in _problems(tmp_path, raw))
    del raw["demo_communities"][0]["township"]
    assert any("township missing" in p for p in _problems(tmp_path, raw))


def test_several_problems_are_all_reported(tmp_path: Path, raw: Any) -> None:
    raw["routes"][0]["leads"] = []
    raw["categories"][2]["route"] = "dirt-99"
    problems = _problems(tmp_path, raw)
    assert any("no lead" in p for p in problems)
    assert any("dirt-99" in p for p in problems)


def test_a_year_listed_in_the_file_is_known(tmp_path: Path, raw: Any) -> None:
    raw["calendar"] = {"holidays": {2027: ["2027-01-01"]}, "workdays": {}}
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    problems, warnings = check_file(path, date(2026, 6, 1))
    assert problems == [] and warnings == []
