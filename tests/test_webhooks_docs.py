"""docs/webhooks.md's code runs: its receiver (a real process on 127.0.0.1) gets, verifies and
deduplicates the CRM's webhooks, and its reconcile loop pages through changesSince."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.jobs.inprocess import run_until_idle
from server.webhooks.models import WebhookEndpoint
from tests.test_webhooks import REDELIVER, UPDATE_ACCOUNT, add_endpoint, deliveries, new_account

DOC = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def code_block(name: str) -> str:
    """The ```python block right after the `<!-- name: ... -->` marker."""
    match = re.search(rf"<!-- {re.escape(name)}:.*?-->\s*```python\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/webhooks.md has no {name} block"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):  # 15 s at most
        assert process.returncode is None, await process.communicate()
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the receiver of docs/webhooks.md did not start listening")


@pytest.fixture
async def shop(tenants):
    tenant = await tenants.create(("admin", "manager"))
    yield tenant
    await WebhookEndpoint.filter(organization__slug=tenant.slug).delete()  # its receiver is gone


async def test_the_documented_receiver_verifies_and_deduplicates(api, shop, database, tmp_path):
    port = free_port()
    endpoint, secret = await add_endpoint(api, shop.admin, f"http://127.0.0.1:{port}/hooks/crm")
    script = tmp_path / "receiver.py"
    script.write_text(code_block("receiver.py"))
    environment = os.environ | {"WEBHOOK_SECRET": secret, "PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_listening(port, process)
        account = await new_account(api, shop.manager, "Docs")
        await run_until_idle(database)
        [delivered] = await deliveries(api, shop.admin, endpoint["id"])
        assert delivered["status"] == "SUCCEEDED"
        assert delivered["attempts"][0]["statusCode"] == 204

        # A redelivery (same webhook-id) is answered but not applied twice.
        await shop.admin.data(api, REDELIVER, {"id": delivered["id"]})
        data = await shop.manager.data(api, UPDATE_ACCOUNT, {"i": {"id": account, "version": 1, "name": "Docs 2"}})
        assert data["updateAccount"]["errors"] == []
        await run_until_idle(database)
        statuses = [a["statusCode"] for d in await deliveries(api, shop.admin, endpoint["id"]) for a in d["attempts"]]
        assert statuses == [204, 204, 204]

        # A request the CRM did not sign is refused.
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                f"http://127.0.0.1:{port}/hooks/crm",
                content=b'{"type":"order.created","data":{}}',
                headers={
                    "webhook-id": "msg_x",
                    "webhook-timestamp": str(int(time.time())),
                    "webhook-signature": "v1,AAAA",
                },
            )
        assert forged.status_code == 400
    finally:
        process.terminate()
        out, err = (b.decode() for b in await asyncio.wait_for(process.communicate(), timeout=10))
    applied = [line for line in out.splitlines() if line.startswith("applied:")]
    assert [line.split()[1:3] for line in applied] == [["account.created", account], ["account.updated", account]], (
        out,
        err,
    )


async def test_the_documented_reconcile_loop_pages_through_changes(api, shop, database):
    names = [f"Reconcile {n}" for n in range(3)]
    created = [await new_account(api, shop.manager, name) for name in names]
    namespace: dict = {}
    exec(compile(code_block("reconcile.py"), "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own docs
    seen: dict[str, dict] = {}
    headers = {"Authorization": f"Bearer {shop.admin.token}", "X-Organization": shop.slug}
    app = create_app(database, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
    ) as client:
        cursor = await namespace["reconcile"](client, None, lambda kind, data: seen.__setitem__(data["id"], data))
        assert [seen[i]["name"] for i in created] == names
        # Nothing changed since: the same cursor comes back, with nothing to apply.
        seen.clear()
        assert (
            await namespace["reconcile"](client, cursor, lambda kind, data: seen.__setitem__(data["id"], data))
            == cursor
        )
        assert seen == {}
