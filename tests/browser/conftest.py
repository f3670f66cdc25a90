"""Browser tests: the app served on a free loopback port by a threaded
werkzeug server (with the fake WeChat), driven by Playwright in Debian's
Chromium (apt-get install chromium fonts-noto-cjk; Playwright's own browser
download is not used). Screenshots go to build/screenshots/console/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots" / "console"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        "browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    """The app on a free loopback port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def shot() -> Any:
    """Save a full-page screenshot of a main page under build/screenshots/console/."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
