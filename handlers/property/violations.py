"""Nine-prohibitions (九不准) violations and the credit ladder they drive.

A handling department confirms (查实) or denies a violation when it resolves
a case whose category evidences a clause. A confirmed one counts against the
company serving the community at that moment, once per case. Within the
rolling window, the count of live violations places the company on the
ladder of seed 003: 1 约谈整改, 2 降星, 3 清退 (below standard), 4 黑名单.
Each step reached is a ``LadderRecord`` with the violations behind it; a step
is never applied twice while it stands, and withdrawing a confirmation
withdraws the steps that no longer hold and undoes what they did.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Case, Community, LadderRecord, PropertyCompany, StarRating, User, Violation
from app.models.people import HANDLER, HEAD, SUPERVISOR
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, staff_of
from routing import CountyConfig
from routing.model import ViolationStep


def _window_start(now: datetime, county: CountyConfig) -> datetime:
    return now - timedelta(days=county.violation_ladder.window_days)


def live_violations(s: Session, company_id: int, now: datetime, county: CountyConfig) -> list[Violation]:
    return list(
        s.scalars(
            select(Violation)
            .where(
                Violation.company_id == company_id,
                Violation.withdrawn_at.is_(None),
                Violation.confirmed_at > _window_start(now, county),
                Violation.confirmed_at <= now,
            )
            .order_by(Violation.confirmed_at, Violation.id)
        )
    )


def confirmed_count(s: Session, company_id: int, now: datetime, county: CountyConfig) -> int:
    return len(live_violations(s, company_id, now, county))


def current_ladder_step(s: Session, company_id: int, now: datetime, county: CountyConfig) -> int:
    step = county.violation_ladder.step_for(confirmed_count(s, company_id, now, county))
    return int(step.count) if step else 0


def _housing_and_township(s: Session, county: CountyConfig, community: Community) -> list[User]:
    from app.models import Department

    housing = s.scalar(select(Department.id).where(Department.name == county.leading_group_office))
    ids = [i for i in (housing, community.township_id) if i is not None]
    return staff_of(s, ids, (HANDLER, HEAD, SUPERVISOR))


def _lower_star(s: Session, community: Community, company_id: int, now: datetime, reason: str) -> None:
    if community.star_rating is None or community.star_rating <= 1:
        return
    community.star_rating -= 1
    s.add(
        StarRating(
            community_id=community.id,
            company_id=company_id,
            stars=community.star_rating,
            source="ladder",
            reason=reason,
            rated_at=now,
        )
    )


def _apply_effects(
    s: Session, step: ViolationStep, company: PropertyCompany, community: Community, now: datetime
) -> None:
    """Lower the star, rate below standard, blacklist: what the step says."""
    reason = f"“九不准”累计违反 {step.count} 条：{step.name}"
    if step.lower_star:
        _lower_star(s, community, company.id, now, reason)
    if step.below_standard:
        community.below_standard = True
        s.add(
            StarRating(
                community_id=community.id,
                company_id=company.id,
                stars=community.star_rating,
                below_standard=True,
                source="ladder",
                reason=reason,
                rated_at=now,
            )
        )
    if step.blacklist and company.blacklisted_at is None:
        company.blacklisted_at = now


def _reach(
    s: Session,
    ctx: Context,
    step: ViolationStep,
    company: PropertyCompany,
    behind: list[Violation],
    case: Case | None,
    now: datetime,
) -> LadderRecord:
    county = ctx.county
    row = LadderRecord(
        company_id=company.id,
        step=step.count,
        reached_at=now,
        violation_ids=[v.id for v in behind],
        measures="；".join(step.measures),
    )
    s.add(row)
    s.flush()
    community = s.get(Community, behind[-1].community_id)
    assert community is not None
    _apply_effects(s, step, company, community, now)
    numbers = list(s.scalars(select(Case.number).where(Case.id.in_([v.case_id for v in behind]))))
    note = f"{company.name}“九不准”累计违反 {step.count} 条：{step.name}。措施：{row.measures}"
    if case is not None:
        record(s, case, "ladder_step", now, note=note, ladder_step=step.count)
    payload = (
        case_payload(case, county)
        if case is not None
        else {"number": "", "category": "", "community": community.name}
    )
    recipients = _housing_and_township(s, county, community)
    enqueue(
        s, now, "escalation", case, recipients, payload | {"step": step.name, "note": note, "cases": numbers}
    )
    return row


def apply_ladder(
    s: Session, ctx: Context, company_id: int, case: Case | None, now: datetime
) -> list[LadderRecord]:
    """Record every step the live count reaches that is not standing yet, and do what it says."""
    violations = live_violations(s, company_id, now, ctx.county)
    standing = set(
        s.scalars(
            select(LadderRecord.step).where(
                LadderRecord.company_id == company_id, LadderRecord.withdrawn_at.is_(None)
            )
        )
    )
    company = s.get(PropertyCompany, company_id)
    assert company is not None
    return [
        _reach(s, ctx, step, company, violations[: step.count], case, now)
        for step in ctx.county.violation_ladder.steps
        if len(violations) >= step.count and step.count not in standing
    ]


def confirm_violation(
    s: Session, ctx: Context, case: Case, clause: int, user: User, note: str, now: datetime
) -> None:
    """Record a confirmed violation once per case against the community's company."""
    community = s.get(Community, case.community_id)
    if community is None or community.property_company_id is None:
        record(
            s,
            case,
            "violation_confirmed",
            now,
            by=user,
            note="查实，但该小区当前无物业服务企业",
            clause=clause,
        )
        return
    if s.scalar(select(Violation.id).where(Violation.case_id == case.id, Violation.withdrawn_at.is_(None))):
        return
    s.add(
        Violation(
            case_id=case.id,
            company_id=community.property_company_id,
            community_id=community.id,
            clause=clause,
            note=note,
            confirmed_at=now,
        )
    )
    s.flush()
    text = ctx.county.clauses[clause].text if clause in ctx.county.clauses else ""
    record(
        s,
        case,
        "violation_confirmed",
        now,
        by=user,
        note=f"查实违反“九不准”第{clause}条：{text}",
        clause=clause,
    )
    apply_ladder(s, ctx, community.property_company_id, case, now)


def withdraw_violation(ctx: Context, case_id: int, reason: str) -> list[int]:
    """Withdraw a confirmation on review; answers the ladder steps withdrawn."""
    if not reason.strip():
        raise Invalid("请说明撤销认定的原因", "invalid_reason")
    now = ctx.now()
    county = ctx.county
    with ctx.uow() as uow:
        s = uow.session
        violation = s.scalar(
            select(Violation).where(Violation.case_id == case_id, Violation.withdrawn_at.is_(None))
        )
        if violation is None:
            raise NotFound("该工单没有有效的违规认定", "violation_not_found")
        case = s.get(Case, case_id)
        assert case is not None
        violation.withdrawn_at = now
        violation.withdraw_reason = reason
        case.violation = "withdrawn"
        s.flush()
        record(s, case, "violation_withdrawn", now, note=f"撤销“九不准”认定：{reason}")
        count = confirmed_count(s, violation.company_id, now, county)
        withdrawn = []
        for row in s.scalars(
            select(LadderRecord)
            .where(LadderRecord.company_id == violation.company_id, LadderRecord.withdrawn_at.is_(None))
            .order_by(LadderRecord.step.desc())
        ):
            if row.step <= count:
                continue  # still reached by the violations that remain
            row.withdrawn_at = now
            row.withdraw_reason = reason[:200]
            withdrawn.append(row.step)
            _undo(s, county, row, now, reason)
            record(
                s,
                case,
                "ladder_withdrawn",
                now,
                note=f"因撤销认定，撤回“九不准”第{row.step}档措施",
                ladder_step=row.step,
            )
        uow.commit()
    return withdrawn


def _undo(s: Session, county: CountyConfig, row: LadderRecord, now: datetime, reason: str) -> None:
    step = next((x for x in county.violation_ladder.steps if x.count == row.step), None)
    if step is None:
        return
    violations = s.scalars(select(Violation).where(Violation.id.in_(row.violation_ids or []))).all()
    trigger = max(violations, key=lambda v: (v.confirmed_at, v.id)) if violations else None
    community = s.get(Community, trigger.community_id) if trigger else None
    note = f"撤销认定，恢复：{reason}"
    if step.lower_star and community is not None and community.star_rating is not None:
        community.star_rating = min(5, community.star_rating + 1)
        s.add(
            StarRating(
                community_id=community.id,
                company_id=row.company_id,
                stars=community.star_rating,
                source="ladder",
                reason=note,
                rated_at=now,
            )
        )
    if step.below_standard and community is not None:
        community.below_standard = False
        s.add(
            StarRating(
                community_id=community.id,
                company_id=row.company_id,
                stars=community.star_rating,
                below_standard=False,
                source="ladder",
                reason=note,
                rated_at=now,
            )
        )
    if step.blacklist:
        company = s.get(PropertyCompany, row.company_id)
        if company is not None:
            company.blacklisted_at = None


def company_violation_counts(s: Session, now: datetime, county: CountyConfig) -> dict[int, int]:
    rows = s.execute(
        select(Violation.company_id, func.count(Violation.id))
        .where(
            Violation.withdrawn_at.is_(None),
            Violation.confirmed_at > _window_start(now, county),
            Violation.confirmed_at <= now,
        )
        .group_by(Violation.company_id)
    ).all()
    return {company_id: count for company_id, count in rows}
