"""POST /api/v1/cases answers the new case as it was written, without reading
it back: the answer must be, byte for byte, what reading the case answers
its reporter (GET /api/v1/cases/<id>, ``case_for``) right after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from app.clock import FixedClock
from app.models import Photo
from tests.helpers import community_id, login, make_staff, upload_photo


def _file_and_read(client: Any, headers: dict[str, str], **overrides: Any) -> tuple[bytes, bytes]:
    body = {
        "category": "dog_unleashed",
        "community_id": community_id(client),
        "description": "小区里每天早上有人遛狗不拴绳，孩子很害怕",
        "location_text": "3号楼东侧",
    } | overrides
    filed = client.post("/api/v1/cases", json=body, headers=headers | {"Idempotency-Key": "k-1"})
    assert filed.status_code == 201, filed.get_json()
    read = client.get(f"/api/v1/cases/{filed.get_json()['id']}", headers=headers)
    assert read.status_code == 200
    return filed.get_data(), read.get_data()


@pytest.fixture
def still(services: Any) -> Any:
    """The clock stands still: the photo links' expiry is the same for both answers."""
    services.clock = FixedClock(datetime.now(UTC))
    return services


def test_a_residents_filing_answers_what_reading_it_answers(client: Any, still: Any) -> None:
    filed, read = _file_and_read(client, login(client, "answer-plain"))
    assert filed == read


@pytest.mark.parametrize("category", ["security_irregular", "flying_wire_charging"])
def test_other_routes_and_urgent_clocks_answer_the_same(client: Any, still: Any, category: str) -> None:
    filed, read = _file_and_read(client, login(client, f"answer-{category}"), category=category)
    assert filed == read


def test_anonymous_with_coordinates_answers_the_same(client: Any, still: Any) -> None:
    headers = login(client, "answer-anon")
    filed, read = _file_and_read(client, headers, anonymous=True, lat=38.281234567, lng=106.2412345678)
    assert filed == read


def test_photos_flagged_and_risky_answer_the_same(client: Any, still: Any) -> None:
    headers = login(client, "answer-photos")
    photos = [upload_photo(client, headers)["id"] for _ in range(3)]
    with still.db.uow() as uow:
        uow.session.execute(update(Photo).where(Photo.id == photos[1]).values(media_check="review"))
        uow.session.execute(update(Photo).where(Photo.id == photos[2]).values(media_check="risky"))
        uow.commit()
    filed, read = _file_and_read(client, headers, photo_ids=list(reversed(photos)))
    assert filed == read
    assert b'"needs_review":true' in filed


@pytest.mark.parametrize(
    ("department", "role"), [("综合执法局", "handler"), ("住建局", "head"), ("公安局", "handler")]
)
def test_staff_filing_answers_the_same_role_and_actions(
    client: Any, still: Any, department: str, role: str
) -> None:
    headers = make_staff(client, still, department, role, f"answer-staff-{department}-{role}")
    filed, read = _file_and_read(client, headers)
    assert filed == read


def test_a_supervisor_filing_answers_the_same(client: Any, still: Any) -> None:
    headers = make_staff(client, still, "住建局", "supervisor", "answer-supervisor")
    filed, read = _file_and_read(client, headers)
    assert filed == read


def test_a_repeated_key_answers_the_case_as_it_is_now(client: Any, still: Any) -> None:
    headers = login(client, "answer-again")
    filed, _read = _file_and_read(client, headers)
    body = {
        "category": "dog_unleashed",
        "community_id": community_id(client),
        "description": "小区里每天早上有人遛狗不拴绳，孩子很害怕",
        "location_text": "3号楼东侧",
    }
    again = client.post("/api/v1/cases", json=body, headers=headers | {"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.get_data() == filed
