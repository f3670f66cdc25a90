"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
TEST_DATABASE names a server), a fake WeChat on loopback, the application."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.fakewechat import FakeWeChat

ROOT = Path(__file__).resolve().parent.parent
# The message-push key of the tests' mini-program (43 characters, as WeChat's admin console makes them).
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

# The S3-compatible store (moto's server mode) for the photo-storage tests.
pytest_plugins = ["tests.s3fake"]


def _migrate(url: str) -> None:
    from app.migrate import upgrade

    upgrade(url)


class TestDatabase:
    """One migrated database per test worker; each test starts from empty tables."""

    def __init__(self, tmp: Path):
        self.server = os.environ.get("TEST_DATABASE", "")
        self.tmp = tmp
        if self.server:
            base = make_url(self.server)
            self.name = f"cases_test_{uuid.uuid4().hex[:12]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.template_url = base.set(database=self.name).render_as_string(hide_password=False)
        else:
            self.template = tmp / "template.db"
            self.template_url = f"sqlite:///{self.template}"
        _migrate(self.template_url)
        self.counter = 0

    @property
    def is_postgres(self) -> bool:
        return bool(self.server)

    def fresh(self) -> str:
        """A URL of an empty, migrated database for one test."""
        if self.is_postgres:
            from app.models import Base

            engine = create_engine(self.template_url)
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            engine.dispose()
            return self.template_url
        self.counter += 1
        path = self.tmp / f"test-{self.counter}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self) -> None:
        if self.is_postgres:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    database = TestDatabase(tmp_path_factory.mktemp("db"))
    yield database
    database.drop()


@pytest.fixture(scope="session")
def fake_wechat_server() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_wechat(fake_wechat_server: FakeWeChat) -> FakeWeChat:
    fake_wechat_server.reset()
    return fake_wechat_server


@pytest.fixture
def database_url(test_database: TestDatabase) -> str:
    return test_database.fresh()


@pytest.fixture
def settings(database_url: str, fake_wechat: FakeWeChat, tmp_path: Path) -> Any:
    from app.settings import Settings

    return Settings.from_env(
        {
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-of-at-least-32-characters",
            "WECHAT_API_BASE": fake_wechat.base_url,
            "WECOM_API_BASE": fake_wechat.base_url,
            "WECOM_CORP_ID": "ww-test-corp",
            "WECOM_SECRET": "wecom-secret",
            "WECOM_AGENT_ID": "1000002",
            "WECHAT_TOKEN": "test-push-token",
            "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY,
            "PHOTO_DIR": str(tmp_path / "photos"),
            # Where WeChat's image check would fetch photos; the `live` fixture serves it.
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        }
    )


@pytest.fixture
def app(settings: Any) -> Iterator[Any]:
    from app import create_app
    from handlers.seed import seed_reference

    application = create_app(settings)
    application.config["TESTING"] = True
    services = application.extensions["services"]
    seed_reference(services.context())
    yield application
    services.close()


@pytest.fixture
def services(app: Any) -> Any:
    return app.extensions["services"]


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@dataclass
class Live:
    """The test's application served over HTTP on loopback, as WeChat reaches it."""

    base_url: str
    fake: FakeWeChat

    @property
    def callback(self) -> str:
        return f"{self.base_url}/wechat/callback"


@pytest.fixture
def live(app: Any, services: Any, settings: Any, fake_wechat: FakeWeChat) -> Iterator[Live]:
    """Serves ``app`` on a free loopback port, makes it the public address
    its photo links are built on, and points the fake WeChat's pushes at its
    /wechat/callback (signed with the tests' token and key)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    services.photo_links.public_base_url = base
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    fake_wechat.configure_push(
        f"{base}/wechat/callback",
        settings.wechat_token,
        aes_key=settings.wechat_encoding_aes_key,
        appid=settings.wechat_appid,
    )
    yield Live(base, fake_wechat)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _every_app_a_test_makes_is_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests build extra apps (another process, another clock): their pooled
    connections are closed when the test ends, not whenever the garbage
    collector finds them (a warning, which fails a later test)."""
    from app.services import Services

    made: list[Services] = []
    real_init = Services.__init__

    def init(self: Services, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Services, "__init__", init)
    yield
    for services in made:
        services.close()
