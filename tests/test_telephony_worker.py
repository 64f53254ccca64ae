"""`crm worker` keeps the PBX connections: a real worker process logs in to the AMI simulator
over TCP and logs a call that the simulator plays (docs/telephony.md, "Where the connection
runs"). Needs Redis, like tests/test_worker_supervision.py."""

from __future__ import annotations

import json

import pytest

from plugins.simulators.asterisk import SECRET, USERNAME, AsteriskSimulator
from tests import test_jobs_faults as faults
from tests.test_jobs_faults import crm_python, start_worker, stop, wait_for

fresh_db, redis_url, env = faults.fresh_db, faults.redis_url, faults.env

INSTALL = r"""
import asyncio, json, sys, uuid
from datetime import UTC, datetime
from server.config import Settings
from server.db import init_db, close_db

async def main():
    settings = Settings()
    await init_db(settings)
    try:
        from server.organizations.models import Organization
        from server.plugins import crypto, service
        from server.plugins.models import PluginInstallation
        org = await Organization.get(slug="shop")
        pk = uuid.uuid4()
        await PluginInstallation.create(
            id=pk, organization_id=org.id, plugin="asterisk",
            config={"host": "127.0.0.1", "port": int(sys.argv[1]), "username": sys.argv[2]},
            secrets=crypto.encrypt(settings, str(pk), {"secret": sys.argv[3]}), secret_fields=["secret"],
            webhook_token_hash=service.token_hash(service.new_token()), webhook_token_issued_at=datetime.now(UTC),
        )
    finally:
        await close_db()

asyncio.run(main())
"""

CALLS = r"""
import asyncio, json
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.activities.models import Activity
        print(json.dumps([(a.kind, a.subject) for a in await Activity.filter(kind__in=("call", "task"))]))
    finally:
        await close_db()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def pbx():
    with AsteriskSimulator() as sim:
        yield sim


def logged(env) -> list:
    done = crm_python(CALLS, [], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_crm_worker_keeps_the_ami_connection_and_logs_a_missed_call(env, pbx, tmp_path):
    env = {**env, "ALLOW_LOCAL_PROVIDERS": "true"}
    done = crm_python(INSTALL, [str(pbx.port), USERNAME, SECRET], env)
    assert done.returncode == 0, done.stderr
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for(lambda: len(pbx.clients) == 1, "the worker's AMI login", 60, [log])
        pbx.incoming_call("0671234567", ring=("901",), answered_by=None, outcome="NOANSWER")
        wait_for(lambda: len(logged(env)) == 2, "the call and its call-back task", 60, [log])
    finally:
        stop(worker)
    assert sorted(logged(env)) == [
        ["call", "Incoming call from +380671234567 (no_answer, 0:00)"],
        ["task", "Зателефонуйте +380671234567: пропущений дзвінок"],
    ]
    assert pbx.clients == []  # SIGTERM: the worker logged off
