"""Fixtures of the browser journeys: one real server and one Chromium per test session.

With pytest-xdist each worker process is a session of its own, so each starts its own server
(free port, own temporary data dir) and browser.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Playwright, expect, sync_playwright

from telederm.e2e.browser import AXE_PATH, Personas, screenshot_dir
from telederm.e2e.journeys import Journeys
from telederm.e2e.server import DemoServer
from telederm.testing import service_missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    # Assertions wait for the page up to 15 s (Playwright's 5 s is tight on a busy machine).
    expect.set_options(timeout=15_000)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if executable is None:
        service_missing("chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    if not AXE_PATH.exists():
        service_missing("chromium", f"{AXE_PATH} missing (make install runs npm ci)")
    try:
        browser = playwright_driver.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
    except Error as exc:
        service_missing("chromium", f"Chromium did not start: {exc}")
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    demo = DemoServer(tmp_path_factory.mktemp("e2e-server"))
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="session")
def personas(browser: Browser, server: DemoServer) -> Personas:
    return Personas(browser, server)


@pytest.fixture(scope="session")
def journeys(
    personas: Personas, server: DemoServer, tmp_path_factory: pytest.TempPathFactory
) -> Journeys:
    (screenshot_dir() / "axe-notes.txt").unlink(missing_ok=True)
    return Journeys(personas, server, tmp_path_factory.mktemp("e2e-photos"))
