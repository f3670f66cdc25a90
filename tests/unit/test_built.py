"""app/db.py's ``built``: a mapped object filled as the ORM fills a loaded
one, reading back what it was given, and transient (in no session)."""

from __future__ import annotations

from sqlalchemy import inspect

from app.db import built
from app.models import Assignment, Department


def test_a_built_object_reads_back_its_values_and_is_in_no_session() -> None:
    office = built(Department, {"id": 7, "name": "县城管局"})
    assignment = built(Assignment, {"case_id": 1, "department_id": 7, "role": "主办", "department": office})
    assert (office.id, office.name) == (7, "县城管局")
    assert assignment.department is office and assignment.role == "主办"
    assert assignment.position is None  # not given: empty, as a constructed one
    state = inspect(assignment)
    assert state.transient and not state.modified  # no attribute event was recorded
    assignment.position = 2  # the attributes still work as usual
    assert assignment.position == 2 and state.modified
