"""Sending webhooks: sign, POST, record the attempt, and decide what comes next.

- Signature: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)
  made by the ``standardwebhooks`` package; during a secret rotation's overlap the header
  carries two signatures, space separated, and a receiver accepts either.
- Tries: one job per try, with the job id ``webhooks.deliver:<message>:<tries so far>:<due
  time>``, so a try is enqueued at most once however often it is scheduled. A try that finds
  the message moved on (delivered, redelivered, resumed, tried by someone else) does nothing.
- Retries: any answer but 2xx, a timeout or a connection error is tried again after
  ``RETRY_SCHEDULE`` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h: ten tries over three
  days); then the message has failed.
- Disabling: an endpoint whose last ``WEBHOOK_DISABLE_AFTER_FAILED`` messages in a row failed
  (each after three days of tries) is disabled and its organization's owners and admins get a
  task. Messages keep being recorded for it (pending); enabling it again sends them, and those
  that failed since its last delivered one, oldest first (``resume``).
- Egress: the same rules as plugins (public https only, checked when connecting:
  server/plugins/egress.py), no redirects followed. A batch's requests use the endpoint's
  kept-alive connections (``egress.pooled``), shared with the endpoint's next batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
from standardwebhooks import Webhook
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.activities.models import Activity
from server.audit import service as audit
from server.auth.models import Membership
from server.auth.scope import Scope
from server.config import Settings
from server.i18n import N_, gettext_in
from server.jobs.registry import enqueue
from server.organizations.models import Organization
from server.plugins import egress
from server.plugins.egress import EgressRefused, EgressTransport
from server.webhooks.events import TEST_EVENT
from server.webhooks.models import RESPONSE_EXCERPT_CHARS, WebhookAttempt, WebhookEndpoint, WebhookMessage
from server.webhooks.secrets import signing_secrets

log = logging.getLogger("crm.webhooks")

DELIVER_JOB = "webhooks.deliver"
DELIVER_BATCH_JOB = "webhooks.deliver_batch"
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s) for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 20 * 3600)
)
USER_AGENT = "crm-webhooks/1"
ADMIN_ROLES = ("owner", "admin")


def app_scope(organization: Organization) -> Scope:
    """The CRM's own webhook work in ``organization`` (the app role ``webhooks``)."""
    return Scope.for_app(organization, "webhooks", "webhooks")


def body_of(message: WebhookMessage) -> str:
    """The exact bytes that are signed and sent (compact JSON)."""
    return json.dumps(message.payload, ensure_ascii=False, separators=(",", ":"))


def sign(secrets: list[str], message_id: str, moment: datetime, body: str) -> str:
    """``v1,<base64>`` per secret, space separated (Standard Webhooks)."""
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)


def message_id(message: WebhookMessage) -> str:
    return f"msg_{message.event_id.hex}"


async def _post(
    settings: Settings, url: str, headers: dict, body: str, client: httpx.AsyncClient | None = None
) -> tuple[int | None, str, str]:
    """(status code or None, the answer's first KB, error); over ``client`` (a batch's) or a
    client of its own."""
    if client is None:
        timeout = httpx.Timeout(settings.webhook_timeout_seconds)
        transport = EgressTransport(allow_local=settings.allow_local_providers)
        async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False) as own:
            return await _post(settings, url, headers, body, own)
    try:
        async with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            excerpt = b""
            async for chunk in response.aiter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_CHARS:
                    break  # the rest is not read: an answer's size is the receiver's business
            text = excerpt.decode("utf-8", "replace")[:RESPONSE_EXCERPT_CHARS]
            return response.status_code, text, ""
    except EgressRefused as exc:
        return None, "", f"address refused: {exc}"
    except httpx.TimeoutException:
        return None, "", f"no answer within {settings.webhook_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return None, "", f"{type(exc).__name__}: {exc}"[:300]
    except Exception as exc:  # recorded as this try's failure: the batch's other tries stand
        # The type only: a message could quote the endpoint's URL, credentials and all.
        log.error("a webhook POST failed unexpectedly: %s", type(exc).__name__)
        return None, "", f"{type(exc).__name__}"


async def try_once(settings: Settings, message: WebhookMessage, endpoint: WebhookEndpoint, *, trigger: str) -> bool:
    """One signed POST of ``message``, recorded; True when the receiver answered 2xx. The
    message's state moves on only if nobody else tried it meanwhile."""
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id(message),
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sign(signing_secrets(settings, endpoint, now), message_id(message), now, body_of(message)),
    }
    started = time.perf_counter()
    status, excerpt, error = await _post(settings, endpoint.url, headers, body_of(message))
    duration_ms = int((time.perf_counter() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    tries = message.attempt_count
    round_tries = message.round_attempts + 1
    if ok:
        values = {"status": "succeeded", "next_attempt_at": None}
    elif trigger == "test" or round_tries > len(RETRY_SCHEDULE):
        values = {"status": "failed", "next_attempt_at": None}
    else:
        # Counted from the answer (or the timeout), so a slow receiver still gets its pause.
        values = {"next_attempt_at": datetime.now(UTC) + RETRY_SCHEDULE[round_tries - 1]}
    values |= {"last_attempt_at": now, "last_status_code": status, "round_attempts": round_tries}
    async with in_transaction():
        await WebhookAttempt.create(
            message_id=message.id,
            attempted_at=now,
            status_code=status,
            duration_ms=duration_ms,
            response_excerpt=excerpt,
            error=error,
            trigger=trigger,
        )
        moved = await WebhookMessage.filter(id=message.id, attempt_count=tries, status="pending").update(
            attempt_count=tries + 1, updated_at=now, **values
        )
    if not moved:
        return ok  # someone else moved it on (a redelivery meanwhile): their state stands
    for name, value in values.items():
        setattr(message, name, value)
    message.attempt_count = tries + 1
    if trigger == "test":
        return ok
    if ok:
        await WebhookEndpoint.filter(id=endpoint.id, failure_streak__gt=0).update(failure_streak=0)
    elif message.status == "failed":
        await _count_failure(settings, endpoint)
    else:
        await schedule_or_leave_to_sweeper(message)
    return ok


async def deliver(message_id: str, tries: int, settings: Settings, due: int | None = None) -> str:
    """The job of one try, scheduled when the message had ``tries`` tries and was due at
    ``due`` (ms): if either changed since (tried, redelivered, resumed), this job is stale."""
    return (await deliver_many([(message_id, tries, due)], settings)).get(str(message_id), "stale")


@dataclass
class _Sent:
    message: WebhookMessage
    endpoint: WebhookEndpoint
    attempted_at: datetime
    status: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# Per worker process (event loop) and endpoint: requests in flight at once (WEBHOOK_CONCURRENCY).
_gates: dict[tuple[int, UUID], asyncio.Semaphore] = {}


def _gate(endpoint_id: UUID, settings: Settings) -> asyncio.Semaphore:
    key = (id(asyncio.get_running_loop()), endpoint_id)
    found = _gates.get(key)
    if found is None:
        found = _gates[key] = asyncio.Semaphore(max(1, settings.webhook_concurrency))
    return found


async def deliver_many(
    items: list[tuple[str, int, int | None]], settings: Settings, claimant: str | None = None
) -> dict[str, str]:
    """One try of each ``(message id, tries so far, due ms)``, as ``deliver``, for many messages
    (a batch of one endpoint, or of several) with a fixed number of SQL statements: the messages
    and endpoints are read with one query each, claimed with one conditional UPDATE per (tries,
    due time) (one for a fan-out's batch), sent concurrently (at most WEBHOOK_CONCURRENCY per
    endpoint in a worker process), one signed request per message, and recorded with one INSERT
    of the attempts and one UPDATE per kind of outcome, in one transaction. A try that failed
    and has retries left gets a job of its own; the others are done.

    The claim moves ``next_attempt_at`` to a lease (``lease_of``: the due time plus the job's
    time limit), so a second job holding the same try (the sweeper's, a duplicate batch) finds
    it stale and sends nothing. A worker killed mid-batch leaves its messages pending under that
    lease: the job's next run (a lease of the worker later) recognizes its own claim and tries
    them again (the receiver may have some already: webhooks are at least once); were the job
    lost, the sweeper hands them on when the lease ends. Each outcome: delivered, failed,
    stale, paused."""
    wanted = {UUID(str(message_id)): (tries, due) for message_id, tries, due in items}
    claimant = claimant or json.dumps([[str(i), t, d] for i, t, d in items])
    outcome: dict[str, str] = {str(i): "stale" for i in wanted}
    live: list[WebhookMessage] = []
    for message in await WebhookMessage.filter(id__in=list(wanted)).order_by("created_at", "id"):
        tries, due = wanted[message.id]
        if message.status != "pending" or message.attempt_count != tries:
            continue
        if due is not None and due_key(message.next_attempt_at) != due:
            if not claimed_by(message.next_attempt_at, due, claimant, settings):  # nor by this job's earlier run
                continue
        live.append(message)
    if not live:
        return outcome
    endpoints = {
        e.id: e
        for e in await WebhookEndpoint.filter(id__in=list({m.endpoint_id for m in live}))  # type: ignore[attr-defined]
    }
    ready = []
    for message in live:
        endpoint = endpoints.get(message.endpoint_id)  # type: ignore[attr-defined]
        if endpoint is not None and not endpoint.enabled:
            outcome[str(message.id)] = "paused"  # stays pending: enabling the endpoint schedules it again
        elif endpoint is not None:
            ready.append(message)
    leases = await _claim(ready, settings, wanted, claimant)
    ready = [m for m in ready if m.id in leases]
    if not ready:
        return outcome
    started = datetime.now(UTC)
    secrets = {e.id: signing_secrets(settings, e, started) for e in endpoints.values() if e.enabled}
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    async with contextlib.AsyncExitStack() as stack:
        # Each endpoint's kept-alive connections (egress.pooled): a slow receiver holds only its own.
        clients = {
            e.id: await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=egress.pooled(("webhook", e.id), allow_local=settings.allow_local_providers),
                    timeout=timeout,
                    follow_redirects=False,
                )
            )
            for e in endpoints.values()
            if e.enabled
        }

        async def send(message: WebhookMessage) -> _Sent:
            endpoint = endpoints[message.endpoint_id]  # type: ignore[attr-defined]
            client = clients[endpoint.id]
            async with _gate(endpoint.id, settings):
                now = datetime.now(UTC)
                body = body_of(message)
                headers = {
                    "content-type": "application/json",
                    "user-agent": USER_AGENT,
                    "webhook-id": message_id(message),
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": sign(secrets[endpoint.id], message_id(message), now, body),
                }
                began = time.perf_counter()
                status, excerpt, error = await _post(settings, endpoint.url, headers, body, client)
                duration_ms = int((time.perf_counter() - began) * 1000)
            return _Sent(message, endpoint, now, status, excerpt, error, duration_ms)

        sent = await asyncio.gather(*(send(m) for m in ready))
    moved = await _record(sent, leases, started)
    for s in sent:
        outcome[str(s.message.id)] = "delivered" if s.ok else "failed"
    await _after(settings, [s for s in sent if s.message.id in moved])
    return outcome


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _lease_base(due: int, claimant: str) -> datetime:
    offset = int(hashlib.sha256(claimant.encode()).hexdigest()[:8], 16) % 1_000_000
    return EPOCH + timedelta(milliseconds=due, microseconds=offset)


def lease_of(due: int, claimant: str, settings: Settings) -> datetime:
    """Where a claimed try's due time goes: its due time (ms), a microsecond offset that names
    the job (``claimant``), plus as many job time limits (and a request's) as put it at least
    half of one ahead. A run of the same job again (its worker died) recognizes its own claim
    (``claimed_by``); another job holding the same try does not."""
    span = timedelta(seconds=settings.job_timeout_seconds + settings.webhook_timeout_seconds)
    base = _lease_base(due, claimant)
    spans = max(1, math.ceil((datetime.now(UTC) + span / 2 - base) / span))
    return base + spans * span


def claimed_by(moment: datetime | None, due: int, claimant: str, settings: Settings) -> bool:
    if moment is None:
        return False
    span = timedelta(seconds=settings.job_timeout_seconds + settings.webhook_timeout_seconds)
    spans, rest = divmod(moment - _lease_base(due, claimant), span)
    return spans >= 1 and rest == timedelta(0)


async def _claim(
    ready: list[WebhookMessage], settings: Settings, wanted: dict[UUID, tuple[int, int | None]], claimant: str
) -> dict[UUID, datetime]:
    """Move the tries' due time to their lease, conditionally (one UPDATE per tries and due
    time: one for a fan-out's batch); the lease of each message this job got."""
    groups: dict[tuple[int, datetime | None, datetime], list[WebhookMessage]] = {}
    for message in ready:
        due = wanted[message.id][1]
        lease = lease_of(due if due is not None else due_key(message.next_attempt_at), claimant, settings)
        groups.setdefault((message.attempt_count, message.next_attempt_at, lease), []).append(message)
    leases: dict[UUID, datetime] = {}
    for (tries, due_at, lease), group in groups.items():
        ids = [m.id for m in group]
        taken = await WebhookMessage.filter(
            id__in=ids, status="pending", attempt_count=tries, next_attempt_at=due_at
        ).update(next_attempt_at=lease)
        if taken == len(group):
            mine = set(ids)
        else:  # another job took some of them meanwhile (rare): which are ours?
            mine = set(await WebhookMessage.filter(id__in=ids, next_attempt_at=lease).values_list("id", flat=True))
        for message in group:
            if message.id in mine:
                message.next_attempt_at = lease
                leases[message.id] = lease
    return leases


async def _record(sent: list[_Sent], leases: dict[UUID, datetime], started: datetime) -> set[UUID]:
    """Every request's attempt, and each message's next state if it is still ours (nobody
    redelivered it meanwhile): one INSERT and one UPDATE per kind of outcome, in one
    transaction. The ids of the messages moved on."""
    done = datetime.now(UTC)
    groups: dict[tuple, list[_Sent]] = {}
    for s in sent:
        round_tries = s.message.round_attempts + 1
        if s.ok:
            values = {"status": "succeeded", "next_attempt_at": None}
        elif round_tries > len(RETRY_SCHEDULE):
            values = {"status": "failed", "next_attempt_at": None}
        else:
            # Counted from the answers (or the timeouts), so a slow receiver still gets its pause.
            values = {"next_attempt_at": done + RETRY_SCHEDULE[round_tries - 1]}
        values |= {"last_attempt_at": started, "last_status_code": s.status, "round_attempts": round_tries}
        key = (s.message.attempt_count, leases[s.message.id], *sorted(values.items()))
        groups.setdefault(key, []).append(s)
    moved: set[UUID] = set()
    async with in_transaction() as connection:
        await WebhookAttempt.bulk_create(
            [
                WebhookAttempt(
                    message_id=s.message.id,
                    attempted_at=s.attempted_at,
                    status_code=s.status,
                    duration_ms=s.duration_ms,
                    response_excerpt=s.excerpt,
                    error=s.error,
                    trigger="scheduled",
                )
                for s in sent
            ],
            using_db=connection,
        )
        for (tries, lease, *pairs), group in groups.items():
            values = dict(pairs)
            ids = [s.message.id for s in group]
            count = (
                await WebhookMessage.filter(id__in=ids, attempt_count=tries, status="pending", next_attempt_at=lease)
                .using_db(connection)
                .update(attempt_count=tries + 1, updated_at=done, **values)
            )
            if count == len(group):
                mine = set(ids)
            else:
                mine = set(
                    await WebhookMessage.filter(id__in=ids, attempt_count=tries + 1, updated_at=done)
                    .using_db(connection)
                    .values_list("id", flat=True)
                )
            for s in group:
                if s.message.id in mine:
                    for name, value in values.items():
                        setattr(s.message, name, value)
                    s.message.attempt_count = tries + 1
            moved |= mine
    return moved


async def _after(settings: Settings, moved: list[_Sent]) -> None:
    """Failure streaks (one UPDATE for endpoints that only succeeded), disabling, and each
    failed try's retry on a job of its own."""
    streaks = {s.endpoint.id for s in moved if s.message.status == "failed"}
    reset = {s.endpoint.id for s in moved if s.ok and s.endpoint.id not in streaks}
    if reset:
        await WebhookEndpoint.filter(id__in=list(reset), failure_streak__gt=0).update(failure_streak=0)
    for s in moved:  # in the messages' order, as single tries would have counted
        if s.endpoint.id in streaks:
            if s.ok:
                await WebhookEndpoint.filter(id=s.endpoint.id, failure_streak__gt=0).update(failure_streak=0)
            elif s.message.status == "failed":
                await _count_failure(settings, s.endpoint)
        if not s.ok and s.message.status == "pending":
            await schedule_or_leave_to_sweeper(s.message)


def due_key(moment: datetime | None) -> int:
    return round(moment.timestamp() * 1000) if moment else 0


async def schedule(message: WebhookMessage) -> None:
    """Hand the message's next try to the job backend (at its ``next_attempt_at``). The job id
    names the message, its tries so far and its due time: scheduling the same try again (the
    sweeper) is a no-op, while a resumed or redelivered message (a new due time) gets a new job
    even if the old one already ran."""
    due = due_key(message.next_attempt_at)
    await enqueue(
        DELIVER_JOB,
        job_id=f"{DELIVER_JOB}:{message.id}:{message.attempt_count}:{due}",
        defer_until=message.next_attempt_at,
        message_id=str(message.id),
        tries=message.attempt_count,
        due=due,
    )


async def schedule_many(messages: list[WebhookMessage], settings: Settings) -> None:
    """Hand the next tries of many messages on: per endpoint and due time, ``JOB_BATCH_SIZE``
    messages per ``webhooks.deliver_batch`` job (id: a digest of its messages, tries and due
    times, so the same batch scheduled twice is one job); a message alone gets ``schedule``."""
    groups: dict[tuple, list[WebhookMessage]] = {}
    for message in messages:
        groups.setdefault((message.endpoint_id, message.next_attempt_at), []).append(message)  # type: ignore[attr-defined]
    size = max(1, settings.job_batch_size)
    for (_, due_at), group in groups.items():
        for start in range(0, len(group), size):
            chunk = group[start : start + size]
            if len(chunk) == 1:
                await schedule(chunk[0])
                continue
            items = [[str(m.id), m.attempt_count, due_key(m.next_attempt_at)] for m in chunk]
            digest = hashlib.sha256(json.dumps(items).encode()).hexdigest()[:32]
            await enqueue(DELIVER_BATCH_JOB, job_id=f"{DELIVER_BATCH_JOB}:{digest}", defer_until=due_at, items=items)


async def schedule_or_leave_to_sweeper(message: WebhookMessage) -> None:
    """``schedule`` after a commit: if the job backend is down (Redis away), the message is
    recorded as due all the same and the sweeper (server/webhooks/jobs.py) hands it on later."""
    try:
        await schedule(message)
    except Exception as exc:
        log.warning("webhook message %s: its try is not queued yet (the sweeper will): %s", message.id, exc)


async def restart(message: WebhookMessage) -> None:
    """A new round of tries from now (redelivery); call in a transaction, then ``schedule``."""
    now = datetime.now(UTC)
    message.status, message.round_attempts, message.next_attempt_at = "pending", 0, now
    await WebhookMessage.filter(id=message.id).update(
        status="pending", round_attempts=0, next_attempt_at=now, updated_at=now
    )


async def resume(endpoint: WebhookEndpoint) -> int:
    """Send the backlog of an endpoint enabled again, oldest first: its pending messages and
    those that failed for good since its last delivered one (the outage that disabled it).
    Older failures stay failed (``redeliverFailedWebhooks`` sends them)."""
    now = datetime.now(UTC)
    last_delivered = (
        await WebhookMessage.filter(endpoint_id=endpoint.id, status="succeeded")
        .exclude(event_type=TEST_EVENT)  # the admin's test before enabling is no delivery of the backlog
        .order_by("-last_attempt_at")
        .first()
    )
    failed = WebhookMessage.filter(endpoint_id=endpoint.id, status="failed").exclude(event_type=TEST_EVENT)
    if last_delivered is not None and last_delivered.last_attempt_at is not None:
        failed = failed.filter(last_attempt_at__gt=last_delivered.last_attempt_at)
    await failed.update(status="pending", round_attempts=0, updated_at=now)
    backlog = await WebhookMessage.filter(endpoint_id=endpoint.id, status="pending").order_by("created_at", "id")
    for position, message in enumerate(backlog):
        # Spread by a millisecond each so a queue ordered by due time keeps the events' order.
        message.next_attempt_at = now + timedelta(milliseconds=position)
        await WebhookMessage.filter(id=message.id).update(next_attempt_at=message.next_attempt_at)
        await schedule_or_leave_to_sweeper(message)
    return len(backlog)


async def _count_failure(settings: Settings, endpoint: WebhookEndpoint) -> None:
    await WebhookEndpoint.filter(id=endpoint.id).update(failure_streak=F("failure_streak") + 1)
    await endpoint.refresh_from_db(fields=["failure_streak", "enabled"])
    if endpoint.enabled and endpoint.failure_streak >= settings.webhook_disable_after_failed:
        await disable(endpoint)


async def disable(endpoint: WebhookEndpoint) -> bool:
    """Disable a failing endpoint and give each owner and admin a task about it (once: only
    the call that actually disables it writes the tasks)."""
    organization = await Organization.get(id=endpoint.organization_id)
    locale = organization.locale
    now = datetime.now(UTC)
    reason = gettext_in(
        locale,
        N_("%(count)s webhooks in a row could not be delivered in three days of retries."),
        count=endpoint.failure_streak,
    )
    async with in_transaction():
        disabled = await WebhookEndpoint.filter(id=endpoint.id, enabled=True).update(
            enabled=False, disabled_reason=reason[:300], disabled_at=now, updated_at=now, version=F("version") + 1
        )
        if not disabled:
            return False
        await audit.record(
            app_scope(organization),
            "webhook_endpoint.disable",
            endpoint,
            {"enabled": [True, False], "disabled_reason": ["", reason[:300]]},
        )
        subject = gettext_in(locale, N_("Webhook endpoint disabled: %(url)s"), url=endpoint.url)
        body = gettext_in(
            locale,
            N_(
                "%(reason)s Check the receiver (sendTestWebhook), then enable the endpoint again: "
                "the webhooks recorded meanwhile are sent then, oldest first."
            ),
            reason=reason,
        )
        admins = await Membership.filter(
            organization_id=endpoint.organization_id, role__in=ADMIN_ROLES, is_active=True
        ).values_list("user_id", flat=True)
        for user_id in admins:
            await Activity.create(
                organization_id=endpoint.organization_id,
                kind="task",
                actor_id=user_id,
                subject=subject[:300],
                body=body,
                data={"webhook_endpoint_id": str(endpoint.id)},
                occurred_at=now,
                due_at=now,
            )
    log.warning("webhook endpoint %s disabled after %d failed messages", endpoint.id, endpoint.failure_streak)
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:300], now
    return True
