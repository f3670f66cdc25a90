"""Two hosts, as docs/deploy.md lays them out: on each a gunicorn (started
in a directory of its own with ``--config gunicorn.conf.py``, its own
``PROMETHEUS_MULTIPROC_DIR``, photos in the shared S3 bucket, JSON logs) and
a worker, all sharing one PostgreSQL, one Redis, the S3 store (moto) and the
fake WeChat.

A photo uploaded through host A is served by host B; residents file through
both; WeChat goes away for a while; host A's worker is killed (SIGKILL) in
the middle of a send. Afterwards every notification was received by WeChat
exactly once, every escalation step is on each timeline once, and the
hosts' /metrics add up: the sum of ``cases_filed_total`` over both is the
number of cases filed, of ``notifications_sent_total`` what WeChat received,
of ``escalations_total`` the steps recorded; each worker's send is logged
under the ``X-Request-ID`` of the filing that caused it.

PostgreSQL only (SKIP LOCKED, several hosts): the PostgreSQL pass runs it on
``TEST_DATABASE``'s server; the SQLite pass runs it too, on a database it
makes on the local server (127.0.0.1:5432), and skips only when no
PostgreSQL answers there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from app.migrate import upgrade
from app.models import Case, CaseEvent, Escalation, Notification, Subscription
from app.services import Services
from app.settings import Settings
from handlers.accounts import bind_staff, invite_staff, login_with_wechat
from handlers.notifications.subscriptions import record_answers
from handlers.seed import seed_reference
from tests.e2e.procs import ROOT, fast_config, wait_until, worker_env
from tests.fakewechat import FakeWeChat
from tests.helpers import jpeg_bytes
from tests.ownservers import OwnRedis, free_port
from tests.s3fake import MotoS3

pytestmark = pytest.mark.slow

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TOKEN = "two-hosts-metrics-token-0123456789abcdef"
TEMPLATES = ("TPL_NEW_CASE_PLACEHOLDER", "TPL_ESCALATION_PLACEHOLDER")
PER_ROUND = 2  # cases filed through each host in each of the three rounds
SENDS = ("cgi-bin/message/subscribe/send", "cgi-bin/message/send")  # subscribe, WeCom


def _postgres_server() -> str:
    server = os.environ.get("TEST_DATABASE", "")
    return server if server.startswith("postgresql") else LOCAL_POSTGRES


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database of our own on the PostgreSQL server, migrated."""
    base = make_url(_postgres_server())
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"cases_two_hosts_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: say so and why
        admin.dispose()
        pytest.skip(f"the two-host run needs PostgreSQL; none answers at {base.host}:{base.port}: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_server() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


@dataclass
class Host:
    name: str
    base: str
    worker: Any
    logs: list[Path]


def _env(
    settings: Settings, config: Path, home: Path, redis: OwnRedis, s3: MotoS3, bucket: str
) -> dict[str, str]:
    env = worker_env(
        settings,
        config,
        REDIS_URL=redis.url,
        LOG_FORMAT="json",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(home / "metrics"),
        PYTHONPATH=str(ROOT),
        **s3.env(bucket),
    )
    env.pop("PHOTO_DIR", None)
    return env


def _start_hosts(stack: ExitStack, envs: dict[str, dict[str, str]], tmp: Path) -> list[Host]:
    """Both hosts' gunicorn and worker started at once (each in its own
    directory, gunicorn with ``--config gunicorn.conf.py`` as the systemd
    unit runs it); answers once both gunicorns answer /healthz."""
    gunicorn_bin = str(Path(sys.executable).parent / "gunicorn")
    hosts = []
    for name, env in envs.items():
        home = tmp / f"host-{name}"
        logs = [home / "web.log", home / "worker.log"]
        port = free_port()
        web = subprocess.Popen(
            [gunicorn_bin, "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "2", "app:create_app()"],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stack.enter_context(logs[0].open("wb")),
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stack.enter_context(logs[1].open("wb")),
        )
        stack.callback(_stop, web)
        stack.callback(_stop, worker)
        hosts.append(Host(name, f"http://127.0.0.1:{port}", worker, logs))
    assert wait_until(lambda: all(_healthy(h.base) for h in hosts), 45, 0.2), [
        p.read_text()[-2000:] for h in hosts for p in h.logs
    ]
    return hosts


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _scrape(base: str) -> dict[str, float]:
    """Each metric's samples summed over their labels."""
    response = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text
    sums: Counter[str] = Counter()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            sums[sample.name] += sample.value
    return dict(sums)


def _lines(path: Path) -> list[dict[str, Any]]:
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            found.append(json.loads(raw))  # every line is one JSON object
    return found


def _staff(services: Services) -> None:
    """The one member of staff every notification goes to, with quota to spare."""
    ctx = services.context()
    user = login_with_wechat(ctx, "user-two-hosts-staff:1")
    code, _ = invite_staff(ctx, "综合执法局", "handler")
    bind_staff(ctx, user.id, code)
    record_answers(ctx, user.id, dict.fromkeys(TEMPLATES, "accept"))
    with services.db.uow() as uow:
        uow.session.execute(update(Subscription).where(Subscription.user_id == user.id).values(quota=500))
        uow.commit()


class Filer:
    """Residents filing through either host, each filing under its own X-Request-ID."""

    def __init__(self, hosts: list[Host], community: int) -> None:
        self.hosts, self.community = hosts, community
        self.tokens: dict[str, str] = {}
        self.request_ids: list[str] = []

    def login(self, host: Host, name: str) -> str:
        answer = requests.post(
            f"{host.base}/api/v1/auth/wechat-login", json={"code": f"user-{name}:1"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        self.tokens[host.name] = answer.json()["token"]
        return str(self.tokens[host.name])

    def file(self, host: Host, photo_ids: list[str] | None = None) -> dict[str, Any]:
        request_id = f"two-hosts-{len(self.request_ids)}"
        answer = requests.post(
            f"{host.base}/api/v1/cases",
            json={
                "category": "dog_unleashed",
                "community_id": self.community,
                "description": f"第{len(self.request_ids)}件：小区里遛狗不拴绳",
                "photo_ids": photo_ids or [],
            },
            headers={"Authorization": f"Bearer {self.tokens[host.name]}", "X-Request-ID": request_id},
            timeout=15,
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["X-Request-ID"] == request_id
        self.request_ids.append(request_id)
        return answer.json()  # type: ignore[no-any-return]

    def round(self) -> None:
        for host in self.hosts:
            for _ in range(PER_ROUND):
                self.file(host)


def _sent_rows(services: Services) -> int:
    with services.db.uow() as uow:
        return int(
            uow.session.scalar(select(func.count(Notification.id)).where(Notification.status == "sent"))
        )


def _settled(services: Services) -> bool:
    """Nothing left to send and every case at the top of its ladder."""
    with services.db.uow() as uow:
        s = uow.session
        pending = s.scalar(select(func.count(Notification.id)).where(Notification.status == "pending"))
        climbing = s.scalar(select(func.count(Case.id)).where(Case.next_escalation_at.is_not(None)))
    return pending == 0 and climbing == 0


def test_two_hosts_share_photos_send_once_and_their_metrics_add_up(
    postgres_url: str, redis_server: OwnRedis, moto_s3: MotoS3, fake_wechat: FakeWeChat, tmp_path: Path
) -> None:
    started = time.monotonic()
    config = fast_config(tmp_path)
    settings = Settings.from_env(
        {
            "APP_ENV": "development",
            "DATABASE_URL": postgres_url,
            "SECRET_KEY": "two-hosts-secret-of-at-least-32-characters",
            "WECHAT_TOKEN": "two-hosts-push-token",
            "WECHAT_API_BASE": fake_wechat.base_url,
            "WECOM_API_BASE": fake_wechat.base_url,
            "CASES_CONFIG": str(config),
        }
    )
    services = Services(settings)
    seed_reference(services.context())
    _staff(services)
    bucket = moto_s3.new_bucket()
    with ExitStack() as stack:
        stack.callback(services.close)
        envs = {}
        for name in ("a", "b"):
            home = tmp_path / f"host-{name}"
            home.mkdir()
            envs[name] = _env(settings, config, home, redis_server, moto_s3, bucket)
        hosts = _start_hosts(stack, envs, tmp_path)
        a, b = hosts
        up = time.monotonic()
        community = requests.get(f"{a.base}/api/v1/communities?q=幸福里", timeout=10).json()["items"][0]["id"]
        filer = Filer(hosts, community)
        filer.login(a, "two-hosts-resident-a")
        filer.login(b, "two-hosts-resident-b")

        # A photo uploaded through A is served through B (the shared bucket).
        photo = jpeg_bytes()
        uploaded = requests.post(
            f"{a.base}/api/v1/photos",
            files={"file": ("photo.jpg", photo, "image/jpeg")},
            headers={"Authorization": f"Bearer {filer.tokens['a']}"},
            timeout=15,
        )
        assert uploaded.status_code == 201, uploaded.text
        link = urlsplit(uploaded.json()["url"])  # absolute or from the root: served by any host
        owner = {"Authorization": f"Bearer {filer.tokens['a']}"}
        via_b = requests.get(f"{b.base}{link.path}?{link.query}", headers=owner, timeout=15)
        via_a = requests.get(f"{a.base}{link.path}?{link.query}", headers=owner, timeout=15)
        assert via_b.status_code == via_a.status_code == 200
        assert via_b.content[:2] == b"\xff\xd8" and via_b.content == via_a.content
        filer.file(a, photo_ids=[uploaded.json()["id"]])

        # Round one; A's worker is killed while sends are in flight (held by
        # WeChat) and every send WeChat answered is on record: a send accepted
        # whose record dies with its process is a second push no protocol can
        # prevent (WeChat's send takes no idempotency key), not this test's subject.
        fake_wechat.set_mode(hold_paths=SENDS, hold_after=2)
        filer.round()
        assert wait_until(
            lambda: len(fake_wechat.sent) >= 2
            and fake_wechat.state.in_flight >= 1
            and _sent_rows(services) == len(fake_wechat.sent),
            20,
            0.005,
        )
        a.worker.send_signal(signal.SIGKILL)
        a.worker.wait()
        fake_wechat.set_mode(hold_paths=None)

        # Round two while WeChat answers nothing but 502.
        fake_wechat.set_mode(down=True)
        filer.round()
        time.sleep(2)
        fake_wechat.set_mode(down=False)

        filer.round()
        assert wait_until(lambda: _settled(services), 60, 0.5), "the outbox or the ladders never settled"
        time.sleep(2.5)  # past any lease: nothing more may go out
        settled = time.monotonic()

        scraped = [_scrape(host.base) for host in hosts]
        logs = {path: _lines(path) for host in hosts for path in host.logs}

    filed = len(filer.request_ids)
    assert filed == 1 + 3 * PER_ROUND * 2
    received = fake_wechat.sent
    with services.db.uow() as uow:
        s = uow.session
        cases = s.scalar(select(func.count(Case.id)))
        sent_rows = list(s.scalars(select(Notification).where(Notification.status == "sent")))
        other_rows = s.scalar(select(func.count(Notification.id)).where(Notification.status != "sent"))
        steps = s.scalar(select(func.count(Escalation.id)))
        events = [
            (e.case_id, e.data["deadline"], e.step)
            for e in s.scalars(select(CaseEvent).where(CaseEvent.kind == "escalated"))
        ]
    assert cases == filed

    # Every notification received by WeChat exactly once.
    assert other_rows == 0
    msgids = [m["msgid"] for m in received]
    assert len(msgids) == len(set(msgids)) == len(sent_rows)
    assert sorted(int(r.remote_id) for r in sent_rows) == sorted(msgids)
    assert len(sent_rows) >= filed  # one new_case each, and escalation steps
    # Every escalation step once, on the timeline as in the table.
    assert steps and len(events) == steps and len(set(events)) == len(events)

    # Both hosts' /metrics add up to what happened.
    total = {name: sum(s.get(name, 0.0) for s in scraped) for name in scraped[0]}
    assert total["cases_filed_total"] == filed
    assert (
        min(s.get("cases_filed_total", 0.0) for s in scraped) >= 1 + 3 * PER_ROUND - 1
    )  # each host counted its own
    assert total["notifications_sent_total"] == len(received)
    assert total["escalations_total"] == steps
    assert total["escalation_sweep_seconds_count"] > 0
    assert total["notifications_failed_total"] >= 1  # the sends WeChat refused while away
    assert [s["outbox_pending"] for s in scraped] == [0, 0]
    assert scraped[0]["cases_overdue"] == scraped[1]["cases_overdue"] == filed

    # Each send is logged under the id of the request that filed it.
    sends = [
        line
        for path, lines in logs.items()
        if path.name == "worker.log"
        for line in lines
        if line.get("channel") == "subscribe"
    ]
    filings = {line["request_id"] for line in sends if str(line["request_id"]).startswith("two-hosts-")}
    assert filings == set(filer.request_ids)
    assert all(str(line["request_id"]).startswith(("two-hosts-", "job-sweep-")) for line in sends)
    access = [line for path, lines in logs.items() if path.name == "web.log" for line in lines]
    assert {line["request_id"] for line in access if line.get("event") == "http_request"} >= set(
        filer.request_ids
    )
    # Run with -s for the figures; the run itself (hosts up to settled) is bounded.
    print(f"two hosts: up in {up - started:.1f} s, settled {settled - up:.1f} s later, {len(received)} sends")
    assert settled - up < 60, settled - up
