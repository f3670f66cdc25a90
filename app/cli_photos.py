"""``flask --app app photos …``: the operators' photo-storage commands."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

photos_cli = AppGroup("photos", help="照片存储 (本地目录 / S3).")


@photos_cli.command("migrate-to-s3")
def migrate_to_s3() -> None:
    """Copy every photo of PHOTO_DIR to the S3 bucket, checking each copy's SHA-256.

    Safe to run again: what is already in the bucket with the same bytes is
    skipped, so an interrupted run resumes where it stopped. Run it once before
    switching PHOTO_STORAGE to s3 and once after, for the uploads in between."""
    from app.photos.transfer import CopyReport, copy_all

    services = current_app.extensions["services"]
    source = services.local_photos()
    target = services.s3_photos()
    s = services.settings
    click.echo(f"from {s.photo_dir} to s3://{s.s3_bucket}/{target.prefix}")

    def progress(report: CopyReport) -> None:
        click.echo(f"... {report.total} checked, {report.copied} copied")

    report = copy_all(source, target, progress)
    for key in report.mismatched:
        click.echo(f"mismatch: {key} is in the bucket with other bytes (照片内容不一致，未覆盖)", err=True)
    for problem in report.failed:
        click.echo(f"failed: {problem}", err=True)
    click.echo(
        f"copied: {report.copied}, already there: {report.already_there}, "
        f"mismatched: {len(report.mismatched)}, failed: {len(report.failed)}, total: {report.total}"
    )
    if not report.ok:
        sys.exit(1)
