"""The shipped routing table matches the seed document item by item.

The table below is transcribed by hand from seed 000, section 二(二), not read
from the configuration: if the file drifts from the published list, this fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import load_config, route

CONFIG = Path(__file__).resolve().parents[2] / "config" / "county.yaml"

# id: (leads in order, responsible, township included)
SEED_000 = {
    # (1) 未开展垃圾分类、垃圾转运车辆不密闭 — 牵头: 县城乡公共事业服务中心; 责任: 县住建局、综合执法局, 各乡镇(街道)
    "dirt-1": (["城乡公共事业服务中心"], ["住建局", "综合执法局"], True),
    # (2) 车辆乱停乱放、占用消防车道、堵塞消防通道 — 牵头: 县消防救援大队、公安局、综合执法局; 责任: 县住建局, 各乡镇(街道)
    "dirt-2": (["消防救援大队", "公安局", "综合执法局"], ["住建局"], True),
    # (3) 毁绿占绿、擅自移植砍伐树木 — 牵头: 县住建局、自然资源局、综合执法局; 责任: 各乡镇(街道)
    "dirt-3": (["住建局", "自然资源局", "综合执法局"], [], True),
    # (4) 私搭乱建 — 牵头: 县综合执法局、自然资源局; 责任: 县住建局, 各乡镇(街道)
    "dirt-4": (["综合执法局", "自然资源局"], ["住建局"], True),
    # (5) 遛狗不拴绳、违规饲养烈性犬或禁养犬 — 牵头: 县综合执法局; 责任: 县住建局, 各乡镇(街道)
    "dirt-5": (["综合执法局"], ["住建局"], True),
    # (6) 地下车库易燃易爆、防汛、消防设施、飞线充电 — 牵头: 县住建局、应急管理局; 责任: 县公安局、综合执法局、消防大队, 各乡镇(街道)
    "dirt-6": (["住建局", "应急管理局"], ["公安局", "综合执法局", "消防救援大队"], True),
    # 治乱 (1) 停水停电催缴物业费、擅自涨价 — 牵头: 县住建局; 责任: 县市监局、发改局、综合执法局, 各乡镇(街道)
    "order-1": (["住建局"], ["市场监管局", "发改局", "综合执法局"], True),
    # (2) 违规签订《物业服务合同》 — 牵头: 县住建局; 责任: 县综合执法局、各乡镇(街道)
    "order-2": (["住建局"], ["综合执法局"], True),
    # (3) 擅自终止服务或拒不退出、擅自利用共有部分经营 — 牵头: 县住建局; 责任: 县综合执法局, 各乡镇(街道)
    "order-3": (["住建局"], ["综合执法局"], True),
    # (4) 擅自泄露业主信息 — 牵头: 县公安局; 责任: 县住建局, 各乡镇(街道)
    "order-4": (["公安局"], ["住建局"], True),
    # (5) 保安服务行为 — 牵头: 县公安局; 责任: 县住建局、综合执法局、市监局 (no township)
    "order-5": (["公安局"], ["住建局", "综合执法局", "市场监管局"], False),
}

REQUIRED_CATEGORIES = {
    "垃圾未分类": "dirt-1",
    "垃圾转运车辆不密闭": "dirt-1",
    "车辆乱停乱放": "dirt-2",
    "占用消防车道/堵塞消防通道": "dirt-2",
    "毁绿占绿": "dirt-3",
    "擅自移植砍伐树木": "dirt-3",
    "私搭乱建": "dirt-4",
    "遛狗不拴绳": "dirt-5",
    "违规饲养烈性犬/禁养犬": "dirt-5",
    "地下车库存放易燃易爆物品": "dirt-6",
    "防汛应急准备不足": "dirt-6",
    "消防设施损坏": "dirt-6",
    "飞线充电": "dirt-6",
    "停水停电催缴物业费": "order-1",
    "擅自涨价": "order-1",
    "违规签订物业服务合同": "order-2",
    "擅自终止服务/拒不退出": "order-3",
    "擅自利用共有部分经营": "order-3",
    "泄露业主信息": "order-4",
    "保安服务不规范": "order-5",
}


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return load_config(CONFIG)


def test_the_config_has_exactly_the_eleven_routes_of_the_seed(county) -> None:  # type: ignore[no-untyped-def]
    assert set(county.routes) == set(SEED_000)


@pytest.mark.parametrize("route_id", sorted(SEED_000))
def test_each_route_matches_the_seed(county, route_id: str) -> None:  # type: ignore[no-untyped-def]
    leads, responsible, township = SEED_000[route_id]
    item = county.routes[route_id]
    assert list(item.leads) == leads
    assert list(item.responsible) == responsible
    assert item.township is township


@pytest.mark.parametrize("route_id", sorted(SEED_000))
def test_routing_puts_the_first_lead_first_then_co_handlers_then_the_township(county, route_id: str) -> None:  # type: ignore[no-untyped-def]
    leads, responsible, township = SEED_000[route_id]
    category = next(c for c in county.categories.values() if c.route == route_id)
    routed = route(county, category.code, "望洪镇")
    expected = [(leads[0], "主办")] + [(n, "协办") for n in leads[1:] + responsible]
    if township:
        expected.append(("望洪镇", "属地"))
    assert [(r.name, r.role) for r in routed] == expected


def test_the_security_route_never_involves_the_township(county) -> None:  # type: ignore[no-untyped-def]
    assert all(r.role != "属地" for r in route(county, "security_irregular", "杨和镇"))


def test_every_required_category_points_at_its_route(county) -> None:  # type: ignore[no-untyped-def]
    by_name = {c.name: c for c in county.categories.values()}
    for name, route_id in REQUIRED_CATEGORIES.items():
        assert name in by_name, name
        assert by_name[name].route == route_id, name


def test_urgent_safety_categories_run_on_the_calendar_and_the_rest_on_working_time(county) -> None:  # type: ignore[no-untyped-def]
    for category in county.categories.values():
        if category.urgent:
            assert not category.accept_within.is_working and not category.resolve_within.is_working
        else:
            assert category.accept_within.is_working and category.resolve_within.is_working
    urgent = {c.name for c in county.categories.values() if c.urgent}
    assert {"占用消防车道/堵塞消防通道", "飞线充电", "地下车库存放易燃易爆物品"} <= urgent


def test_clauses_are_the_nine_prohibitions(county) -> None:  # type: ignore[no-untyped-def]
    assert sorted(county.clauses) == list(range(1, 10))
    assert county.categories["utilities_cut_for_fees"].clause == 9
    assert "停水" in county.clauses[9].text


def test_the_file_names_its_source_version_and_effective_date(county) -> None:  # type: ignore[no-untyped-def]
    assert "123" in county.source
    assert county.version
    assert county.effective_date.isoformat() == "2023-05-19"
    assert county.leading_group_office == "住建局"
    assert [t.name for t in county.townships] == [
        "李俊镇",
        "望洪镇",
        "杨和镇",
        "胜利乡",
        "望远镇",
        "闽宁镇",
        "团结西路街道",
    ]
