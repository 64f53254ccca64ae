"""Partner webhooks with real Redis and a real `crm worker` process: events made while Redis is
away wait in the outbox, a receiver that answers 503 at first gets each webhook again after the
backoff, and in the end each event arrives exactly once per endpoint, correctly signed.

Needs Redis like tests/test_jobs_faults.py (whose fixtures and helpers it shares)."""

from __future__ import annotations

import json
import subprocess
import sys

import redis
from standardwebhooks import Webhook

from server.graphql import ids
from tests import test_jobs_faults
from tests.test_jobs_faults import RELAY, ROOT, Outage, crm_python, ok, start_worker, stop, wait_for
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
        url = redis.connection.parse_url(redis_url)
        outage = Outage((url.get("host", "127.0.0.1"), int(url.get("port", 6379))))
        proxied = f"redis://127.0.0.1:{outage.port}/{url.get('db', 0)}"
        relay = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
            [sys.executable, "-c", RELAY, proxied],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "relay.log").open("w"),
            text=True,
        )

        def relay_pass() -> dict:
            relay.stdin.write("go\n")
            relay.stdin.flush()
            line = relay.stdout.readline()
            assert line, (tmp_path / "relay.log").read_text()
            return json.loads(line)

        try:
            assert json.loads(relay.stdout.readline() or "{}").get("ready"), (tmp_path / "relay.log").read_text()
            outage.cut()
            assert relay_pass()["undispatched"] == 3  # Redis away: the events wait in the outbox
            outage.restore()
            assert relay_pass()["undispatched"] == 0
        finally:
            relay.stdin.close()
            relay.wait(timeout=30)
            outage.close()

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
