"""Test setup: a real database (SQLite by default, PostgreSQL when DATABASE_URL says so),
migrated with the project's own migrations, and the real app behind an HTTP client.

Tests isolate by organization: each test makes its own tenant(s), which is also how the
product keeps tenants apart."""

from __future__ import annotations

import os
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


@pytest.fixture
def api(http, request) -> Client:
    return Client(http, language="en" if request.node.get_closest_marker("english") else None)


@pytest.fixture
def tenants(api) -> TenantFactory:
    return TenantFactory(api)


# Browser tests: live_server, browser, browser_page (tests/browser.py).
pytest_plugins = ["tests.browser"]
