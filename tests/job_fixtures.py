"""Job functions for the job machinery's own tests (registered by importing this module; worker
processes import it through CRM_JOB_MODULES). They only react to accounts named "job-test ...",
so other tests' events pass them by."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from server.accounts.models import Account
from server.activities.models import Activity
from server.jobs.registry import Event, on_event
from server.plugins.types import PluginError

PREFIX = "job-test"
CALLS: dict[str, list[str]] = {}  # in-process tests: handler name -> event ids, one per attempt


async def _account(event: Event) -> Account | None:
    account = await Account.get_or_none(id=event.payload["account_id"])
    return account if account is not None and account.name.startswith(PREFIX) else None


async def note_once(account: Account, key: str) -> None:
    """The side effect, written idempotently: one note per key whatever the number of runs."""
    subject = f"{PREFIX} {key}"
    if not await Activity.filter(account_id=account.id, kind="note", subject=subject).exists():
        await Activity.create(
            organization_id=account.organization_id,
            account_id=account.id,
            kind="note",
            subject=subject,
            occurred_at=datetime.now(UTC),
        )


@on_event("account.created", name="test.note")
async def note(event: Event) -> None:
    account = await _account(event)
    if account is None:
        return
    CALLS.setdefault("test.note", []).append(str(event.id))
    markers = os.environ.get("CRM_TEST_MARKERS")
    if markers:  # worker processes: count runs across processes
        with (Path(markers) / f"note-{event.id}").open("a") as handle:
            handle.write("run\n")
    await note_once(account, str(event.id))


@on_event("account.created", name="test.flaky")
async def flaky(event: Event) -> None:
    """Fails while the account's name says so: "job-test flaky N" fails N times, then works."""
    account = await _account(event)
    if account is None or ("flaky" not in account.name and "refused" not in account.name):
        return
    calls = CALLS.setdefault("test.flaky", [])
    calls.append(str(event.id))
    if "refused" in account.name:
        raise PluginError("The provider refused this for good.", retryable=False)
    if calls.count(str(event.id)) <= int(account.name.rsplit(" ", 1)[1]):
        raise PluginError("The provider is down.", retryable=True)
    await note_once(account, f"flaky {event.id}")


@on_event("account.created", name="test.slow")
async def slow(event: Event) -> None:
    """For the worker-killed test: the first run of each event hangs (the test kills the worker
    then), later runs write the note. Attempts are counted in files under CRM_TEST_MARKERS."""
    account = await _account(event)
    markers = os.environ.get("CRM_TEST_MARKERS")
    if account is None or not markers or "slow" not in account.name:
        return
    attempts = Path(markers) / str(event.id)
    first = not attempts.exists()
    with attempts.open("a") as handle:
        handle.write("run\n")
    if first:
        await asyncio.sleep(120)
    await note_once(account, f"slow {event.id}")
