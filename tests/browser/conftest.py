"""Browser tests: the real server (``cartwatch serve``) driven by Debian's Chromium.

A session fixture seeds a temporary installation (SQLite in a temporary data dir, see
seed.py), starts ``cartwatch serve`` on a free loopback port and launches
``/usr/bin/chromium`` through Playwright (never a downloaded browser). Screenshots go to
``artifacts/screenshots/`` (gitignored) for people to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CARTWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

sys.path.insert(0, str(Path(__file__).parent))
from seed import PASSWORD  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cartwatch() -> str:
    exe = Path(sys.executable).with_name("cartwatch")
    return str(exe) if exe.exists() else shutil.which("cartwatch") or "cartwatch"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    data_dir = tmp_path_factory.mktemp("cartwatch-browser")
    env = {**os.environ, "CARTWATCH_DATA_DIR": str(data_dir), "CARTWATCH_TIME_ZONE": "UTC"}
    env.pop("DATABASE_URL", None)  # the SQLite default
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, str(Path(__file__).with_name("seed.py"))], env=env, check=True)
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [_cartwatch(), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"cartwatch serve did not start; see {data_dir / 'server.log'}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    # CSP violations and script errors show up on the console: the tests fail on them.
    # "Failed to load resource" is Chromium logging a non-2xx response, e.g. the expected
    # 422 of live grading while a form is still incomplete, or a 404 the test asked for.
    pg.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def login(page: Page, username: str, password: str = PASSWORD, *, welcome: bool = False) -> None:
    """Sign in. A user's first sign-in lands on the welcome page; unless *welcome*, go on to
    the role's usual start, so a scenario does not depend on which test signed in first."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/accounts/login/" not in u)
    if not welcome and page.url.endswith("/welcome/"):
        page.goto("/")


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
