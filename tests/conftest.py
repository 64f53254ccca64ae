"""Test setup: a real database (SQLite by default, PostgreSQL when DATABASE_URL says so),
migrated with the project's own migrations, and the real app behind an HTTP client.

Tests isolate by organization: each test makes its own tenant(s), which is also how the
product keeps tenants apart."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import traceback
import uuid

os.environ.setdefault("CRM_PROFILE", "test")

import httpx
import pytest

from server.app import create_app
from server.config import Settings
from server.db import close_db, init_db, migrate, scratch_postgres_database
from server.i18n import use_locale
from server.jobs import load_job_modules
from server.jobs.inprocess import DatabaseBackend
from server.jobs.registry import set_backend
from server.plugins import egress
from tests.helpers import Client, TenantFactory


@pytest.fixture(scope="session")
async def settings():
    # Own counters per run: login throttling state in Redis must not leak between runs.
    # The request budgets are lifted: the shared test apps send thousands of requests a minute with
    # a few tokens, anonymous ones from one address (tests/test_rate_limits.py sets its own limits).
    settings = Settings().model_copy(
        update={
            "rate_limit_namespace": f"crm-test-{uuid.uuid4().hex[:10]}",
            "rate_limit_per_token": "10000000/minute",
            "rate_limit_per_organization": "30000000/minute",
            "rate_limit_per_address": "10000000/minute",
        }
    )
    if not settings.is_postgres:
        yield settings
        return
    # A throwaway database per run, so every run starts from the committed migrations.
    async with scratch_postgres_database(settings.database_url, "crm_test") as url:
        yield settings.model_copy(update={"database_url": url})


@pytest.fixture(scope="session")
async def database(settings):
    await init_db(settings)
    await migrate(settings)
    # Jobs as the embedded server runs them: queued in the database; tests run them with
    # server.jobs.inprocess.run_until_idle (the ASGI app here does not start the worker loop).
    load_job_modules()
    set_backend(DatabaseBackend())
    yield settings
    await egress.close_pools()  # the provider connections kept by the session's sends
    await close_db()


@pytest.fixture(scope="session")
async def http(database):
    app = create_app(database, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "english: the test reads the API's messages in English: its GraphQL client sends Accept-Language: en "
        "and code it calls directly (plugins, services) runs in English. Unmarked tests get the Ukrainian default.",
    )


@pytest.fixture(autouse=True)
async def _language(request):
    """English for tests marked ``english`` (their assertions predate the Ukrainian catalogs)."""
    if request.node.get_closest_marker("english") is None:
        yield None
        return
    with use_locale("en"):
        yield "en"


_DEADLINE = pytest.StashKey[float]()
_PRINT_BEFORE = 20  # seconds before pytest-timeout ends the worker


@pytest.hookimpl(optionalhook=True)
def pytest_timeout_set_timer(item, settings):
    """pytest-timeout starting a test's clock, with the limit it settled on (marker, command
    line, ini): noted for the fixture below; the plugin's own timer is set all the same. A
    limit that leaves no room for the printer (a short ``--timeout``) gets none: it would print
    every test's tasks at its start."""
    if settings.timeout and settings.timeout > _PRINT_BEFORE + 10:
        item.stash[_DEADLINE] = time.monotonic() + settings.timeout


@pytest.fixture(autouse=True)
async def _tasks_shown_before_a_timeout(request):
    """What a hung test waits for, printed a little before pytest-timeout (pyproject.toml) ends
    its worker: the event loop's tasks (the main thread only shows the loop in select()) and
    every thread's stack (the plugin's own dump is lost with an xdist worker's capture)."""
    deadline = request.node.stash.get(_DEADLINE, None)
    if deadline is None:  # no time limit, or pytest-timeout is not loaded
        yield
        return
    loop, capture = asyncio.get_running_loop(), request.config.pluginmanager.getplugin("capturemanager")
    timer = threading.Timer(
        max(deadline - _PRINT_BEFORE - time.monotonic(), 0), _print_tasks, (loop, capture, request.node.nodeid)
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _print_tasks(loop: asyncio.AbstractEventLoop, capture, test: str) -> None:
    from pytest_timeout import is_debugging

    if is_debugging():  # someone sits in pdb: pytest-timeout leaves them alone, and so does this
        return
    # The test is stuck, so its output capture can be let go from here; otherwise this would
    # go to the capture file that the ended worker never reports.
    capture.suspend_global_capture(in_=True)
    print(f"\n=== {test} is about to time out; the tasks of its event loop:", file=sys.stderr)
    for task in asyncio.all_tasks(loop):  # from another thread: only read, and it retries while they change
        task.print_stack(file=sys.stderr)
    print(f"=== {test}: its threads", file=sys.stderr)
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            print(f"--- thread {ident}", file=sys.stderr)
            traceback.print_stack(frame, file=sys.stderr)
    sys.stderr.flush()


@pytest.fixture
def api(http, request) -> Client:
    return Client(http, language="en" if request.node.get_closest_marker("english") else None)


@pytest.fixture
def tenants(api) -> TenantFactory:
    return TenantFactory(api)


# Browser tests: live_server, browser, browser_page (tests/browser.py).
pytest_plugins = ["tests.browser"]
