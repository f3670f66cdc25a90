"""Operators' commands: ``flask --app app <command>``."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

db_cli = AppGroup("db", help="数据库迁移 (Alembic).")
routing_cli = AppGroup("routing", help="责任清单 (routing table): 检查与发布新版本.")
staff_cli = AppGroup("staff", help="工作人员邀请与撤销.")
open311_cli = AppGroup("open311", help="Open311 GeoReport v2 API 密钥.")


def _services() -> Any:
    return current_app.extensions["services"]


def _alembic_config() -> Any:
    from app.migrate import alembic_config

    return alembic_config(_services().settings.database_url)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from alembic import command

    _services().db.engine.dispose()  # makes the SQLite directory if needed
    command.upgrade(_alembic_config(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(), revision)


@db_cli.command("current")
def db_current() -> None:
    from alembic import command

    command.current(_alembic_config())


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    from alembic import command

    command.revision(_alembic_config(), message=message, autogenerate=True)


@routing_cli.command("check")
@click.option("--config", "path", default=None, help="配置文件路径 (默认 CASES_CONFIG)")
def routing_check(path: str | None) -> None:
    """Validate the county's routes/categories/clocks file."""
    from routing import check_file

    path = path or _services().settings.cases_config
    problems, warnings = check_file(path, _services().clock.now().date())
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"{path}: ok")


@routing_cli.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--effective-from", default=None, help="生效日期 YYYY-MM-DD（县区时间当天 0 点起）；不填即刻生效"
)
@click.option("--note", default="", help="说明（默认：命令行发布及文件名）")
def routing_publish(path: str, effective_from: str | None, note: str) -> None:
    """Publish FILE as a new version of the responsibility list (checked as
    `routing check` checks it); every process routes by it within seconds."""
    from pathlib import Path

    from handlers.admin.routing import PublishVersion, publish_version
    from handlers.commands import build
    from handlers.errors import DomainError
    from routing import ConfigError
    from routing.config import read_text
    from routing.diff import summary

    try:
        body = {"document": read_text(path), "note": note or f"命令行发布：{Path(path).name}"}
        if effective_from:
            body["effective_from"] = effective_from
        done = publish_version(_services().context(), build(PublishVersion, body), None)
    except (ConfigError, DomainError) as exc:
        problems = exc.problems if exc.problems is not None else [getattr(exc, "message", str(exc))]
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    for warning in done.warnings:
        click.echo(f"warning: {warning}", err=True)
    info = done.version
    click.echo(f"published {info.version}, effective from {info.effective_from.isoformat()}")
    for line in summary(done.changes) or ["（与当前版本相同）"]:
        click.echo(f"  {line}")


@click.command("seed")
@with_appcontext
def seed() -> None:
    """Load departments, townships, property companies and demo communities."""
    from handlers.seed import seed_reference

    counts = seed_reference(_services().context())
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@staff_cli.command("invite")
@click.option("--department", required=True, help="部门或乡镇(街道)名称")
@click.option("--role", type=click.Choice(["handler", "head", "supervisor", "admin"]), required=True)
@click.option("--hours", default=72, show_default=True, help="绑定码有效小时数")
def staff_invite(department: str, role: str, hours: int) -> None:
    """Print a one-time binding code on the last line."""
    from handlers.accounts import invite_staff
    from handlers.errors import DomainError

    try:
        code, expires_at = invite_staff(_services().context(), department, role, hours)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"{department} {role}, valid until {expires_at.isoformat()}")
    click.echo(code)


@staff_cli.command("revoke")
@click.option("--user", "user_id", type=int, required=True)
def staff_revoke(user_id: int) -> None:
    """Take a staff role away at once."""
    from handlers.accounts import revoke_staff
    from handlers.errors import DomainError

    try:
        revoke_staff(_services().context(), user_id)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"user {user_id} is a resident again")


@staff_cli.command("wecom")
@click.option("--user", "user_id", type=int, required=True)
@click.option("--wecom-id", required=True, help="企业微信 userid")
def staff_wecom(user_id: int, wecom_id: str) -> None:
    """Link a staff member to their WeCom account (the fallback channel)."""
    from handlers.accounts import set_wecom_id
    from handlers.errors import DomainError

    try:
        set_wecom_id(_services().context(), user_id, wecom_id)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"user {user_id} -> WeCom {wecom_id}")


@open311_cli.command("key")
@click.option("--name", required=True, help="使用该密钥的系统或单位名称")
def open311_key(name: str) -> None:
    """Print a new Open311 API key on the last line (shown only this once)."""
    from handlers.errors import DomainError
    from handlers.open311 import new_key

    try:
        key = new_key(_services().context(), name)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"Open311 API key for {name} (keep it; only its hash is stored):")
    click.echo(key)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run each job once and exit.")
@with_appcontext
def worker(once: bool) -> None:
    """Run the background jobs in the foreground."""
    from app.worker import run_worker

    run_worker(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]


def register_cli(app: Flask) -> None:
    for group in (db_cli, routing_cli, staff_cli, open311_cli):
        app.cli.add_command(group)
    app.cli.add_command(seed)
    app.cli.add_command(worker)
    from app.cli_console import console_cli
    from app.cli_photos import photos_cli
    from app.cli_property import property_cli

    app.cli.add_command(property_cli)
    app.cli.add_command(photos_cli)
    app.cli.add_command(console_cli)
