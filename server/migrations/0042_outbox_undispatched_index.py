from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# The relay takes the oldest undispatched events, a batch at a time (server/jobs/relay.py).
# With an index on dispatched_at, each pass fetched every waiting event and sorted them to take
# the first batch: a backlog of 30,000 events (a shop flipping 30,000 orders) made every pass
# read and sort 30,000 rows, and the planner kept choosing that index whenever its statistics
# were older than the surge. The partial index below holds only the waiting events, in the
# relay's order, so a pass reads just its batch; the plain index is dropped so that no plan can
# go back to the sort (housekeeping finds old events by created_at). A plain SQL operation:
# Tortoise's Index has no WHERE; SQLite and PostgreSQL both know partial indexes.
UNDISPATCHED = "outbox_event_undispatched"
PLAIN = "idx_outbox_even_dispatc_dd6e58"


class DropFieldIndex(ops.AlterField):
    """``AlterField`` to a field without ``db_index``, whose database side only drops the index:
    Tortoise's SQLite ``AlterField`` rebuilds the table and loses its other indexes."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor._run_sql(f"DROP INDEX IF EXISTS {PLAIN}")

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor._run_sql(f"CREATE INDEX IF NOT EXISTS {PLAIN} ON outbox_event (dispatched_at)")


class Migration(migrations.Migration):
    dependencies = [("crm", "0041_price_history")]

    initial = False

    operations = [
        DropFieldIndex(
            model_name="OutboxEvent",
            name="dispatched_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {UNDISPATCHED} ON outbox_event (created_at, id) WHERE dispatched_at IS NULL",
            f"DROP INDEX IF EXISTS {UNDISPATCHED}",
        ),
    ]
