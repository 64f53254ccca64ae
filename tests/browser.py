"""Pages as a person opens them: the real app served over HTTP on a loopback port, in the
tests' own event loop (so it shares their database), and Debian's headless Chromium driven
by Playwright. `.ci/run` installs the `chromium` package; Playwright never downloads a browser.

Use it by requesting the fixtures, which conftest.py registers::

    async def test_page(live_server, browser_page):
        await browser_page.goto(live_server + "/graphql")
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket

import pytest
import uvicorn

from server.app import create_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium reaches for Google's services at start and on a closed network
# fills the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
async def live_server(database):
    """The base URL of the app served by uvicorn on 127.0.0.1 for the whole session."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(database, manage_db=False), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the live server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=10)


@pytest.fixture(scope="session")
async def browser():
    """Headless Debian Chromium. Missing Chromium fails the test: CI must install it."""
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM), (
        f"{CHROMIUM} not found: install Debian's chromium package (.ci/run does)"
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def browser_page(browser, live_server):
    """A fresh page whose network reaches only the live server: any other request (a CDN, a
    font service) is refused and recorded in ``page.blocked_requests``."""
    context = await browser.new_context()
    blocked: list[str] = []

    async def only_the_server(route):
        url = route.request.url
        if url.startswith(live_server) or url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
        else:
            blocked.append(url)
            await route.abort()

    await context.route("**/*", only_the_server)
    page = await context.new_page()
    page.blocked_requests = blocked
    yield page
    await context.close()
