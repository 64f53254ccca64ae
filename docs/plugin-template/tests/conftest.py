"""The CRM's pytest plugin provides crm_org, crm_installation, crm_jobs, crm_http...; this file
says what to install (the plugin name comes from `crm_plugin` in pyproject.toml) and starts the
local Example SMS (tests/simulator.py) the plugin talks to over HTTP."""

import pytest

from tests.simulator import API_TOKEN, WEBHOOK_SECRET, ExampleSmsSimulator


@pytest.fixture(scope="session")
def gateway_server():
    with ExampleSmsSimulator() as server:
        yield server


@pytest.fixture
def gateway(gateway_server):
    gateway_server.reset()  # no messages, no faults, no recorded requests
    return gateway_server


@pytest.fixture
def crm_plugin_config(gateway):
    # The kit's CRM lets plugins reach 127.0.0.1 over http (production allows only public https).
    return {"sender": "MyShop", "api_url": gateway.url}


@pytest.fixture
def crm_plugin_secrets():
    return {"api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET}
