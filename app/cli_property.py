"""``flask --app app property ...``: companies, assignments, ratings, disclosures."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

property_cli = AppGroup("property", help="物业服务企业、星级评定、六个公开.")


def _run(action: Callable[[Any], Any]) -> Any:
    from handlers.errors import DomainError

    try:
        return action(current_app.extensions["services"].context())
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


@property_cli.command("add")
@click.option("--name", required=True)
@click.option("--credit-code", required=True, help="18 位统一社会信用代码")
@click.option("--phone", default="")
def add(name: str, credit_code: str, phone: str) -> None:
    """Register a property company."""
    from handlers.property.companies import add_company

    company = _run(lambda ctx: add_company(ctx, name, credit_code, phone))
    click.echo(f"added {company.id} {company.name} {company.credit_code}")


@property_cli.command("assign")
@click.option("--company", required=True, help="企业 id、名称或信用代码")
@click.option("--community", required=True, help="小区 id 或名称")
def assign(company: str, community: str) -> None:
    """The company now serves the community (the previous term ends)."""
    from handlers.property.companies import assign_company

    _run(lambda ctx: assign_company(ctx, company, community))
    click.echo(f"{company} now serves {community}")


@property_cli.command("list")
def list_() -> None:
    """Companies with their communities, violations and ladder step."""
    from handlers.property.companies import company_overview

    for view in _run(company_overview):
        click.echo(
            f"{view.company.id}\t{view.company.name}\t{view.company.credit_code}\t"
            f"violations={view.violations}\tstep={view.ladder_step}"
        )
        for community in view.communities:
            click.echo(
                f"\t- {community.name} ({community.township}) stars={community.star_rating} {community.flags.reason}"
            )


@property_cli.command("rate")
@click.option("--community", required=True)
@click.option("--stars", type=int, default=None)
@click.option("--below-standard", is_flag=True)
@click.option("--reason", required=True)
def rate(community: str, stars: int | None, below_standard: bool, reason: str) -> None:
    """Record a star rating round (星级化评定)."""
    from handlers.property.companies import rate_community

    _run(lambda ctx: rate_community(ctx, community, stars, below_standard, reason))
    click.echo(f"{community}: {'不达标' if below_standard else f'{stars} 星'}")


@property_cli.command("disclose")
@click.option("--community", required=True)
@click.option("--item", required=True, help="服务合同/服务内容/服务电话/服务方式/收费标准/公共收益")
@click.option("--content", required=True)
def disclose_(community: str, item: str, content: str) -> None:
    """Keep one of the six disclosures (六个公开)."""
    from handlers.property.companies import disclose

    _run(lambda ctx: disclose(ctx, community, item, content))
    click.echo(f"{community}: {item} updated")


@property_cli.command("withdraw-violation")
@click.option("--case", "case_id", type=int, required=True)
@click.option("--reason", required=True)
def withdraw(case_id: int, reason: str) -> None:
    """Withdraw a confirmed violation on review; dependent ladder steps are undone."""
    from handlers.property.violations import withdraw_violation

    steps = _run(lambda ctx: withdraw_violation(ctx, case_id, reason))
    click.echo(f"case {case_id}: violation withdrawn; ladder steps withdrawn: {steps or 'none'}")
