"""A case's life as one table: its states, and for each step who may take it,
from which states, to which state, and what happens to its clocks.

Every handler that changes a case's status asks this table first
(``check``); the web edge and the console show the steps ``actions``
answers. Nothing else decides whether a step is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# States.
SUBMITTED = "submitted"
DISPATCHED = "dispatched"
ACCEPTED = "accepted"
RESOLVED = "resolved"
CLOSED = "closed"
RETURNED = "returned"
REOPENED = "reopened"
REJECTED = "rejected"
MERGED = "merged"
STATUSES = (SUBMITTED, DISPATCHED, ACCEPTED, RESOLVED, CLOSED, RETURNED, REOPENED, REJECTED, MERGED)
# A department owes work and the clocks run.
HANDLING = (DISPATCHED, ACCEPTED, REOPENED)
# Not finished: still someone's to handle or to dispatch.
OPEN = (SUBMITTED, DISPATCHED, ACCEPTED, RETURNED, REOPENED)

# Who takes a step, relative to the case.
PRIMARY = "primary"  # staff of the primary (主办) department
PARTY = "party"  # staff of any department on the case (主办, 协办, 属地)
REPORTER = "reporter"  # the resident who filed it
SUPERVISOR = "supervisor"  # the leading group office (supervisors and admins)
SYSTEM = "system"  # the worker

# What a step does to the clocks (handlers/cases/clocks.py carries it out).
START = "start"  # both deadlines from now
ACCEPTED_CLOCK = "accepted"  # the accept deadline is met; resolve runs on
RESTART_RESOLVE = "restart_resolve"  # the resolve deadline anew from now
EXTEND = "extend"  # the resolve deadline moves to the approved time
STOP = "stop"  # no deadline runs
KEEP = "keep"


@dataclass(frozen=True)
class Step:
    name: str
    verb: str  # how a person says it: "不能签收"
    actors: frozenset[str]
    from_states: frozenset[str]
    to_state: str | None  # None: the status stays
    clocks: str = KEEP


def _step(
    name: str, verb: str, actors: Iterable[str], states: Iterable[str], to: str | None, clocks: str = KEEP
) -> Step:
    return Step(name, verb, frozenset(actors), frozenset(states), to, clocks)


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        _step("accept", "签收", [PRIMARY], [DISPATCHED], ACCEPTED, ACCEPTED_CLOCK),
        _step("progress", "添加进展", [PARTY], HANDLING, None),
        _step("resolve", "办结", [PRIMARY], [ACCEPTED, REOPENED], RESOLVED, STOP),
        _step("return", "退回", [PRIMARY], [DISPATCHED, ACCEPTED], RETURNED, STOP),
        _step("extension", "申请延期", [PRIMARY], HANDLING, None),
        # 移交: a linked case for another department; this one keeps its status and clocks.
        _step("refer", "移交", [PRIMARY, SUPERVISOR], HANDLING, None),
        _step("approve_extension", "批准延期", [SUPERVISOR], HANDLING, None, EXTEND),
        _step("deny_extension", "驳回延期", [SUPERVISOR], STATUSES, None),
        _step("rate", "评价", [REPORTER], [RESOLVED], CLOSED, STOP),
        _step("reopen", "重新打开", [REPORTER], [RESOLVED], REOPENED, RESTART_RESOLVE),
        _step("dispatch", "派发", [SUPERVISOR], [SUBMITTED, RETURNED], DISPATCHED, START),
        _step("reject", "不予受理", [SUPERVISOR], OPEN, REJECTED, STOP),
        _step("merge", "合并", [SUPERVISOR], OPEN, MERGED, STOP),
        _step("close", "自动关闭", [SYSTEM], [RESOLVED], CLOSED, STOP),
    )
}

# Steps a person asks for from a screen (the system's own are not offered).
OFFERED = tuple(name for name, s in STEPS.items() if SYSTEM not in s.actors)


class StepRefused(Exception):
    """``reason``: ``actor`` (not theirs to take) or ``state`` (not from this state)."""

    def __init__(self, step: Step, status: str, reason: str):
        super().__init__(f"{step.name} from {status}: {reason}")
        self.step = step
        self.status = status
        self.reason = reason


def check(name: str, status: str, actors: Iterable[str]) -> Step:
    """The step, if ``actors`` may take it from ``status``; else StepRefused
    (the actor first: who may not act learns nothing of the state)."""
    step = STEPS[name]
    if not step.actors & set(actors):
        raise StepRefused(step, status, "actor")
    if status not in step.from_states:
        raise StepRefused(step, status, "state")
    return step


def actions(status: str, actors: Iterable[str]) -> list[str]:
    """The steps ``actors`` may take now, in the table's order."""
    who = set(actors)
    return [name for name in OFFERED if STEPS[name].actors & who and status in STEPS[name].from_states]
