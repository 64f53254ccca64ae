"""Partner webhooks with real Redis and a real `crm worker` process: events made while Redis is
away wait in the outbox, a receiver that answers 503 at first gets each webhook again after the
backoff, and in the end each event arrives exactly once per endpoint, correctly signed.

Needs Redis like tests/test_jobs_faults.py (whose fixtures and helpers it shares)."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from server.graphql import ids
from tests import test_jobs_faults
from tests.test_jobs_faults import crm_python, ok, relay_behind_outage, start_worker, stop, wait_for
from tests.webhook_receiver import Receiver

fresh_db = test_jobs_faults.fresh_db
redis_url = test_jobs_faults.redis_url
env = test_jobs_faults.env

SEED = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    settings = Settings()
    await init_db(settings)
    try:
        from server.accounts.service import create_account
        from server.auth.scope import Scope
        from server.organizations.models import Organization
        from server.webhooks.service import create_endpoint
        organization = await Organization.get(slug="shop")
        admin = Scope.for_app(organization, "test:seed", "webhooks")
        endpoint, secret = await create_endpoint(admin, settings, {"url": sys.argv[1]})
        scope = Scope.for_app(organization, "test:seed", "plugin-webhook")
        accounts = [str((await create_account(scope, {"name": f"Outage {n}"})).id) for n in range(int(sys.argv[2]))]
        print(json.dumps({"secret": secret, "accounts": accounts}))
    finally:
        await close_db()

asyncio.run(main())
"""


def test_webhooks_survive_redis_going_away_and_a_failing_receiver(env, redis_url, tmp_path):
    receiver = Receiver(script=[(503, 0)] * 3).start()  # the first try of each: "down for maintenance"
    try:
        seeded = json.loads(ok(crm_python(SEED, [receiver.url, "3"], env)))
        with relay_behind_outage(env, redis_url, tmp_path) as (outage, relay_pass):
            assert relay_pass()["undispatched"] == 3  # Redis away: the events wait in the outbox
            outage.restore()
            assert relay_pass()["undispatched"] == 0

        log = tmp_path / "worker.log"
        worker = start_worker(env, log)
        try:
            # Three 503s, then each retry 5 s later gets through.
            wait_for(lambda: len(receiver.requests) >= 6, "six requests (3 refused, 3 retried)", 90, [log])
        finally:
            stop(worker)
    finally:
        receiver.stop()

    assert len(receiver.requests) == 6, [r.headers["webhook-id"] for r in receiver.requests]
    webhook = Webhook(seeded["secret"])
    by_id: dict[str, list[dict]] = {}
    for request in receiver.requests:
        by_id.setdefault(request.headers["webhook-id"], []).append(webhook.verify(request.body, request.headers))
    assert len(by_id) == 3 and all(len(tries) == 2 for tries in by_id.values())
    delivered = sorted(tries[0]["data"]["id"] for tries in by_id.values())
    assert delivered == sorted(ids.encode("Account", account) for account in seeded["accounts"])
