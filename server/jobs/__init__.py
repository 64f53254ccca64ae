"""Background work: the outbox relay, job functions and the workers that run them (arq on
Redis with ``crm worker``, or in process when there is no REDIS_URL). See docs/jobs.md."""

from __future__ import annotations

import importlib
import os

# Modules whose import registers jobs (server/jobs/registry.py). A new domain with background
# work adds itself here; tests add theirs with CRM_JOB_MODULES (comma separated).
JOB_MODULES = (
    "server.jobs.plugin_events",
    "server.jobs.housekeeping",
    "server.marketplace.service",
    "server.shipments.service",
    "server.notifications.jobs",
    "server.surveys.jobs",
    "server.campaigns.jobs",
    "server.analytics.jobs",
    "server.webhooks.jobs",
    "server.imports.jobs",
    "server.email.jobs",
    "server.exports.jobs",
    "server.bulk.jobs",
    "server.conversations.jobs",
    "server.selfservice.jobs",
    "server.attachments.jobs",
    "server.fiscal.jobs",
)


def load_job_modules() -> None:
    extra = [m.strip() for m in os.environ.get("CRM_JOB_MODULES", "").split(",") if m.strip()]
    for module in (*JOB_MODULES, *extra):
        importlib.import_module(module)
