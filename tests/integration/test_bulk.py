"""app/bulk.py: rows written from plain tuples (and read back as tuples) hold
what the ORM writes and reads, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from app.bulk import Writes, select_rows
from app.db import Database
from app.models import Case, Community, Escalation, Notification, User
from handlers.notifications.notify import OUTBOX
from handlers.supervision.escalation import CLOCKS, ESCALATIONS

EAST8 = timezone(timedelta(hours=8))


@pytest.fixture
def db(services: Any) -> Database:
    """The application's database, migrated and seeded."""
    database: Database = services.db
    return database


def _a_case(db: Database) -> tuple[int, int]:
    with db.uow() as uow:
        s = uow.session
        user = User(
            openid="o-bulk",
            role="resident",
            display_name="",
            phone="",
            wecom_userid="",
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
        s.add(user)
        s.flush()
        community = s.execute(select(Community.id).limit(1)).scalar_one()
        case = Case(
            number="B-1",
            category="dog_unleashed",
            config_version="v",
            route="dirt-5",
            community_id=community,
            reporter_id=user.id,
            anonymous=False,
            description="",
            location_text="",
            status="dispatched",
            urgent=False,
            needs_review=False,
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
            updated_at=datetime(2025, 1, 1, tzinfo=UTC),
            rating_comment="",
            reject_reason="",
            next_escalation_at=None,  # its clock's row, as every case has one
        )
        s.add(case)
        s.flush()
        ids = (case.id, user.id)
        uow.commit()
    return ids


def test_tuples_written_in_bulk_read_back_as_the_orm_wrote_them(db: Database) -> None:
    case_id, user_id = _a_case(db)
    with_micro = datetime(2025, 6, 18, 1, 55, 3, 120, tzinfo=UTC)
    whole = datetime(2025, 6, 18, 9, 0, tzinfo=EAST8)  # 01:00 UTC, given in county time
    now = datetime(2025, 6, 18, 2, 0, tzinfo=UTC)
    columns = ("case_id", "deadline_kind", "deadline_at", "step", "due_at")
    key = ["case_id", "deadline_kind", "deadline_at", "step"]
    with db.uow() as uow:
        with Writes(uow.session.connection()) as writes:
            steps = writes.insert(
                ESCALATIONS,
                columns,
                [
                    (case_id, "accept", with_micro, "overdue", whole),
                    (case_id, "resolve", whole, "warning", whole),
                ],
                {"fired_at": now},
                conflict=key,
            )
            again = writes.insert(
                ESCALATIONS,
                columns,
                [(case_id, "accept", with_micro, "overdue", now)],
                {"fired_at": now},
                key,
            )
            told = writes.insert(
                OUTBOX,
                ("user_id", "case_id", "payload"),
                [(user_id, case_id, {"note": "超期：签收期限", "page": "p?id=1", "n": [1, 2]})],
                {"purpose": "escalation", "next_attempt_at": now, "created_at": now},
            )
            moved = writes.update(
                CLOCKS, ("case_id", "escalation_step", "next_escalation_at"), [(case_id, "overdue", whole)]
            )
            nothing = writes.insert(OUTBOX, ("user_id", "case_id", "payload"), [])
        uow.commit()
    assert [writes.counts[i] for i in (steps, again, told, moved, nothing)] == [2, 0, 1, 1, 0]
    with db.uow() as uow:
        rows = uow.session.scalars(select(Escalation).order_by(Escalation.id)).all()
        assert [(r.deadline_kind, r.deadline_at, r.due_at, r.fired_at) for r in rows] == [
            ("accept", with_micro, whole, now),
            ("resolve", whole, whole, now),
        ]
        note = uow.session.scalars(select(Notification)).one()
        assert note.payload == {"note": "超期：签收期限", "page": "p?id=1", "n": [1, 2]}
        assert (note.status, note.attempts, note.claimed_by, note.next_attempt_at) == ("pending", 0, "", now)
        case = uow.session.get(Case, case_id)
        assert case is not None and (case.escalation_step, case.next_escalation_at) == ("overdue", whole)
        stmt = select(Escalation.id, Escalation.deadline_at, Escalation.step).order_by(Escalation.id)
        assert select_rows(uow.session.connection(), stmt) == [
            tuple(r) for r in uow.session.execute(stmt).all()
        ]
        assert all(r[1].tzinfo is UTC for r in select_rows(uow.session.connection(), stmt))


def test_a_failing_statement_fails_the_block(db: Database) -> None:
    case_id, user_id = _a_case(db)
    now = datetime(2025, 6, 18, 2, 0, tzinfo=UTC)
    with db.uow() as uow, pytest.raises(Exception):  # noqa: B017, PT011  (the driver's own error)
        with Writes(uow.session.connection()) as writes:
            writes.insert(
                OUTBOX,
                ("user_id", "case_id", "payload"),
                [(user_id + 1000, case_id, {})],  # no such user
                {"purpose": "escalation", "next_attempt_at": now, "created_at": now},
            )
    with db.uow() as uow:
        assert uow.session.scalars(select(Notification)).all() == []
