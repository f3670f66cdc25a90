"""Cases (工单), their assignments, timeline, photos, extensions, escalations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.places import Community, Department
from routing.lifecycle import SUBMITTED

# The states (and their transitions) are routing/lifecycle.py's; the roles
# of an assignment are routing/model.py's (主办, 协办, 属地).


def _partial(where: str) -> dict[str, Any]:
    """An index over the rows ``where`` holds, on both databases (migration 0010)."""
    return {"sqlite_where": text(where), "postgresql_where": text(where)}


_WHERE_RESOLVED = _partial("resolved_at IS NOT NULL")
_WHERE_REFERRED = _partial("referred_from_id IS NOT NULL")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(64))
    config_version: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    anonymous: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(default=None)
    lng: Mapped[float | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default=SUBMITTED)
    urgent: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    primary_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # Clocks. The accept window starts at dispatch, the resolve window at
    # dispatch too and again on reopen (``resolve_started_at``).
    accept_due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolve_started_at: Mapped[datetime | None] = mapped_column(default=None)
    resolve_due_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The deadline a queue sorts by: accept until accepted, then resolve.
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    rating: Mapped[int | None] = mapped_column(default=None)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    # 移交: the case this one was referred from (its parties see that case's photos).
    referred_from_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    violation: Mapped[str | None] = mapped_column(String(16), default=None)  # confirmed | denied
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    # SHA-256 of the filing's canonical body: a key reused with another body is refused.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    community: Mapped[Community] = relationship(lazy="joined")
    primary_department: Mapped[Department | None] = relationship(lazy="joined")
    # Escalation state, in a narrow table of its own (``CaseClock``).
    clock: Mapped[CaseClock | None] = relationship(lazy="joined", cascade="all, delete-orphan")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="case", order_by="Assignment.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    def _own_clock(self) -> CaseClock:
        if self.clock is None:
            self.clock = CaseClock()
        return self.clock

    @hybrid_property
    def escalation_step(self) -> str | None:
        """The highest ladder step reached for the current deadline."""
        return self.clock.escalation_step if self.clock is not None else None

    @escalation_step.inplace.setter
    def _escalation_step_set(self, value: str | None) -> None:
        self._own_clock().escalation_step = value

    @escalation_step.inplace.expression
    @classmethod
    def _escalation_step_expression(cls) -> ColumnElement[str | None]:
        return _of_clock(CaseClock.escalation_step, cls.id).label("escalation_step")

    @hybrid_property
    def next_escalation_at(self) -> datetime | None:
        """When the sweep must next look at this case (None: never)."""
        return self.clock.next_escalation_at if self.clock is not None else None

    @next_escalation_at.inplace.setter
    def _next_escalation_at_set(self, value: datetime | None) -> None:
        self._own_clock().next_escalation_at = value

    @next_escalation_at.inplace.expression
    @classmethod
    def _next_escalation_at_expression(cls) -> ColumnElement[datetime | None]:
        return _of_clock(CaseClock.next_escalation_at, cls.id).label("next_escalation_at")

    __table_args__ = (
        UniqueConstraint("reporter_id", "idempotency_key", name="uq_case_idempotency"),
        # Supervisors' overdue list and open cases by deadline.
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_reporter_created", "reporter_id", "created_at"),
        Index("ix_cases_community", "community_id"),
        Index("ix_cases_created_at", "created_at"),
        # Auto-close of resolved cases; open cases (no resolved_at) are not in it.
        Index("ix_cases_status_resolved", "status", "resolved_at", **_WHERE_RESOLVED),
        # Open cases carry due_at, closed ones NULL: the overdue list is a range scan.
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_primary_due", "primary_department_id", "due_at"),
        # Cases referred from a case; the rest (no referred_from_id) are not in it.
        Index("ix_cases_referred_from", "referred_from_id", **_WHERE_REFERRED),
    )


class CaseClock(Base):
    """A case's escalation state: the highest ladder step reached for the
    current deadline, and when the sweep must next look at the case (NULL:
    never). A narrow table of its own (migration 0011), one row a case,
    written with it: the sweep moves both for every case it handles, and here
    a row's new version enters two indexes where in ``cases`` it entered each
    of its ten; the sweep writes nothing of ``cases`` (it only locks them)."""

    __tablename__ = "case_clocks"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    escalation_step: Mapped[str | None] = mapped_column(String(16), default=None)
    next_escalation_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        # The sweep: only what is due, through an index; cases with nothing
        # left to look at (closed, resolved, every step fired) are not in it.
        Index(
            "ix_case_clocks_next_escalation_at",
            "next_escalation_at",
            **_partial("next_escalation_at IS NOT NULL"),
        ),
    )


def _of_clock(column: Any, case_id: Any) -> Any:
    """A column of a case's clock, as a scalar subquery of the case's row."""
    return select(column).where(CaseClock.case_id == case_id).scalar_subquery()


class Assignment(Base):
    """A department's part in a case: 主办, 协办 or 属地."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(default=0)
    # Copied from the case so a department's queue sorts within one index.
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("case_id", "department_id", name="uq_assignment"),
        Index("ix_assignments_queue", "department_id", "open", "due_at"),
    )


class CaseEvent(Base):
    """One entry of a case's timeline. Append-only: never updated or deleted."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Who did it, as shown: a department name, "居民", "系统".
    actor_label: Mapped[str] = mapped_column(String(64), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str | None] = mapped_column(String(16), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


# WeChat's image check of a photo (``media_check``): queued to be sent (again
# at ``media_next_at``), sent and awaiting the verdict pushed for
# ``media_trace_id``, then WeChat's verdict; ``failed`` when it could never be
# sent, ``unchecked`` when nothing could fetch it (no public address; photos
# from before the check existed).
MEDIA_QUEUED, MEDIA_SENT, MEDIA_FAILED, MEDIA_UNCHECKED = "queued", "sent", "failed", "unchecked"
MEDIA_PASS, MEDIA_REVIEW, MEDIA_RISKY = "pass", "review", "risky"
MEDIA_VERDICTS = (MEDIA_PASS, MEDIA_REVIEW, MEDIA_RISKY)
# A case with such a photo needs a person to look at it (``needs_review``).
MEDIA_FLAGGED = (MEDIA_REVIEW, MEDIA_RISKY, MEDIA_FAILED)


class Photo(Base):
    """An uploaded photo. ``id`` is random so its URL cannot be guessed."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True, default=None)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"), default=None)
    width: Mapped[int]
    height: Mapped[int]
    display_key: Mapped[str] = mapped_column(String(128))
    thumb_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    media_check: Mapped[str] = mapped_column(String(16), default=MEDIA_QUEUED, server_default=MEDIA_UNCHECKED)
    media_trace_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    media_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    media_next_at: Mapped[datetime | None] = mapped_column(default=None)
    media_checked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        # The photo checks still to send, and the unattached photos to remove.
        Index("ix_photos_media_due", "media_check", "media_next_at"),
        Index("ix_photos_unattached", "case_id", "created_at"),
    )


class Extension(Base):
    """A request for more time (延期) and the supervisor's decision."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    case: Mapped[Case] = relationship()

    __table_args__ = (Index("ix_extensions_status", "status", "created_at"),)


class Escalation(Base):
    """A ladder step fired for a case's deadline. The unique key makes each
    step happen once per case and deadline, however many workers run."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    deadline_kind: Mapped[str] = mapped_column(String(8))  # accept | resolve
    deadline_at: Mapped[datetime]
    step: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("case_id", "deadline_kind", "deadline_at", "step", name="uq_escalation_once"),
        Index("ix_escalations_fired", "fired_at"),
    )


class CaseNumberCounter(Base):
    """Per-day sequence behind public numbers such as YN20260603-0042."""

    __tablename__ = "case_number_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
