"""handlers/cases/dispatching.py: the responsibility list puts a case in the
hands of its departments — assignments in the list's order, the
``dispatched`` event, a ``new_case`` message to each department's staff."""

from __future__ import annotations

import pytest

from app.models import Assignment, Case, Department, Notification
from handlers.cases.dispatching import routed_departments
from handlers.errors import Unavailable
from tests.unit.handlers.conftest import World

# Category, community -> (department, role) in order, from seed 000's list.
ROUTED = [
    (
        "fire_lane_blocked",
        "幸福里小区",
        [
            ("消防救援大队", "主办"),
            ("公安局", "协办"),
            ("综合执法局", "协办"),
            ("住建局", "协办"),
            ("杨和镇", "属地"),
        ],
    ),
    (
        "flying_wire_charging",
        "望湖雅居",
        [
            ("住建局", "主办"),
            ("应急管理局", "协办"),
            ("公安局", "协办"),
            ("综合执法局", "协办"),
            ("消防救援大队", "协办"),
            ("望洪镇", "属地"),
        ],
    ),
    (
        "trees_felled",
        "康宁苑",
        [("住建局", "主办"), ("自然资源局", "协办"), ("综合执法局", "协办"), ("团结西路街道", "属地")],
    ),
    (
        "garbage_unsorted",
        "俊园小区",
        [("城乡公共事业服务中心", "主办"), ("住建局", "协办"), ("综合执法局", "协办"), ("李俊镇", "属地")],
    ),
    ("owner_data_leaked", "胜景家园", [("公安局", "主办"), ("住建局", "协办"), ("胜利乡", "属地")]),
    (
        "security_irregular",
        "远航小区",
        [("公安局", "主办"), ("住建局", "协办"), ("综合执法局", "协办"), ("市场监管局", "协办")],
    ),
]


@pytest.mark.parametrize(("category", "community", "expected"), ROUTED)
def test_a_case_goes_to_the_lists_leads_then_responsible_then_township(
    world: World, category: str, community: str, expected: list[tuple[str, str]]
) -> None:
    case = world.file(world.user("reporter").id, category, community)
    assignments = world.rows(Assignment, Assignment.case_id == case.id)
    assert [(a.department.name, a.role) for a in sorted(assignments, key=lambda a: a.position)] == expected
    assert [a.position for a in sorted(assignments, key=lambda a: a.position)] == list(range(len(expected)))
    primary = world.one(Department, Department.name == expected[0][0])
    assert primary is not None and world.case(case.id).primary_department_id == primary.id


def test_every_assignment_carries_the_accept_deadline_and_is_open(world: World) -> None:
    case = world.file(world.user("reporter").id)
    assignments = world.rows(Assignment, Assignment.case_id == case.id)
    assert {a.due_at for a in assignments} == {case.accept_due_at}
    assert all(a.open for a in assignments)


def test_the_dispatched_event_names_the_departments_and_the_lists_version(world: World) -> None:
    case = world.file(world.user("reporter").id, "owner_data_leaked")
    event = world.events(case.id, "dispatched")[0]
    assert event.data["departments"] == [
        {"name": "公安局", "role": "主办"},
        {"name": "住建局", "role": "协办"},
        {"name": "杨和镇", "role": "属地"},
    ]
    assert event.note == "按责任清单（2023.1）派发：公安局(主办)、住建局(协办)、杨和镇(属地)"
    assert event.actor_id is None


def test_handlers_and_heads_of_every_department_are_told_not_the_office_or_admins(world: World) -> None:
    police = world.user("police", "公安局")
    police_head = world.user("police-head", "公安局", "head")
    housing = world.user("housing", "住建局")
    town = world.user("town", "胜利乡")
    world.user("office", "住建局", "supervisor")
    world.user("admin", "住建局", "admin")
    world.user("other-town", "杨和镇")
    case = world.file(world.user("reporter").id, "owner_data_leaked", "胜景家园")
    assert world.told("new_case", case.id) == {police.id, police_head.id, housing.id, town.id}
    assert world.count(Notification) == 4


def test_a_staff_member_of_two_roles_on_the_case_is_told_once(world: World) -> None:
    housing = world.user("housing", "住建局")
    case = world.file(world.user("reporter").id, "trees_felled")
    assert [n.user_id for n in world.outbox("new_case", case.id)] == [housing.id]


def test_a_department_the_database_lacks_makes_routing_unavailable(world: World) -> None:
    with world.db.uow() as uow:
        uow.session.query(Department).filter(Department.name == "发改局").delete()
        uow.commit()
        with pytest.raises(Unavailable) as refused:
            routed_departments(uow.session, world.ctx.county, "utilities_cut_for_fees", "杨和镇")
    assert refused.value.code == "routing_unavailable" and "发改局" in refused.value.message
    reporter = world.user("reporter")
    with pytest.raises(Unavailable):
        world.file(reporter.id, "utilities_cut_for_fees")
    assert world.count(Case) == 0 and world.count(Notification) == 0
