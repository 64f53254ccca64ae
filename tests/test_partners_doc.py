"""docs/partners.md's examples run as written: every code block after a ``<!-- tested: name -->``
marker is run against the app served on a loopback port — GraphQL as the shop's admin, bash
(curl) in a shell and Python in a fresh interpreter — with only ``$CRM`` and the credentials
set, as the quickstart tells a partner to set them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.test_oauth_code import REDIRECT, authorize_params, code_from, exchange, pkce, register_app
from tests.test_oauth_install import UPDATE, consent_with
from tests.test_orders import create_order, make_account

DOC = Path(__file__).parent.parent / "docs" / "partners.md"
INHERITED = ("PATH", "HOME", "LANG", "PYENV_ROOT", "PYENV_VERSION")  # what any shell has; no credentials
MARKED = re.compile(r"<!-- tested: ([\w-]+) -->\n```(\w+)\n(.*?)\n```", re.S)


def marked_blocks() -> dict[str, tuple[str, str]]:
    """name -> (language, code) of every block marked for testing."""
    return {name: (lang, code) for name, lang, code in MARKED.findall(DOC.read_text(encoding="utf-8"))}


async def run(language: str, code: str, env: dict[str, str]) -> str:
    """Runs a block in its own process; the live server keeps serving in this event loop meanwhile."""
    command = ["bash", "-euo", "pipefail", "-c", code] if language == "bash" else [sys.executable, "-c", code]
    process = await asyncio.create_subprocess_exec(
        *command,
        env={**{k: v for k, v in os.environ.items() if k in INHERITED}, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, f"{language} example failed: {err.decode()}"
    return out.decode()


@pytest.fixture
async def shop_with_order(api, tenants):
    shop = await tenants.create(("owner",))
    order = await create_order(shop.owner, api, await make_account(shop.owner, api))
    return shop, order["order"]["number"]


def test_every_marked_block_has_a_runner():
    assert set(marked_blocks()) == {"register", "curl-orders", "python-orders", "viewer", "curl-installed"}
    assert shutil.which("curl"), "curl is needed to run the documented examples"


async def test_the_quickstart_runs_as_written(live_server, api, shop_with_order):
    shop, number = shop_with_order
    blocks = marked_blocks()

    # 1. The admin registers the app with the documented mutation.
    language, mutation = blocks["register"]
    assert language == "graphql"
    registered = (await shop.owner.data(api, mutation))["createOAuthClient"]
    assert registered["errors"] == [] and registered["client"]["scopes"] == ["orders:read"]
    env = {
        "CRM": live_server,
        "CLIENT_ID": registered["client"]["clientId"],
        "CLIENT_SECRET": registered["clientSecret"],
    }

    # 3a. curl: the documented query, with statuses, on the doc's scope alone.
    answer = json.loads(await run(*blocks["curl-orders"], env))
    assert "errors" not in answer, answer
    [edge] = answer["data"]["orders"]["edges"]
    assert edge["node"]["number"] == number and edge["node"]["status"]["code"]
    assert edge["node"]["total"]["currency"]

    # 3b. Python with Authlib and httpx prints one line per order.
    printed = (await run(*blocks["python-orders"], env)).split()
    assert printed[0] == str(number) and printed[1] == edge["node"]["status"]["code"]
    assert printed[2:] == [edge["node"]["total"]["amount"], edge["node"]["total"]["currency"]]

    # 4. viewer, with a token got as the quickstart gets it.
    token_script = blocks["curl-orders"][1].split("\ncurl")[0] + '\necho "$TOKEN"'
    token = (await run("bash", token_script, env)).strip()
    viewer = json.loads(await run(*blocks["viewer"], env | {"TOKEN": token}))["data"]["viewer"]
    assert viewer["credential"] == "OAUTH_APP" and viewer["organization"]["slug"] == shop.slug
    assert viewer["scopes"] == ["orders:read"] and "order_statuses:read" in viewer["permissions"]


async def test_the_installed_app_example_runs_as_written(live_server, http, api, tenants, shop_with_order):
    shop, _number = shop_with_order
    partner = await tenants.create(("owner",))
    app = await register_app(api, partner.owner, REDIRECT)
    await partner.owner.data(api, UPDATE, {"i": {"id": app["id"], "installable": True}})
    verifier, challenge = pkce()
    approved = await consent_with(http, authorize_params(app, REDIRECT, challenge), shop.owner.email)
    assert (await exchange(http, app, code_from(approved), verifier, REDIRECT)).status_code == 200

    env = {"CRM": live_server, "CLIENT_ID": app["client_id"], "CLIENT_SECRET": app["client_secret"]}
    answer = json.loads(await run(*marked_blocks()["curl-installed"], env | {"SHOP": shop.slug}))
    assert answer["organization"] == shop.slug and answer["access_token"].startswith("crm_oat_")
    orders = await api.data("{ orders(first: 5) { totalCount } }", token=answer["access_token"])
    assert orders["orders"]["totalCount"] == 1
