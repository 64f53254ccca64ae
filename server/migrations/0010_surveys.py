from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

# SQLite cannot make a column nullable in place: Tortoise rebuilds the notification table for
# the AlterField below and the copy loses its unique constraint and indexes. Put them back
# (same names as 0007 gave them); PostgreSQL alters the column in place and keeps them.
SQLITE_NOTIFICATION_INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_notificatio_order_i_8969ab" ON "notification" ("order_id", "source_event_id", "position")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_created_0db009" ON "notification" ("created_at")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_state_8da97a" ON "notification" ("state")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_provide_7556dd" ON "notification" ("provider_message_id")',
)


async def restore_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for sql in SQLITE_NOTIFICATION_INDEXES:
        await schema_editor.client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('crm', '0009_oauth_clients')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Survey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=8)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('ticket', fields.ForeignKeyField('crm.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('channel', fields.CharField(default='', max_length=16)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('nps', fields.IntField(null=True)),
                ('csat', fields.IntField(null=True)),
                ('ces', fields.IntField(null=True)),
                ('comment', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('answered_on', fields.DateField(null=True)),
                ('locale', fields.CharField(default='', max_length=8)),
                ('detractor', fields.BooleanField(default=False)),
                ('follow_up', fields.ForeignKeyField('crm.Activity', source_field='follow_up_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'survey', 'app': 'crm', 'unique_together': (('order',), ('ticket',)), 'indexes': [Index(fields=['organization_id', 'answered_at'])], 'pk_attr': 'id', 'table_description': 'One survey of one order or one ticket (the unique constraints make a second one'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='SurveySettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('nps_enabled', fields.BooleanField(default=True)),
                ('nps_status', fields.CharField(default='delivered', max_length=48)),
                ('nps_delay_days', fields.IntField(default=3)),
                ('support_enabled', fields.BooleanField(default=True)),
                ('support_delay_minutes', fields.IntField(default=0)),
                ('link_days', fields.IntField(default=30)),
            ],
            options={'table': 'survey_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': 'When surveys go out, per organization. No row: the defaults below.'},
            bases=['TenantModel'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='order',
            field=fields.ForeignKeyField('crm.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Notification',
            name='survey',
            field=fields.ForeignKeyField('crm.Survey', source_field='survey_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddConstraint(
            model_name='Notification',
            constraint=UniqueConstraint(fields=('survey', 'position'), name=None),
        ),
        ops.RunPython(restore_sqlite_indexes, ops.RunPython.noop),
    ]
