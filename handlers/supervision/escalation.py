"""The escalation sweep: every ladder step that fell due, once per case and
deadline, however many workers run and however late the sweep comes.

Only cases whose ``next_escalation_at`` has passed are read, through its
index, so the cost follows the work due, not the size of the table. That
moment and the step reached live in ``case_clocks``, a narrow table of their
own: moving them costs two index entries a case, not one in each index of
``cases``, which the sweep only locks. Each step
is an ``Escalation`` row under a unique key (case, deadline kind, deadline,
step) inserted with ON CONFLICT DO NOTHING: only the worker whose insert
landed writes the timeline event and the notifications.

A batch is written set-wise, one statement a table (``app.bulk``: plain
tuples, no ORM object and no per-value parameter building), and what is the
same for many cases (a list version's ladder, the recipients of a department,
a step's wording) is worked out once per batch.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ARRAY, ColumnElement, Integer, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.bulk import Writes, select_rows
from app.models import Assignment, Case, CaseClock, CaseEvent, Community, Escalation, User
from app.models.people import HANDLER, HEAD
from handlers.cases.clocks import DueStep, due_and_next
from handlers.context import Context
from handlers.notifications.notify import OUTBOX, page_for, staff_of_all, supervisors
from handlers.ports import JSONDict
from routing import TOWNSHIP_ROLE as LOCAL
from routing import CountyConfig, order

BATCH = 1000
# The tables the sweep writes set-wise.
ESCALATIONS = cast(Table, Escalation.__table__)
CASES = cast(Table, Case.__table__)
CLOCKS = cast(Table, CaseClock.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
DEADLINE_LABEL = {"accept": "签收", "resolve": "办结"}
ESCALATED = "escalated"
PURPOSE = "escalation"


Key = tuple[int, str, datetime, str]
ON_KEY = ["case_id", "deadline_kind", "deadline_at", "step"]
STEP_COLUMNS = ("case_id", "deadline_kind", "deadline_at", "step", "due_at")
EVENT_COLUMNS = ("case_id", "note", "step", "data")
OUTBOX_COLUMNS = ("user_id", "case_id", "payload")
CLOCK_COLUMNS = ("case_id", "escalation_step", "next_escalation_at")


@dataclass(slots=True)
class DueCase:
    """What the sweep reads of a due case: its clocks, what its messages say,
    who hears of it. Plain values from one query, not an ORM object."""

    id: int
    number: str
    category: str
    config_version: str
    status: str
    accept_due_at: datetime | None
    resolve_started_at: datetime | None
    resolve_due_at: datetime | None
    escalation_step: str | None
    next_escalation_at: datetime | None
    primary_department_id: int | None
    community: str
    townships: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Fired:
    """A step due of a case, and the list version it climbs."""

    case: DueCase
    due: DueStep
    ladder: Ladder

    @property
    def key(self) -> Key:
        return (self.case.id, self.due.deadline_kind, self.due.deadline_at, self.due.step)

    @property
    def row(self) -> tuple[int, str, datetime, str, datetime]:
        """The step's ``Escalation`` row (``STEP_COLUMNS``)."""
        return (self.case.id, self.due.deadline_kind, self.due.deadline_at, self.due.step, self.due.due_at)


class Ladder:
    """What the sweep uses of one list version, worked out once per batch:
    its steps by name and rank, the words of its notes."""

    def __init__(self, county: CountyConfig):
        self.county = county
        self.steps = {s.name: s for s in county.escalation}
        self.rank = order(county.escalation)
        self.tz = county.calendar.tz
        self.heading = {
            (s.name, kind): f"{s.label}：{label}期限 "
            for s in county.escalation
            for kind, label in DEADLINE_LABEL.items()
        }

    def category(self, code: str) -> str:
        category = self.county.categories.get(code)
        return category.name if category else code

    def higher(self, step: str, than: str | None) -> bool:
        return than is None or self.rank[step] > self.rank.get(than, -1)


class Recipients:
    """Who hears of a step, read once per sweep batch rather than per case
    (and before the batch's writes are sent: nothing is read among them)."""

    def __init__(self, s: Session):
        self._staff: dict[int, list[User]] = defaultdict(list)
        for user in staff_of_all(s):
            self._staff[user.department_id].append(user)  # type: ignore[index]
        self._supervisors = supervisors(s)
        self._told: dict[tuple[int | None, tuple[int, ...], tuple[str, ...]], list[User]] = {}

    def staff(self, department_ids: list[int], roles: tuple[str, ...]) -> list[User]:
        return [u for d in department_ids for u in self._staff.get(d, []) if u.role in roles]

    def for_step(self, case: DueCase, notify: tuple[str, ...]) -> list[User]:
        users: list[User] = []
        primary = [case.primary_department_id] if case.primary_department_id else []
        if "primary_staff" in notify:
            users += self.staff(primary, (HANDLER, HEAD))
        if "department_heads" in notify:
            users += self.staff(primary, (HEAD,))
        if "township" in notify:
            users += self.staff(case.townships, (HANDLER, HEAD))
        if "supervisors" in notify:
            users += self._supervisors
        return users

    def told(self, case: DueCase, notify: tuple[str, ...]) -> list[User]:
        """``for_step``, each user once, the same list for every case of a
        department and townships."""
        key = (case.primary_department_id, tuple(case.townships), notify)
        users = self._told.get(key)
        if users is None:
            users = self._told[key] = list({u.id: u for u in self.for_step(case, notify)}.values())
        return users


def overdue_text(seconds: float) -> str:
    """How late, as a person says it: 40 分钟, 5.5 小时, 3 天 2 小时; "" when not late."""
    if seconds < 60:
        return ""
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} 小时"
    days, rest = divmod(int(seconds), 86400)
    return f"{days} 天 {rest // 3600} 小时" if rest >= 3600 else f"{days} 天"


class Messages:
    """The timeline events and notifications of a batch's fired steps, as
    rows: what ``event_row`` and ``outbox_rows`` would write."""

    def __init__(self, people: Recipients, now: datetime):
        self.people = people
        self.now = now
        self.events: list[tuple[int, str, str, JSONDict]] = []
        self.outbox: list[tuple[int, int, JSONDict]] = []

    def add(self, fired: Fired) -> None:
        case, due, ladder = fired.case, fired.due, fired.ladder
        step = ladder.steps[due.step]
        deadline = due.deadline_at
        # The deadline in county time to the minute ("2025-06-18 09:55"), as
        # strftime writes it, at a fifth of its cost.
        local = deadline.astimezone(ladder.tz).isoformat(" ", "minutes")[:16]
        note = f"{ladder.heading[due.step, due.deadline_kind]}{local}"
        late = overdue_text((self.now - deadline).total_seconds())
        if late:
            note += f"，已超期 {late}"
        at = deadline.isoformat()
        self.events.append((case.id, note, due.step, {"deadline": due.deadline_kind, "deadline_at": at}))
        payload = {
            "number": case.number,
            "category": ladder.category(case.category),
            "community": case.community,
            "step": step.label,
            "note": note,
            "deadline": at,
            "level": due.step,
        }
        for user in self.people.told(case, step.notify):
            self.outbox.append((user.id, case.id, payload | {"page": page_for(user, case.id)}))

    def write(self, writes: Writes) -> None:
        writes.insert(EVENTS, EVENT_COLUMNS, self.events, {"at": self.now, "kind": ESCALATED})
        same = {"purpose": PURPOSE, "next_attempt_at": self.now, "created_at": self.now}
        writes.insert(OUTBOX, OUTBOX_COLUMNS, self.outbox, same)


def _write(s: Session, due: list[Fired], clocks: list[tuple[Any, ...]], now: datetime) -> int:
    """Insert the batch's steps, their events and notifications, and move the
    cases' clocks, one statement each, sent without waiting for one another
    (``Writes``); answers how many steps landed. Rows are built while the
    database writes the ones sent before."""
    rows = [f.row for f in due]
    messages = Messages(Recipients(s), now)
    with Writes(s.connection()) as writes:
        steps = writes.insert(ESCALATIONS, STEP_COLUMNS, rows, {"fired_at": now}, conflict=ON_KEY)
        writes.update(CLOCKS, CLOCK_COLUMNS, clocks)
        for fired in due:
            messages.add(fired)
        messages.write(writes)
    return writes.counts[steps]


def _write_landed(s: Session, due: list[Fired], clocks: list[tuple[Any, ...]], now: datetime) -> list[Fired]:
    """``_write`` for a batch some of whose steps another worker recorded
    first: the steps inserted with RETURNING, which names those that landed,
    and only these told. Answers them."""
    conn = s.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    table = ESCALATIONS
    stmt = insert(table).on_conflict_do_nothing(index_elements=ON_KEY)
    returning = stmt.returning(table.c.case_id, table.c.deadline_kind, table.c.deadline_at, table.c.step)
    values = [dict(zip(STEP_COLUMNS, f.row, strict=True)) | {"fired_at": now} for f in due]
    landed = {(c, k, at, st) for c, k, at, st in conn.execute(returning, values)} if values else set()
    told = [f for f in due if f.key in landed]
    messages = Messages(Recipients(s), now)
    for fired in told:
        messages.add(fired)
    with Writes(conn) as writes:
        writes.update(CLOCKS, CLOCK_COLUMNS, clocks)
        messages.write(writes)
    return told


def _among(s: Session, column: InstrumentedAttribute[int], ids: list[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``, as one parameter however many ids (an
    array on PostgreSQL, a JSON list on SQLite) rather than one each."""
    if s.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    each = func.json_each(bindparam("ids", json.dumps(ids))).table_valued("value")
    return column.in_(select(each.c.value))


def _due_cases(s: Session, now: datetime, batch: int) -> list[DueCase]:
    # Through the index on next_escalation_at: only what is due is read. The
    # case is locked with its clock: a sweep that comes second skips both, or
    # finds the clock moved on (PostgreSQL re-reads an updated row it locks).
    stmt = (
        select(
            Case.id,
            Case.number,
            Case.category,
            Case.config_version,
            Case.status,
            Case.accept_due_at,
            Case.resolve_started_at,
            Case.resolve_due_at,
            CaseClock.escalation_step,
            CaseClock.next_escalation_at,
            Case.primary_department_id,
            Community.name,
        )
        .select_from(CaseClock)
        .join(Case, Case.id == CaseClock.case_id)
        .join(Community, Community.id == Case.community_id)
        .where(CaseClock.next_escalation_at <= now)
        .order_by(CaseClock.next_escalation_at, CaseClock.case_id)
        .limit(batch)
    )
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=[Case.id, CaseClock.case_id])
    cases = [DueCase(*row) for row in select_rows(s.connection(), stmt)]
    if cases:
        by_id = {c.id: c for c in cases}
        for case_id, department_id in s.execute(
            select(Assignment.case_id, Assignment.department_id)
            .where(_among(s, Assignment.case_id, list(by_id)), Assignment.role == LOCAL)
            .order_by(Assignment.id)
        ):
            by_id[case_id].townships.append(department_id)
    return cases


def _fired_of(s: Session, cases: list[DueCase]) -> dict[int, set[tuple[str, datetime, str]]]:
    done: dict[int, set[tuple[str, datetime, str]]] = defaultdict(set)
    for kind, at, step, case_id in s.execute(
        select(Escalation.deadline_kind, Escalation.deadline_at, Escalation.step, Escalation.case_id).where(
            _among(s, Escalation.case_id, [c.id for c in cases])
        )
    ):
        done[case_id].add((kind, at, step))
    return done


def _plan(
    ctx: Context, cases: list[DueCase], done: dict[int, set[tuple[str, datetime, str]]], now: datetime
) -> tuple[list[Fired], list[tuple[Any, ...]]]:
    """The steps due of each case, in order, and the cases whose step reached
    or next look moved (id and the two columns)."""
    ladders: dict[str, Ladder] = {}
    due: list[Fired] = []
    clocks: list[tuple[Any, ...]] = []
    for case in cases:
        ladder = ladders.get(case.config_version)
        if ladder is None:
            ladder = ladders[case.config_version] = Ladder(ctx.county_of(case.config_version))
        steps, nxt = due_and_next(case, ladder.county, now, done[case.id])
        reached = case.escalation_step
        for step in steps:
            due.append(Fired(case, step, ladder))
            if ladder.higher(step.step, reached):
                reached = step.step
        if nxt != case.next_escalation_at or reached != case.escalation_step:
            clocks.append((case.id, reached, nxt))
    return due, clocks


def _sweep_batch(ctx: Context, s: Session, cases: list[DueCase], now: datetime) -> Counter[str]:
    """Fire what is due of these cases and move their clocks on; answers the
    steps this call fired, by name."""
    due, clocks = _plan(ctx, cases, _fired_of(s, cases), now)
    # The cases are locked (SQLite's write lock, PostgreSQL's FOR UPDATE) and
    # their fired steps read since, so normally every step lands: the batch is
    # written whole inside a savepoint, then the steps' row count checked.
    # Should a step have been skipped after all, the savepoint is undone and
    # the batch written again telling only the steps that landed.
    savepoint = s.connection().begin_nested()
    if _write(s, due, clocks, now) == len(due):
        savepoint.commit()
        return Counter(f.due.step for f in due)
    savepoint.rollback()
    return Counter(f.due.step for f in _write_landed(s, due, clocks, now))


def sweep(ctx: Context, batch: int = BATCH) -> int:
    """Fire every step due by now; answers how many were fired by this call.
    Each case climbs the ladder of the list version it was routed under.
    A sweep that finished is timed (one that failed is not: the operators'
    alert on sweeps that stopped counts only these)."""
    started = time.perf_counter()
    fired = _sweep(ctx, batch)
    ctx.metrics.sweep_took(time.perf_counter() - started)
    return fired


def _sweep(ctx: Context, batch: int) -> int:
    now = ctx.now()
    fired = 0
    # Each case is handled once per sweep: after it, its next step lies ahead.
    seen: set[int] = set()
    while True:
        with ctx.uow() as uow:
            s = uow.session
            loaded = _due_cases(s, now, batch)
            cases = [c for c in loaded if c.id not in seen]
            if not cases:
                return fired
            seen.update(c.id for c in cases)
            steps = _sweep_batch(ctx, s, cases, now)
            uow.commit()
        for name, count in steps.items():  # counted once committed
            ctx.metrics.escalated(name, count)
        fired += steps.total()
        ctx.wake_outbox()
        if len(loaded) < batch:
            return fired
