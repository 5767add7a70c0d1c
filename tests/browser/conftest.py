"""Real-browser fixtures: Debian's Chromium driven by Playwright, against one real server process per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.server_process import ROOT, ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(chromium_path, tmp_path_factory, model_cache):
    """One real `escalator serve` for every browser test, with a known admin password."""
    from tests.browser.helpers import ADMIN_PASSWORD

    workdir = tmp_path_factory.mktemp("browser-server")
    process = ServerProcess(workdir, f"sqlite:///{workdir / 'escalator.db'}", model_cache)
    process.env["ESCALATOR_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser(chromium_path):
    # Module scope: Playwright's sync API keeps an event loop of its own, so it is not left running
    # while the other test packages (which use asyncio themselves) run.
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # the first answers wait on the real encoder
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def pages(browser, server):
    """New browser contexts on demand (one per person), each watched for dialogs, page errors and CSP reports."""
    from tests.browser.helpers import Contexts

    contexts = Contexts(browser, server.base)
    yield contexts
    contexts.close()
    contexts.assert_clean()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
