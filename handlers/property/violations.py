"""Nine-prohibitions (九不准) violations and the credit ladder they drive.

A handling department confirms (查实) or denies a violation when it resolves
a case whose category evidences a clause. A confirmed one is recorded against
the company serving the community at that moment, once per case. Seed 003
counts the prohibitions (条) a company violated, cumulatively: two cases
under one clause are one 条 (``count_by: clause``, no window, the default);
a county may count confirmed cases instead, and only within a window. The
count places the company on the ladder: 1 约谈整改, 2 降星, 3 清退 (below
standard), 4 黑名单. Each step reached is a ``LadderRecord`` with the
violations behind it; a step is never applied twice while it stands, and
withdrawing a confirmation recounts, withdrawing the steps that no longer
hold and undoing what they did.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import Case, Community, LadderRecord, PropertyCompany, StarRating, User, Violation
from app.models.people import HANDLER, HEAD, SUPERVISOR
from handlers.cases.timeline import record
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.notifications.notify import case_payload, enqueue, staff_of
from routing import CountyConfig
from routing.model import ViolationStep


def _live(now: datetime, county: CountyConfig) -> list[ColumnElement[bool]]:
    """Confirmed, not withdrawn, and within the window if the county sets one."""
    where = [Violation.withdrawn_at.is_(None), Violation.confirmed_at <= now]
    window = county.violation_ladder.window_days
    if window is not None:
        where.append(Violation.confirmed_at > now - timedelta(days=window))
    return where


def live_violations(s: Session, company_id: int, now: datetime, county: CountyConfig) -> list[Violation]:
    return list(
        s.scalars(
            select(Violation)
            .where(Violation.company_id == company_id, *_live(now, county))
            .order_by(Violation.confirmed_at, Violation.id)
        )
    )


def counted(violations: list[Violation], county: CountyConfig) -> list[Violation]:
    """What the ladder counts, in the order confirmed: the first violation of
    each distinct clause (``count_by: clause``), or every one (``case``)."""
    if county.violation_ladder.count_by == "case":
        return violations
    first: dict[int, Violation] = {}
    for v in violations:
        first.setdefault(v.clause, v)
    return list(first.values())


def confirmed_count(s: Session, company_id: int, now: datetime, county: CountyConfig) -> int:
    return len(counted(live_violations(s, company_id, now, county), county))


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


def _reached(step: ViolationStep, county: CountyConfig) -> str:
    unit = "件" if county.violation_ladder.count_by == "case" else "条"
    return f"“九不准”累计违反 {step.count} {unit}：{step.name}"


def _apply_effects(
    s: Session,
    step: ViolationStep,
    company: PropertyCompany,
    community: Community,
    now: datetime,
    county: CountyConfig,
) -> None:
    """Lower the star, rate below standard, blacklist: what the step says."""
    reason = _reached(step, county)
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
    county: CountyConfig,
    step: ViolationStep,
    company: PropertyCompany,
    behind: list[Violation],
    case: Case | None,
    now: datetime,
) -> LadderRecord:
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
    _apply_effects(s, step, company, community, now, county)
    numbers = list(s.scalars(select(Case.number).where(Case.id.in_([v.case_id for v in behind]))))
    note = f"{company.name}{_reached(step, county)}。措施：{row.measures}"
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
    s: Session, county: CountyConfig, company_id: int, case: Case | None, now: datetime
) -> list[LadderRecord]:
    """Record every step the count reaches that is not standing yet, and do what it says."""
    violations = counted(live_violations(s, company_id, now, county), county)
    # A step stands while it is not withdrawn and, where the county counts
    # within a window, while it was reached inside it: once every violation
    # behind it has left the window, a new one starts the ladder again.
    standing_where = [LadderRecord.company_id == company_id, LadderRecord.withdrawn_at.is_(None)]
    if county.violation_ladder.window_days is not None:
        window_start = now - timedelta(days=county.violation_ladder.window_days)
        standing_where.append(LadderRecord.reached_at > window_start)
    standing = set(s.scalars(select(LadderRecord.step).where(*standing_where)))
    company = s.get(PropertyCompany, company_id)
    assert company is not None
    return [
        _reach(s, county, step, company, violations[: step.count], case, now)
        for step in county.violation_ladder.steps
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
    earlier = s.scalar(select(Violation).where(Violation.case_id == case.id))
    if earlier is not None:
        if earlier.withdrawn_at is not None:
            # A review withdrew this case's finding; a later resolution of the
            # same case does not overturn the review (it is counted once, or not).
            note = "再次认定查实，但该工单的认定已经复核撤销，不再计入"
            record(s, case, "violation_confirmed", now, by=user, note=note, clause=clause)
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
    county = ctx.county_of(case.config_version)
    text = county.clauses[clause].text if clause in county.clauses else ""
    record(
        s,
        case,
        "violation_confirmed",
        now,
        by=user,
        note=f"查实违反“九不准”第{clause}条：{text}",
        clause=clause,
    )
    apply_ladder(s, county, community.property_company_id, case, now)


def withdraw_violation(ctx: Context, case_id: int, reason: str) -> list[int]:
    """Withdraw a confirmation on review; answers the ladder steps withdrawn."""
    if not reason.strip():
        raise Invalid("请说明撤销认定的原因", "invalid_reason")
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        violation = s.scalar(
            select(Violation).where(Violation.case_id == case_id, Violation.withdrawn_at.is_(None))
        )
        if violation is None:
            raise NotFound("该工单没有有效的违规认定", "violation_not_found")
        case = s.get(Case, case_id)
        assert case is not None
        county = ctx.county_of(case.config_version)
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


def _lowered(s: Session, row: LadderRecord, community: Community, county: CountyConfig) -> bool:
    """Whether the step did lower this community's star (it does not below one star)."""
    step = next(x for x in county.violation_ladder.steps if x.count == row.step)
    return (
        s.scalar(
            select(StarRating.id).where(
                StarRating.community_id == community.id,
                StarRating.source == "ladder",
                StarRating.below_standard.is_(False),
                StarRating.rated_at == row.reached_at,
                StarRating.reason == _reached(step, county),
            )
        )
        is not None
    )


def _undo(s: Session, county: CountyConfig, row: LadderRecord, now: datetime, reason: str) -> None:
    step = next((x for x in county.violation_ladder.steps if x.count == row.step), None)
    if step is None:
        return
    violations = s.scalars(select(Violation).where(Violation.id.in_(row.violation_ids or []))).all()
    trigger = max(violations, key=lambda v: (v.confirmed_at, v.id)) if violations else None
    community = s.get(Community, trigger.community_id) if trigger else None
    note = f"撤销认定，恢复：{reason}"
    if (
        step.lower_star
        and community is not None
        and community.star_rating is not None
        and _lowered(s, row, community, county)
    ):
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


def company_violation_counts(s: Session, now: datetime, county: CountyConfig) -> dict[int, tuple[int, int]]:
    """Per company: (confirmed violations, distinct clauses violated), live."""
    rows = s.execute(
        select(Violation.company_id, func.count(Violation.id), func.count(Violation.clause.distinct()))
        .where(*_live(now, county))
        .group_by(Violation.company_id)
    ).all()
    return {company_id: (cases, clauses) for company_id, cases, clauses in rows}
