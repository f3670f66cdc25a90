"""``flask --app app console link --user ID``: a one-time login URL for the PC console."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

console_cli = AppGroup("console", help="电脑端管理后台.")


@console_cli.command("link")
@click.option("--user", "user_id", type=int, required=True, help="用户 id（部门负责人、督办人员或管理员）")
def console_link(user_id: int) -> None:
    """Print a one-time login URL (10 minutes, once) on the last line."""
    from handlers.console.logins import create_link
    from handlers.errors import DomainError

    services = current_app.extensions["services"]
    try:
        token, expires_at = create_link(services.context(), user_id)
    except DomainError as exc:
        click.echo(f"error: {exc.message}（需先用 staff invite 绑定为 head、supervisor 或 admin）", err=True)
        sys.exit(1)
    base = services.settings.public_base_url or "http://127.0.0.1:8000"
    local = expires_at.astimezone(services.county.tz)
    click.echo(f"user {user_id}: one-time console login, valid until {local:%Y-%m-%d %H:%M} (once)")
    click.echo(f"{base}/console/link/{token}")
