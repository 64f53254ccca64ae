"""Job bookkeeping: the in-process queue, and the visible record of jobs that failed for good."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class JobRun(Model):
    """One job by its deterministic id. In process (no Redis) this table is the queue itself
    and the unique job id is what makes enqueueing twice a no-op. With arq on Redis only jobs
    that failed after their last try are recorded here (Redis holds the queue)."""

    id = fields.IntField(primary_key=True)
    job_id = fields.CharField(max_length=255, unique=True)
    name = fields.CharField(max_length=128, db_index=True)
    kwargs = fields.JSONField(default=dict)
    state = fields.CharField(max_length=16, default="queued", db_index=True)  # queued, running, done, failed
    attempts = fields.IntField(default=0)
    run_after = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job_run"
