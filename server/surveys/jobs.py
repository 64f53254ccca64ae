"""Surveys open from outbox events: an order reaching the organization's survey status, a
ticket resolved. Each handler may run twice or on two workers at once: the survey is unique
per order or ticket and its message unique per survey and channel, so nothing is doubled."""

from __future__ import annotations

from server.jobs.registry import Event, on_event
from server.notifications.jobs import queue_survey
from server.surveys import service
from server.surveys.models import Survey


async def _queue(survey: Survey | None) -> None:
    if survey is not None and survey.answered_at is None:
        await queue_survey(survey, service.TRIGGERS[survey.kind])


@on_event("order.status_changed", name="surveys.on_order_status")
async def on_order_status(event: Event) -> None:
    survey = await service.open_for_order(
        event.organization_id, event.payload["order_id"], event.payload.get("to") or "", event.created_at
    )
    await _queue(survey)


@on_event("ticket.status_changed", name="surveys.on_ticket_status")
async def on_ticket_status(event: Event) -> None:
    survey = await service.open_for_ticket(
        event.organization_id, event.payload["ticket_id"], event.payload.get("to") or "", event.created_at
    )
    await _queue(survey)
