"""The background job that applies a bulk action, item by item (server/bulk/service.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from server.audit import service as audit
from server.auth.models import User
from server.auth.principal import for_user
from server.auth.scope import Scope
from server.bulk import service
from server.bulk.models import BulkJob, BulkJobItem
from server.core.errors import PublicError
from server.i18n import use_locale
from server.jobs.registry import job
from server.organizations.models import Organization

log = logging.getLogger("crm.bulk")


async def _scope_of(bulk: BulkJob) -> Scope | None:
    """The person who asked, with their role as it is now (a member removed or demoted since
    gets refusals, not their old rights)."""
    user = await User.get_or_none(id=bulk.requested_by_id, is_active=True) if bulk.requested_by_id else None
    organization = await Organization.get(id=bulk.organization_id)
    if user is None:
        return None
    try:
        principal = await for_user(user, organization.slug)
    except PublicError:
        return None
    if principal.organization is None or principal.role is None:
        return None
    return Scope(principal)


@job("bulk.run")
async def run(bulk_job_id: str) -> None:
    """Apply every pending item. Safe to run again: applied and refused items are skipped."""
    bulk = await BulkJob.get_or_none(id=UUID(bulk_job_id))
    if bulk is None or bulk.state == "done":
        return
    with use_locale(bulk.locale):
        await BulkJob.filter(id=bulk.id).update(state="running", updated_at=datetime.now(UTC))
        scope = await _scope_of(bulk)
        pending = await BulkJobItem.filter(job_id=bulk.id, state="pending").order_by("position")
        for n, item in enumerate(pending, 1):
            if scope is None:
                await service.refuse(item, "FORBIDDEN", service.refuse_all_message(), None)
            else:
                await service.apply_item(scope, bulk, item)
            if n % service.PROGRESS_EVERY == 0:
                await service.count_progress(bulk)
        await service.count_progress(bulk)
        now = datetime.now(UTC)
        updated = (
            await BulkJob.filter(id=bulk.id).exclude(state="done").update(state="done", finished_at=now, updated_at=now)
        )
        if updated and scope is not None:
            await audit.record(
                scope,
                "bulk.finish",
                bulk,
                {"succeeded": [None, bulk.succeeded], "refused": [None, bulk.refused]},
            )
        log.info("bulk job %s done: %s succeeded, %s refused", bulk.id, bulk.succeeded, bulk.refused)
