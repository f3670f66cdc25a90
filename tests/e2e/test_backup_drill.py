"""The backup drill as an operator runs it: a database filled through the API,
``scripts/backup_drill.py drill`` (pg_dump and pg_restore on PostgreSQL, the
online ``.backup`` on SQLite), then a tampered photo and a dropped timeline row
that its check must catch."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from handlers.cases.photos import storage_keys
from tests.e2e.procs import ROOT, worker_env
from tests.helpers import file_case, jpeg_bytes, login, make_staff, upload_photo
from tests.s3fake import MotoS3

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts" / "backup_drill.py"


@pytest.fixture(params=["s3", "local"])
def settings(request: pytest.FixtureRequest, settings: Any) -> Any:
    if request.param == "local":
        return settings
    moto_s3: MotoS3 = request.getfixturevalue("moto_s3")
    return moto_s3.use_bucket(settings, moto_s3.new_bucket())


@pytest.fixture
def target_url(settings: Any, tmp_path: Path) -> Iterator[str]:
    """A database the drill restores into; it must not exist yet."""
    if settings.database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(settings.database_url)
    target = url.set(database=f"{url.database}_restored").render_as_string(hide_password=False)
    yield target
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}_restored" WITH (FORCE)'))
    admin.dispose()


def _fill(client: Any, services: Any) -> dict[str, Any]:
    """Three cases: one filed with photos, one accepted, one resolved with evidence."""
    resident = login(client, "drill-resident")
    handler = make_staff(client, services, "综合执法局", "handler", "drill-handler")
    # Three different photos: the same bytes twice would share one stored object.
    photos = [upload_photo(client, resident, jpeg_bytes(color=(10, 20 + 60 * i, 30))) for i in range(2)]
    file_case(client, resident, photo_ids=[p["id"] for p in photos])
    accepted = file_case(client, resident, description="楼下有人遛狗不拴绳，已经好几次了")
    resolved = file_case(client, resident, description="草坪上有大型犬没有拴绳乱跑")
    for case in (accepted, resolved):
        answer = client.post(f"/api/v1/staff/cases/{case['id']}/accept", json={}, headers=handler)
        assert answer.status_code == 200, answer.get_json()
    progress = {"note": "已联系物业上门劝导"}
    assert (
        client.post(
            f"/api/v1/staff/cases/{resolved['id']}/progress", json=progress, headers=handler
        ).status_code
        == 200
    )
    evidence = upload_photo(client, handler, jpeg_bytes(color=(200, 20, 30)))
    done = client.post(
        f"/api/v1/staff/cases/{resolved['id']}/resolve",
        json={"note": "已劝导犬主拴绳", "photo_ids": [evidence["id"]]},
        headers=handler,
    )
    assert done.status_code == 200, done.get_json()
    return {"photos": photos, "accepted": accepted, "resolved": resolved}


def _drill(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = worker_env(settings, ROOT / "config" / "county.yaml")
    env.update(
        {
            "PHOTO_STORAGE": settings.photo_storage,
            "S3_BUCKET": settings.s3_bucket,
            "S3_PREFIX": settings.s3_prefix,
            "S3_ENDPOINT_URL": settings.s3_endpoint_url,
            "AWS_REGION": settings.aws_region,
            "AWS_ACCESS_KEY_ID": settings.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": settings.aws_secret_access_key,
        }
    )
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _overwrite(services: Any, settings: Any, key: str, data: bytes) -> None:
    """Change an object behind the product's back (its own put never overwrites)."""
    store = services.photos
    if settings.photo_storage == "s3":
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=data)
    else:
        (Path(settings.photo_dir) / key).write_bytes(data)


def test_the_drill_brings_back_cases_timelines_and_photos_and_its_check_catches_tampering(
    client: Any, services: Any, settings: Any, target_url: str, tmp_path: Path
) -> None:
    cases = _fill(client, services)
    backup_dir = tmp_path / "backup"
    drill = _drill(settings, "drill", "--out", str(backup_dir), "--target-url", target_url, "--keep")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "drill passed" in drill.stdout
    assert "cases by status (accepted 1=1, dispatched 1=1, resolved 1=1): ok" in drill.stdout
    assert "timelines (3 cases," in drill.stdout
    assert "photos (3 rows, 6 objects against 6 in the manifest): ok" in drill.stdout
    assert (
        (backup_dir / ("database.sqlite3" if target_url.startswith("sqlite") else "database.dump"))
        .stat()
        .st_size
    )

    def check() -> subprocess.CompletedProcess[str]:
        return _drill(settings, "check", "--from", str(backup_dir), "--database-url", target_url)

    key = storage_keys(cases["photos"][0]["sha256"])[0]
    original = services.photos.get(key)
    _overwrite(services, settings, key, b"not the photo that was backed up")
    tampered = check()
    assert tampered.returncode == 1
    assert f"{key} differs from the manifest's SHA-256" in tampered.stdout
    assert "check FAILED: 1 problem(s)" in tampered.stdout
    _overwrite(services, settings, key, original)
    assert check().returncode == 0

    restored = create_engine(target_url)
    with restored.begin() as conn:
        conn.execute(
            text("DELETE FROM case_events WHERE case_id = :id AND kind = 'accepted'"),
            {"id": cases["accepted"]["id"]},
        )
    restored.dispose()
    dropped = check()
    assert dropped.returncode == 1
    assert f"case {cases['accepted']['id']}: 3 timeline events at backup, 2 restored" in dropped.stdout


def test_the_drill_refuses_to_restore_over_an_existing_database(
    settings: Any, app: Any, tmp_path: Path
) -> None:
    answer = _drill(settings, "drill", "--out", str(tmp_path / "b"), "--target-url", settings.database_url)
    assert answer.returncode == 2
    assert "exists" in answer.stderr
