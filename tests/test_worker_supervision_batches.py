"""A `crm worker` killed -9 in the middle of a *batch* send (server/notifications/batch.py): a
burst of orders goes out in batch jobs; the worker dies while TurboSMS holds one batch's
messages; another worker sends the other batches, and no customer gets a message twice or
none. Real Redis, real worker processes, the TurboSMS simulator; every wait is bounded.

Needs Redis, like tests/test_jobs_faults.py (whose fixtures and helpers these tests share)."""

from __future__ import annotations

import json
import signal
import time

from tests import test_jobs_faults as faults
from tests.test_cli import ok
from tests.test_jobs_faults import NOTIFICATIONS, crm_python, start_worker, stop, wait_for
from tests.test_worker_supervision import BATCH

fresh_db, redis_url, env = faults.fresh_db, faults.redis_url, faults.env

BATCH_SIZE = 10

MORE_ORDERS = r"""
import asyncio, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.accounts.service import create_account
        from server.auth.models import User
        from server.auth.principal import for_user
        from server.auth.scope import Scope
        from server.orders.service import create_order
        scope = Scope(await for_user(await User.get(email="owner@shop.example"), "shop"))
        for phone in sys.argv[1:]:
            account = await create_account(scope, {"name": f"Клієнт {phone}", "phones": [phone]})
            item = {"sku": "A", "title": "Чайник", "quantity": 1, "unit_price": 100}
            await create_order(scope, {"account_id": account.id, "items": [item]})
    finally:
        await close_db()

asyncio.run(main())
"""


def test_a_worker_killed_in_the_middle_of_a_batch_send_every_customer_has_exactly_one_message(env, tmp_path):
    """Ten new orders at once: their notifications go in one batch send job, and TurboSMS holds
    the ten messages (it takes them, slowly). With the whole batch in flight the worker is
    killed. Twenty more orders come while no worker runs. Another worker starts: it sends the
    twenty (two more batches), and marks the ten the killed worker had handed over as
    interrupted instead of sending them again. At the provider every customer has exactly one
    message; in the CRM nothing is left queued or sending."""
    from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator

    env = {
        **env,
        "CRM_JOB_MODULES": "",  # only the application's jobs
        "JOB_TIMEOUT_SECONDS": "15",  # above TurboSMS's slowness here
        "JOB_BATCH_MIN": "5",
        "JOB_BATCH_SIZE": str(BATCH_SIZE),
    }
    phones = [f"+38063{n:07d}" for n in range(1, 31)]
    first_ten, later = phones[:BATCH_SIZE], phones[BATCH_SIZE:]
    with TurboSMSSimulator() as sim:
        ok(crm_python(BATCH, [sim.url, TEST_TOKEN, *first_ten], env))
        sim.delay(8, count=BATCH_SIZE, path="/message/send.json")
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        first = start_worker(env, logs[0])
        sends = lambda: len(sim.requests_to("/message/send.json"))  # noqa: E731
        try:
            wait_for(lambda: sends() >= BATCH_SIZE, "the batch's sends under way", 60, logs)
            assert sends() == BATCH_SIZE  # one batch, all of it in flight at once
            first.send_signal(signal.SIGKILL)  # in the middle of the batch: no cleanup, no ack
            first.wait(timeout=10)
        finally:
            stop(first)
        assert "notifications.send_batch(" in logs[0].read_text()  # it was a batch job
        ok(crm_python(MORE_ORDERS, later, env))
        second = start_worker(env, logs[1])
        try:

            def settled() -> bool:
                rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
                return len(rows) == len(phones) and all(r["state"] not in ("queued", "sending") for r in rows)

            wait_for(settled, "all thirty notifications settled by the other worker", 120, logs)
            time.sleep(9)  # TurboSMS has answered the held requests; anything sent twice shows
            rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
            assert second.poll() is None
        finally:
            stop(second)
        with sim.lock:
            received = sorted(m.recipient for m in sim.messages.values())
        batch_jobs = logs[1].read_text().count("notifications.send_batch(")
    assert received == sorted(p.lstrip("+") for p in phones)  # every customer exactly once
    assert sends() == len(phones)  # nothing was sent again
    states = sorted(r["state"] for r in rows)
    assert states == ["failed"] * BATCH_SIZE + ["sent"] * len(later), json.dumps(rows, ensure_ascii=False)
    assert all("Надсилання перервалося" in r["reason"] for r in rows if r["state"] == "failed")
    assert batch_jobs >= 3  # the killed worker's batch again, and the twenty in two batches
