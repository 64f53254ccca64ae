"""pytest fixtures for plugin authors: run your plugin inside a real CRM.

Active wherever the CRM package is installed (``pytest11`` entry point ``crm``). Every
fixture name starts with ``crm_`` and none is autouse, so it stays out of the way of a
project's own fixtures. Needs pytest-asyncio; set in your pyproject::

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "session"
    asyncio_default_test_loop_scope = "session"
    crm_plugin = "smsfly"          # the plugin under test (or override crm_plugin_name)

Fixtures:

- ``crm_settings`` (session): CRM settings for tests. SQLite in memory, or a throwaway
  PostgreSQL database when ``CRM_TEST_DATABASE_URL`` / ``DATABASE_URL`` is a postgres URL.
  ``allow_local_providers`` is on, so your plugin may call a simulator on 127.0.0.1 over
  plain http (production refuses such addresses: server/plugins/egress.py); the same holds for
  hooks your tests call directly.
- ``crm_database`` (session): Tortoise initialised and migrated with the CRM's migrations.
- ``crm_app`` (session): the CRM's Starlette app (``create_app``).
- ``crm_http`` (session): an ``httpx.AsyncClient`` on the app; requests come from 127.0.0.1.
- ``crm_org`` (function): a new organization with a signed-in owner
  (``crm_org.owner`` is a GraphQL client; ``crm_org.add_member("sales")`` adds others).
- ``crm_plugin_name``, ``crm_plugin_config``, ``crm_plugin_secrets`` (function): what to
  install; override them in your conftest.py (the name defaults to the ``crm_plugin`` ini value).
- ``crm_installation`` (function): the plugin installed and configured in ``crm_org``
  through ``installPlugin``, an ``InstalledPlugin`` with ``webhook_url`` and ``post_webhook()``.
- ``crm_register_plugin`` (function): ``crm_register_plugin(obj, "name")`` registers a plugin
  object that is not installed as a package, for this test only.
- ``crm_jobs`` (function): the CRM's background jobs. Nothing runs them by itself here (no
  worker): a mutation or a webhook only queues them; ``await crm_jobs.run()`` runs every job
  due, and the jobs those queue, until none is left (``later=timedelta(...)`` for delayed
  ones); ``await crm_jobs.failed()`` lists the jobs of this test that failed for good, with
  their errors.

The helpers behind them are in ``server.plugins.testing``.
"""

from __future__ import annotations

import os
import uuid

import pytest

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the kit needs pytest-asyncio; without it, no fixtures
    pytest_asyncio = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("crm_plugin", "Name of the CRM plugin under test (for the crm_installation fixture).", default="")


def pytest_configure(config: pytest.Config) -> None:
    # Test suites run their providers' simulators on 127.0.0.1: let ProviderClient reach them
    # when a test calls a hook directly (outside the CRM, which applies its own setting).
    from server.plugins import egress

    egress.set_default(True)


def _pg(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def _admin_dsn(url: str) -> str:
    return url.replace("asyncpg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


if pytest_asyncio is not None:

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def crm_settings():
        from server.config import Settings

        url = os.environ.get("CRM_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
        temp_db = None
        if _pg(url):
            import asyncpg

            base = _admin_dsn(url)
            temp_db = f"crm_plugin_test_{uuid.uuid4().hex[:10]}"
            conn = await asyncpg.connect(base)
            await conn.execute(f'CREATE DATABASE "{temp_db}"')
            await conn.close()
            url = base.rsplit("/", 1)[0] + "/" + temp_db
        else:
            url = "sqlite://:memory:"
        yield Settings(
            database_url=url, secret_key="crm-plugin-kit-" + uuid.uuid4().hex, debug=True, allow_local_providers=True
        )
        if temp_db:
            conn = await asyncpg.connect(base)
            await conn.execute(f'DROP DATABASE IF EXISTS "{temp_db}" WITH (FORCE)')
            await conn.close()

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def crm_database(crm_settings):
        from server.db import close_db, init_db, migrate

        await init_db(crm_settings)
        await migrate(crm_settings)
        # Jobs queue in the database, as in the embedded server; crm_jobs runs them.
        from server.jobs import load_job_modules
        from server.jobs.inprocess import DatabaseBackend
        from server.jobs.registry import set_backend

        load_job_modules()
        set_backend(DatabaseBackend())
        yield crm_settings
        await close_db()

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def crm_app(crm_database):
        from server.app import create_app

        return create_app(crm_database, manage_db=False)

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def crm_http(crm_app):
        import httpx

        transport = httpx.ASGITransport(app=crm_app, client=("127.0.0.1", 40123))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client

    @pytest_asyncio.fixture(loop_scope="session")
    async def crm_org(crm_http):
        from server.plugins.testing import create_organization

        return await create_organization(crm_http)

    @pytest.fixture
    def crm_plugin_name(request: pytest.FixtureRequest) -> str:
        name = request.config.getini("crm_plugin")
        if not name:
            pytest.fail(
                'Say which plugin to install: `crm_plugin = "name"` in [tool.pytest.ini_options], '
                "or override the crm_plugin_name fixture."
            )
        return name

    @pytest.fixture
    def crm_plugin_config() -> dict:
        return {}

    @pytest.fixture
    def crm_plugin_secrets() -> dict:
        return {}

    @pytest_asyncio.fixture(loop_scope="session")
    async def crm_installation(crm_org, crm_plugin_name, crm_plugin_config, crm_plugin_secrets):
        from server.plugins.manager import get_manager
        from server.plugins.testing import install_plugin

        manager = get_manager()
        if manager.get(crm_plugin_name) is None:
            problem = manager.errors.get(crm_plugin_name) or "no `crm.plugins` entry point by that name is installed"
            pytest.fail(
                f"The CRM did not load plugin '{crm_plugin_name}': {problem}. "
                "Install your package (pip install -e .) or use crm_register_plugin."
            )
        return await install_plugin(
            crm_org.owner, crm_plugin_name, config=crm_plugin_config, secrets=crm_plugin_secrets
        )

    @pytest_asyncio.fixture(loop_scope="session")
    async def crm_jobs(crm_database):
        from server.plugins.testing import Jobs

        return await Jobs.start(crm_database)

    @pytest.fixture
    def crm_register_plugin():
        from server.plugins.manager import get_manager

        manager = get_manager()
        registered: list[str] = []

        def register(obj, name: str):
            loaded = manager.register(obj, name)
            registered.append(name)
            return loaded

        yield register
        for name in registered:
            manager.unregister(name)
