"""Surveys open from outbox events: an order reaching the organization's survey status, a
ticket resolved. Each handler may run twice or on two workers at once: the survey is unique
per order or ticket and its message unique per survey and channel, so nothing is doubled."""

from __future__ import annotations

from server.jobs.registry import Event, on_event, on_events
from server.jobs.runner import event_of, retry_alone
from server.notifications.jobs import queue_survey
from server.surveys import service
from server.surveys.models import Survey


async def _queue(survey: Survey | None) -> None:
    if survey is not None and survey.answered_at is None:
        await queue_survey(survey, service.TRIGGERS[survey.kind])


ORDER_STATUS_JOB = "surveys.on_order_status"


@on_events("order.status_changed", name=ORDER_STATUS_JOB)
async def on_order_status(event: Event | None = None, events: list[Event] | None = None) -> None:
    """A batch handler: each organization's survey settings are read once per batch, and only
    the changes to its survey status open a survey (each as before); one that fails is
    retried alone (server/jobs/runner.py ``retry_alone``)."""
    batch = event_of(event, events)
    options = {org: await service.settings_of(org) for org in dict.fromkeys(e.organization_id for e in batch)}
    failed: list[tuple[Event, Exception]] = []
    for e in batch:
        chosen = options[e.organization_id]
        if not chosen.nps_enabled or (e.payload.get("to") or "") != chosen.nps_status:
            continue
        try:
            survey = await service.open_for_order(
                e.organization_id, e.payload["order_id"], e.payload.get("to") or "", e.created_at
            )
            await _queue(survey)
        except Exception as exc:
            failed.append((e, exc))
    if failed and len(batch) == 1:
        raise failed[0][1]  # the job itself is that change: it retries
    for e, _ in failed:
        await retry_alone(ORDER_STATUS_JOB, e)


@on_event("ticket.status_changed", name="surveys.on_ticket_status")
async def on_ticket_status(event: Event) -> None:
    survey = await service.open_for_ticket(
        event.organization_id, event.payload["ticket_id"], event.payload.get("to") or "", event.created_at
    )
    await _queue(survey)
