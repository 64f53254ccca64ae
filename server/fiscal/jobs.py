"""The fiscal domain's background work (server/jobs/registry.py): receipts follow payments and
refunds; shifts close daily at each installation's ``shift_close_time``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from server.config import Settings
from server.fiscal import service
from server.fiscal.models import FiscalReceipt
from server.jobs.per_installation import slot
from server.jobs.registry import Event, enqueue, job, on_event, periodic
from server.organizations.language import speaking_for
from server.plugins.models import PluginInstallation
from server.plugins.types import PluginError

CLOSE_EVERY_SECONDS = 300.0
FOLLOW_EVERY_SECONDS = 300.0


@on_event("payment.status_changed", "payment.refunded", name="fiscal.on_payment")
async def on_payment(event: Event, *, settings: Settings) -> dict:
    """A payment became paid (card or cash on delivery) or a refund of it succeeded: issue the
    receipts it lacks. Idempotent (server/fiscal/service.py); a retryable failure is raised so
    the job system tries again with its backoff, up to JOB_MAX_TRIES."""
    payload = event.payload
    if payload.get("status") not in service.PAID_STATES:
        return {"skipped": payload.get("status")}
    if event.topic == "payment.refunded" and payload.get("refund_status") != "succeeded":
        return {"skipped": "refund not succeeded"}
    return await service.issue_for_payment(settings, event.organization_id, UUID(str(payload["payment_id"])))


@on_event("fiscal_receipt.issued_again", name="fiscal.on_receipt_again")
async def on_receipt_again(event: Event, *, settings: Settings) -> dict:
    """An admin asked for a failed receipt again (``issueFiscalReceiptAgain``): issue the new one."""
    done = await service.issue(settings, UUID(str(event.payload["receipt_id"])))
    return {"status": done.status if done is not None else "busy"}


@periodic(seconds=CLOSE_EVERY_SECONDS, name="fiscal.close_shifts")
async def schedule_shift_closes(*, now: datetime | None = None) -> int:
    """Queue ``fiscal.close_shift`` for every installation whose close time passed today."""
    due = await service.due_shift_closes(now)
    period = slot(CLOSE_EVERY_SECONDS, now)
    for installation, day in due:
        await enqueue(
            "fiscal.close_shift",
            job_id=f"fiscal.close_shift:{installation.id}:{period}",
            installation_id=str(installation.id),
            day=day.isoformat(),
        )
    return len(due)


@job("fiscal.close_shift")
async def close_shift_job(installation_id: str, day: str, *, settings: Settings) -> dict:
    installation = await PluginInstallation.get_or_none(id=installation_id, enabled=True)
    if installation is None:
        return {"skipped": "The installation was removed or disabled."}
    async with speaking_for(installation.organization_id):  # type: ignore[attr-defined]
        row = await service.close_shift(settings, installation, datetime.fromisoformat(day).date())
    return {"status": row.status, "message": row.message}


@periodic(seconds=FOLLOW_EVERY_SECONDS, name="fiscal.follow_receipts")
async def follow_receipts(*, now: datetime | None = None) -> int:
    """Queue ``fiscal.follow_receipt`` for every pending receipt nobody is working on."""
    due = await service.receipts_to_follow(now)
    period = slot(FOLLOW_EVERY_SECONDS, now)
    for receipt_id, _organization_id in due:
        await enqueue(
            "fiscal.follow_receipt", job_id=f"fiscal.follow_receipt:{receipt_id}:{period}", receipt_id=str(receipt_id)
        )
    return len(due)


@job("fiscal.follow_receipt")
async def follow_receipt(receipt_id: str, *, settings: Settings) -> dict:
    """One more try at a pending receipt; a failure that may pass waits for the next sweep."""
    row = await FiscalReceipt.get_or_none(id=receipt_id)
    if row is None or row.status != "pending":
        return {"skipped": "not pending"}
    async with speaking_for(row.organization_id):  # type: ignore[attr-defined]
        try:
            done = await service.issue(settings, row.id)
        except PluginError as exc:
            return {"pending": exc.message}
    return {"status": done.status if done is not None else "busy"}
