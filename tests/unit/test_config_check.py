"""``routing check`` names each problem in a broken file, in Chinese (a county's
administrator reads the same words when a published version is refused)."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing import check_document, check_file, parse_config, read_yaml

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
    assert any("garbage_unsorted" in p and "没有指定责任清单条目" in p for p in _problems(tmp_path, raw))


def test_a_bad_duration_is_named(tmp_path: Path, raw: Any) -> None:
    raw["categories"][1]["accept_within"] = "3 weeks"
    assert any("garbage_truck_open" in p and "accept_within" in p for p in _problems(tmp_path, raw))


def test_a_duplicate_code_is_named(tmp_path: Path, raw: Any) -> None:
    raw["categories"].append(dict(raw["categories"][0], name="另一个"))
    assert "类别代码“garbage_unsorted”重复" in _problems(tmp_path, raw)


def test_a_missing_township_is_named(tmp_path: Path, raw: Any) -> None:
    raw["demo_communities"][0]["township"] = "不存在镇"
    assert any("不存在镇" in p for p in _problems(tmp_path, raw))
    del raw["demo_communities"][0]["township"]
    assert any("缺少乡镇(街道)" in p for p in _problems(tmp_path, raw))


def test_several_problems_are_all_reported(tmp_path: Path, raw: Any) -> None:
    raw["routes"][0]["leads"] = []
    raw["categories"][2]["route"] = "dirt-99"
    problems = _problems(tmp_path, raw)
    assert "条目 dirt-1：没有牵头部门" in problems
    assert any("dirt-99" in p for p in problems)


def test_a_year_listed_in_the_file_is_known(tmp_path: Path, raw: Any) -> None:
    raw["calendar"] = {"holidays": {2027: ["2027-01-01"]}, "workdays": {}}
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    problems, warnings = check_file(path, date(2026, 6, 1))
    assert problems == [] and warnings == []


def test_every_problem_is_said_in_chinese(tmp_path: Path, raw: Any) -> None:
    raw["routes"][0]["leads"] = ["城管局"]
    raw["categories"][1]["accept_within"] = "3 weeks"
    raw["escalation"][0]["notify"] = ["mayor"]
    raw["violation_ladder"]["count_by"] = "month"
    problems = _problems(tmp_path, raw)
    assert len(problems) >= 4
    assert all(re.search(r"[\u4e00-\u9fff]", p) for p in problems), problems


def test_a_version_name_fits_a_case_and_a_url(tmp_path: Path, raw: Any) -> None:
    raw["version"] = "2026 第二版/修订"
    assert any(p.startswith("version：") for p in _problems(tmp_path, raw))
    raw["version"] = "2026.2-rev_1"
    assert _problems(tmp_path, raw) == []


def test_broken_yaml_names_its_line() -> None:
    problems, _ = check_document("county: 永宁县\nroutes: [a, b\ncategories: []\n", date(2026, 6, 1))
    assert len(problems) == 1 and problems[0].startswith("YAML 格式错误（第 ")


def test_the_ladder_counts_clauses_cumulatively_unless_told_otherwise(tmp_path: Path, raw: Any) -> None:
    shipped = parse_config(raw).violation_ladder
    assert (shipped.count_by, shipped.window_days) == ("clause", None)
    raw["violation_ladder"].update(count_by="case", window_days=365)
    configured = parse_config(raw).violation_ladder
    assert (configured.count_by, configured.window_days) == ("case", 365)
    raw["violation_ladder"]["window_days"] = 0
    assert any("window_days" in p for p in _problems(tmp_path, raw))


def test_item_4_of_the_nine_prohibitions_has_a_category() -> None:
    config = parse_config(read_yaml(CONFIG))
    clauses = {c.clause for c in config.categories.values() if c.clause is not None}
    assert clauses == set(range(1, 10))
    item4 = next(c for c in config.categories.values() if c.clause == 4)
    assert config.routes[item4.route].leads[0] == "住建局" and item4.group == "治乱"
