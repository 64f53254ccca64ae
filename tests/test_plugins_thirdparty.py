"""A third-party plugin, built as a wheel and installed with pip into this very environment,
is discovered through its `crm.plugins` entry point, installed and configured by an
organization and receives its webhooks, with no change to the server. Its own test suite,
written with the CRM's pytest fixtures, passes in a fresh process.

The plugin is docs/plugin-template (so the documented template is tested too), renamed
with a random suffix so concurrent runs do not trip over each other."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from server.core.models import OutboxEvent
from server.organizations.models import Organization
from server.plugins.manager import list_plugins, reset_manager
from server.plugins.testing import CONFIGURE, INSTALL, PLUGINS, TEST_CONNECTION

TEMPLATE = Path(__file__).resolve().parent.parent / "docs" / "plugin-template"
TOKEN = "tp-api-token"
WEBHOOK_SECRET = "tp-webhook-secret"


@dataclass
class ThirdParty:
    name: str  # plugin (entry point) name
    module: str  # import name
    dist: str  # distribution name
    source: Path


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)  # noqa: S603


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    tp = ThirdParty(
        name=f"example-sms-{suffix}",
        module=f"crm_example_sms_{suffix}",
        dist=f"crm-example-sms-{suffix}",
        source=tmp_path_factory.mktemp("plugin") / "src",
    )
    shutil.copytree(TEMPLATE, tp.source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    (tp.source / "crm_example_sms").rename(tp.source / tp.module)
    for path in tp.source.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".toml", ".md"):
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("example-sms", tp.name).replace("crm_example_sms", tp.module), "utf-8")
    wheels = tp.source.parent / "wheels"
    _pip("wheel", "--no-deps", "-w", str(wheels), str(tp.source))
    (wheel,) = wheels.glob("*.whl")
    _pip("install", "--no-deps", str(wheel))
    try:
        reset_manager()  # what restarting the server after `pip install` does
        yield tp
    finally:
        _pip("uninstall", "-y", tp.dist)
        reset_manager()


def _template_simulator(tp: ThirdParty):
    spec = importlib.util.spec_from_file_location(f"{tp.module}_simulator", tp.source / "tests" / "simulator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signed(report: dict, secret: str = WEBHOOK_SECRET) -> dict:
    body = json.dumps(report).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"content": body, "headers": {"content-type": "application/json", "x-example-signature": signature}}


def test_the_installed_package_is_discovered(third_party):
    rows = {row["name"]: row for row in list_plugins()}
    row = rows[third_party.name]
    assert row["error"] is None and row["version"] == "0.1.0"
    assert row["capabilities"] == ["messaging", "webhooks"]
    assert row["source"] == f"entry point of {third_party.dist} 0.1.0"


def test_crm_plugins_list_shows_it(third_party):
    """What an operator runs after `pip install`: a fresh process lists the plugin."""
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows[third_party.name]["capabilities"] == ["messaging", "webhooks"]
    assert rows[third_party.name]["error"] is None
    table = subprocess.run(
        [sys.executable, "-m", "server.cli", "plugins", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "200"},  # a wide terminal: rich wraps cells to fit
    ).stdout
    assert third_party.name in table and "messaging, webhooks" in table


async def test_an_organization_installs_configures_and_receives_its_webhooks(third_party, api, tenants, http):
    t = await tenants.create(("owner",))
    plugins = {p["name"]: p for p in (await t.owner.data(api, PLUGINS))["plugins"]}
    schema = {f["name"]: f for f in plugins[third_party.name]["configSchema"]}
    assert schema["api_token"]["secret"] and schema["sender"]["required"]

    payload = (
        await t.owner.data(
            api,
            INSTALL,
            {
                "i": {
                    "plugin": third_party.name,
                    "config": {"sender": "Shop"},
                    "secrets": {"api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET},
                }
            },
        )
    )["installPlugin"]
    assert payload["errors"] == []
    inst = payload["installation"]
    assert inst["secretsSet"] == ["api_token", "webhook_secret"]
    configured = (
        await t.owner.data(api, CONFIGURE, {"i": {"id": inst["id"], "version": 1, "config": {"sender": "MyShop"}}})
    )["configurePlugin"]
    assert configured["errors"] == [] and configured["installation"]["config"] == {"sender": "MyShop"}

    # Its connection test runs against its own simulator (the template's tests/simulator.py).
    simulator = _template_simulator(third_party)
    with simulator.ExampleSmsSimulator() as gateway:
        # A new address needs the secrets again (they would otherwise go to it unasked).
        secrets = {"api_token": simulator.API_TOKEN, "webhook_secret": WEBHOOK_SECRET}
        change = {"id": inst["id"], "version": 2, "config": {"sender": "MyShop", "api_url": gateway.url}}
        configured = (await t.owner.data(api, CONFIGURE, {"i": {**change, "secrets": secrets}}))["configurePlugin"]
        assert configured["errors"] == []
        tested = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": inst["id"]}}))["testPluginConnection"]
    assert tested["ok"] is True and "12.50 UAH" in tested["message"]
    authorization = f"Bearer {simulator.API_TOKEN}"
    assert [(r.path, r.headers["authorization"]) for r in gateway.requests] == [("/v1/account", authorization)]

    # Its webhook: verified, normalized, applied once.
    path = urlsplit(payload["webhookUrl"]).path
    assert path.startswith(f"/hooks/{third_party.name}/")
    report = {"id": "msg_42", "status": "delivered"}
    for _ in range(2):
        response = await http.post(path, **signed(report))
        assert (response.status_code, response.json()) == (200, {"ok": True})
    assert (await http.post(path, **signed(report, "forged"))).status_code == 403
    org = await Organization.get(slug=t.slug)
    events = await OutboxEvent.filter(organization_id=org.id, topic="message.status").values_list("payload", flat=True)
    assert [(e["plugin"], e["provider_message_id"], e["status"]) for e in events] == [
        (third_party.name, "msg_42", "delivered")
    ]


def test_its_own_tests_pass_with_the_crm_pytest_kit(third_party):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=third_party.source,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
